import ChatCore
import HTTPServer

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `/api/v1/auth/*`, `/api/v1/users*` and `/.well-known/jwks.json`: the HTTP face of `AccountService`.
/// Rules live in the service; these handlers decode, rate-limit, call, and encode.
struct AccountRoutes: Sendable {
    let service: AccountService
    /// Deleting an account also takes it out of its groups.
    let rooms: RoomService
    let auth: BearerAuthentication
    let loginLimiter: RateLimiter
    let registerLimiter: RateLimiter
    /// The delivery path of an image the user uploaded (`avatar_public_id`); throws for anything else.
    let avatarPath: @Sendable (_ publicID: String, _ userID: Int64) async throws -> String

    func register(in router: inout Router) {
        router.post("/api/v1/auth/register") { request, context in try register(request, context) }
        router.post("/api/v1/auth/login") { request, context in try login(request, context) }
        router.post("/api/v1/auth/refresh") { request, context in try refresh(request, context) }
        router.post(
            "/api/v1/auth/logout",
            auth.handler { _, _, principal in
                try await service.logout(principal)
                return HTTPResponse(status: .noContent)
            })
        router.post(
            "/api/v1/auth/logout-all",
            auth.handler { _, _, principal in
                try await service.logoutAll(userID: principal.userID)
                return HTTPResponse(status: .noContent)
            })
        router.get(
            "/api/v1/auth/sessions",
            auth.handler { _, _, principal in
                let sessions = try await service.sessions(principal)
                return .json(SessionsJSON(sessions: sessions.map(SessionJSON.init(_:))))
            })
        router.delete(
            "/api/v1/auth/sessions/:id",
            auth.handler { request, _, principal in
                try await service.revokeSession(principal, sessionID: request.pathParameters["id"] ?? "")
                return HTTPResponse(status: .noContent)
            })
        router.get(
            "/api/v1/users/me",
            auth.handler { _, _, principal in
                .json(MeJSON(try await service.me(userID: principal.userID)))
            })
        router.patch(
            "/api/v1/users/me",
            auth.handler { request, _, principal in
                let body = try request.decodeJSON(ProfileUpdateBody.self)
                var avatar = body.avatar_url
                if let publicID = body.avatar_public_id {
                    // Absolute, as profiles are shown anywhere: on the host the client reached us by.
                    let host = request.headers["Host"] ?? "127.0.0.1"
                    avatar = "http://" + host + (try await avatarPath(publicID, principal.userID))
                }
                let user = try await service.updateProfile(
                    userID: principal.userID, displayName: body.display_name, bio: body.bio, avatarURL: avatar)
                return .json(MeJSON(user))
            })
        router.put(
            "/api/v1/users/me/password",
            auth.handler { request, _, principal in
                let body = try request.decodeJSON(PasswordChangeBody.self)
                try Required.check(["current_password": body.current_password, "new_password": body.new_password])
                // Checking a password is a login attempt: limited like one, or a stolen token could guess it.
                try RateLimitCheck.require(
                    loginLimiter, key: "password:\(principal.userID)", what: "password attempts")
                try await service.changePassword(
                    principal, currentPassword: body.current_password ?? "", newPassword: body.new_password ?? "")
                return HTTPResponse(status: .noContent)
            })
        router.delete(
            "/api/v1/users/me",
            auth.handler { request, _, principal in
                let body = try request.decodeJSON(PasswordBody.self)
                try Required.check(["password": body.password])
                try RateLimitCheck.require(
                    loginLimiter, key: "password:\(principal.userID)", what: "password attempts")
                try await service.deleteAccount(principal, password: body.password ?? "")
                // Groups must not keep an owner who can never act again: leave them all, handing ownership on.
                try await rooms.leaveAllGroups(userID: principal.userID)
                return HTTPResponse(status: .noContent)
            })
        router.get(
            "/api/v1/users/:id",
            auth.handler { request, _, principal in
                guard let id = request.pathParameters["id"].flatMap({ Int64($0) }), id > 0 else {
                    throw HTTPError(.badRequest, code: "invalid_id", message: "User ids are positive integers.")
                }
                return .json(ProfileJSON(try await service.profile(id: id, viewerID: principal.userID)))
            })
        router.get(
            "/api/v1/users",
            auth.handler { request, _, principal in
                let limit = try Self.limit(request.queryValue("limit"))
                let page = try await service.searchUsers(
                    prefix: request.queryValue("q") ?? "", limit: limit, cursor: request.queryValue("cursor"),
                    viewerID: principal.userID)
                return .json(UserPageJSON(users: page.users.map(ProfileJSON.init), next_cursor: page.nextCursor))
            })
        router.get("/.well-known/jwks.json") { _, _ in
            var response = HTTPResponse.json(service.jwks())
            response.headers.set("Cache-Control", "public, max-age=300")
            return .now(response)
        }
    }

