import ChatCore
import HTTPServer

/// `GET /ws` (the realtime protocol, docs/realtime-protocol.md), `POST /api/v1/ws/ticket` and
/// `GET /api/v1/users/:id/presence`.
struct RealtimeRoutes: Sendable {
    let context: RealtimeContext
    let tickets: WebSocketTickets
    let presence: PresenceService
    let auth: BearerAuthentication
    /// `cors.allowed_origins`: browser origins besides the server's own that may open `/ws`.
    let allowedOrigins: [String]

    func register(in router: inout Router) {
        router.get("/ws") { request, _ in try upgrade(request) }
        router.post(
            "/api/v1/ws/ticket",
            auth.handler { _, _, principal in
                let issued = tickets.issue(for: principal)
                return .json(TicketJSON(ticket: issued.ticket, expires_in: issued.expiresIn / 1000), status: .created)
            })
        router.get(
            "/api/v1/users/:id/presence",
            auth.handler { request, _, principal in
                let status = try await presence.presence(of: try request.id("id"), viewerID: principal.userID)
                return .json(
                    PresenceJSON(
                        user_id: status.userID, status: status.online ? "online" : "offline",
                        last_seen_at: status.lastSeenAt))
            })
    }

    /// The handshake (RFC 6455 §4.2), then who is connecting: a ticket, or a bearer token in the header. Every
    /// refusal is a JSON error before the upgrade.
    private func upgrade(_ request: HTTPRequest) throws -> Reply {
        let response = try WebSocketHandshake.response(to: request) { isAllowed(origin: $0, request: request) }.get()
        if request.queryValue("token") != nil || request.queryValue("access_token") != nil {
            throw HTTPError(
                .unauthorized, code: "token_in_url",
                message: "Access tokens are not accepted in the URL: send Authorization: Bearer, or use a ticket.",
                headers: ["WWW-Authenticate": "Bearer"])
        }
        if let ticket = request.queryValue("ticket") {
            guard let principal = tickets.redeem(ticket) else {
                throw HTTPError(
                    .unauthorized, code: "invalid_ticket",
                    message: "The ticket is unknown, used or expired; get a new one from POST /api/v1/ws/ticket.")
            }
            return .now(accept(response, principal))
        }
        guard let token = BearerAuthentication.bearerToken(in: request) else {
            throw HTTPError(
                .unauthorized, code: "unauthorized",
                message: "Send an access token (Authorization: Bearer <token>) or a ticket (?ticket=).",
                headers: ["WWW-Authenticate": "Bearer"])
        }
        switch context.accounts.authenticateCached(token) {
        case .valid(let principal):
            return .now(accept(response, principal))
        case .invalid(let error):
            throw error.httpError
        case .needsLookup:
            return accountReply { [context] in
                let principal = try await context.accounts.authenticate(token)
                return accept(response, principal)
            }
        }
    }

    private func accept(_ response: HTTPResponse, _ principal: Principal) -> HTTPResponse {
        var response = response
        let context = self.context
        response.body = .webSocket(
            WebSocketUpgrade(
                maxMessageBytes: context.settings.maxMessageBytes, maxOutboundBytes: context.settings.maxOutboundBytes
            ) { loop in
                RealtimeSession(principal: principal, context: context, lane: context.lanes.lane(for: loop))
            })
        return response
    }

    /// Cross-site WebSocket hijacking guard (RFC 6455 §10.2): a browser always sends `Origin`; it must be the
    /// server's own (same host and port as `Host`) or listed in `cors.allowed_origins` (`*` allows any).
    /// Non-browser clients send none and are let through; they authenticate like any API client.
    private func isAllowed(origin: String?, request: HTTPRequest) -> Bool {
        guard let origin else { return true }
        if allowedOrigins.contains("*") || allowedOrigins.contains(origin) { return true }
        guard let host = request.headers["Host"], let schemeEnd = origin.range(of: "://") else { return false }
        return origin[schemeEnd.upperBound...].lowercased() == host.lowercased()
    }
}

struct TicketJSON: Encodable {
    let ticket: String
    let expires_in: Int64
}
