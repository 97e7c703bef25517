import ChatCore
import HTTPServer

/// Wraps account handlers that need a signed-in user: `Authorization: Bearer <jwt>` → `Principal`, then the
/// per-user API budget, then the handler. The common case (token verified, user and session state cached) is
/// decided on the event loop without touching the database; a cache miss looks the state up asynchronously.
struct BearerAuthentication: Sendable {
    let service: AccountService
    let apiBudget: RateLimiter

    typealias Body = @Sendable (HTTPRequest, RequestContext, Principal) async throws -> HTTPResponse

    func handler(_ body: @escaping Body) -> Handler {
        { request, context in
            guard let token = Self.bearerToken(in: request) else {
                throw HTTPError(
                    .unauthorized, code: "unauthorized",
                    message: "Send an access token: Authorization: Bearer <token>.",
                    headers: ["WWW-Authenticate": "Bearer"])
            }
            switch service.authenticateCached(token) {
            case .valid(let principal):
                try checkBudget(principal)
                return accountReply { try await body(request, context, principal) }
            case .invalid(let error):
                throw error.httpError
            case .needsLookup:
                return accountReply {
                    let principal = try await service.authenticate(token)
                    try checkBudget(principal)
                    return try await body(request, context, principal)
                }
            }
        }
    }

    private func checkBudget(_ principal: Principal) throws(HTTPError) {
        try RateLimitCheck.require(apiBudget, key: String(principal.userID), what: "requests")
    }

    /// The token of an `Authorization: Bearer` header (RFC 6750 §2.1; the scheme is case-insensitive).
    static func bearerToken(in request: HTTPRequest) -> String? {
        guard let value = request.headers["Authorization"] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, HTTPHeaders.namesEqual(parts[0], "Bearer") else { return nil }
        let token = parts[1].trimmingSpaces
        return token.isEmpty ? nil : String(token)
    }
}

/// Runs an async account handler; account errors become their HTTP answers.
func accountReply(_ body: @escaping @Sendable () async throws -> HTTPResponse) -> Reply {
    .async {
        do {
            return try await body()
        } catch {
            return accountResponse(for: error)
        }
    }
}

/// Applies a token-bucket limit: 429 `rate_limited` with `Retry-After` (RFC 6585 §4) when it is spent.
enum RateLimitCheck {
    static func require(_ limiter: RateLimiter, key: String, what: String) throws(HTTPError) {
        if case .limited(let retryAfter) = limiter.take(key, now: Double(MonotonicClock.nanoseconds()) / 1e9) {
            throw HTTPError(
                .tooManyRequests, code: "rate_limited",
                message: "Too many \(what); try again in \(retryAfter) s.", headers: ["Retry-After": String(retryAfter)]
            )
        }
    }
}