    // MARK: Handlers without a signed-in user

    private func register(_ request: HTTPRequest, _ context: RequestContext) throws -> Reply {
        try RateLimitCheck.require(registerLimiter, key: context.clientIP, what: "registrations")
        let body = try request.decodeJSON(RegisterBody.self)
        try Required.check(["username": body.username, "email": body.email, "password": body.password])
        let client = Self.client(request, context)
        return accountReply {
            let result = try await service.register(
                username: body.username ?? "", email: body.email ?? "", password: body.password ?? "",
                displayName: body.display_name, client: client)
            return .json(AuthenticatedJSON(result), status: .created)
        }
    }

    private func login(_ request: HTTPRequest, _ context: RequestContext) throws -> Reply {
        try RateLimitCheck.require(loginLimiter, key: "ip:" + context.clientIP, what: "login attempts")
        let body = try request.decodeJSON(LoginBody.self)
        try Required.check(["login": body.login, "password": body.password])
        let login = body.login ?? ""
        // Keyed on the login as the service looks it up (trimmed, case-insensitive), so padding or case changes
        // do not open fresh buckets for the same account.
        let key = "login:" + AccountValidation.trimmed(login).lowercased()
        try RateLimitCheck.require(loginLimiter, key: key, what: "login attempts")
        let client = Self.client(request, context)
        return accountReply {
            let result = try await service.login(login: login, password: body.password ?? "", client: client)
            return .json(AuthenticatedJSON(result))
        }
    }

    private func refresh(_ request: HTTPRequest, _ context: RequestContext) throws -> Reply {
        // Unauthenticated like login, but each legitimate client needs one every access-token lifetime: the per-IP
        // budget is the authenticated API's (`api_per_minute`), a bound on floods of junk tokens, not on use.
        try RateLimitCheck.require(auth.apiBudget, key: "refresh-ip:" + context.clientIP, what: "token refreshes")
        let body = try request.decodeJSON(RefreshBody.self)
        try Required.check(["refresh_token": body.refresh_token])
        let client = Self.client(request, context)
        return accountReply {
            let result = try await service.refresh(refreshToken: body.refresh_token ?? "", client: client)
            return .json(AuthenticatedJSON(result))
        }
    }

    private static func client(_ request: HTTPRequest, _ context: RequestContext) -> ClientInfo {
        ClientInfo(ip: context.clientIP, device: request.headers["User-Agent"] ?? "")
    }

    private static func limit(_ text: String?) throws(HTTPError) -> Int {
        guard let text else { return 20 }
        guard let limit = Int(text), (1...100).contains(limit) else {
            throw HTTPError(
                .unprocessableEntity, code: "validation_failed", message: "limit must be 1 to 100.",
                fields: ["limit": "must be a whole number from 1 to 100"])
        }
        return limit
    }
}

/// Missing required fields, all reported at once in the validation shape.
enum Required {
    static func check(_ values: KeyValuePairs<String, String?>) throws(HTTPError) {
        var fields: [String: String] = [:]
        for (name, value) in values where value == nil { fields[name] = "is required" }
        guard fields.isEmpty else {
            throw HTTPError(
                .unprocessableEntity, code: "validation_failed", message: "Some fields are invalid.", fields: fields)
        }
    }
}

// Request bodies. Fields are optional so a missing one is a validation message, not a decoding failure.
struct RegisterBody: Decodable {
    let username: String?
    let email: String?
    let password: String?
    let display_name: String?
}

struct LoginBody: Decodable {
    let login: String?
    let password: String?
}

struct RefreshBody: Decodable {
    let refresh_token: String?
}

struct ProfileUpdateBody: Decodable {
    let display_name: String?
    let bio: String?
    let avatar_url: String?
    /// One of the caller's image uploads (`POST /api/v1/uploads`); its delivery URL becomes `avatar_url`.
    let avatar_public_id: String?
}

struct PasswordChangeBody: Decodable {
    let current_password: String?
    let new_password: String?
}

struct PasswordBody: Decodable {
    let password: String?
}
