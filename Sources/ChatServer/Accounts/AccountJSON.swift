import ChatCore

/// The JSON shapes of the accounts API (see README, "Accounts"). Keys are snake_case as clients expect.
struct MeJSON: Encodable {
    let id: Int64
    let username: String
    let email: String?
    let display_name: String
    let bio: String
    let avatar_url: String
    let is_admin: Bool
    let created_at: Int64
    let updated_at: Int64

    init(_ user: User) {
        id = user.id
        username = user.username
        email = user.email
        display_name = user.displayName
        bio = user.bio
        avatar_url = user.avatarURL
        is_admin = user.isAdmin
        created_at = user.createdAt
        updated_at = user.updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, username, email, display_name, bio, avatar_url, is_admin, created_at, updated_at
    }

    // `email` is null for a deleted account: say so explicitly rather than leaving the key out.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(username, forKey: .username)
        try container.encode(email, forKey: .email)
        try container.encode(display_name, forKey: .display_name)
        try container.encode(bio, forKey: .bio)
        try container.encode(avatar_url, forKey: .avatar_url)
        try container.encode(is_admin, forKey: .is_admin)
        try container.encode(created_at, forKey: .created_at)
        try container.encode(updated_at, forKey: .updated_at)
    }
}

/// A user as others see them; deleted accounts keep their id and show as "Deleted user".
struct ProfileJSON: Encodable {
    let id: Int64
    let username: String
    let display_name: String
    let bio: String
    let avatar_url: String
    let created_at: Int64
    let deleted: Bool

    init(_ user: User) {
        id = user.id
        username = user.username
        display_name = user.displayName
        bio = user.bio
        avatar_url = user.avatarURL
        created_at = user.createdAt
        deleted = user.isDeleted
    }
}

struct TokensJSON: Encodable {
    let access_token: String
    let token_type = "Bearer"
    let expires_in: Int
    let refresh_token: String
    let refresh_expires_in: Int
    let session_id: String

    init(_ pair: TokenPair) {
        access_token = pair.accessToken
        expires_in = pair.accessExpiresIn
        refresh_token = pair.refreshToken
        refresh_expires_in = pair.refreshExpiresIn
        session_id = pair.sessionID
    }
}

struct AuthenticatedJSON: Encodable {
    let user: MeJSON
    let tokens: TokensJSON

    init(_ result: AuthResult) {
        user = MeJSON(result.user)
        tokens = TokensJSON(result.tokens)
    }
}

struct SessionJSON: Encodable {
    let id: String
    let device: String
    let ip: String
    let created_at: Int64
    let last_used_at: Int64
    let current: Bool

    init(_ session: SessionInfo) {
        id = session.id
        device = session.device
        ip = session.ip
        created_at = session.createdAt
        last_used_at = session.lastUsedAt
        current = session.current
    }
}

struct SessionsJSON: Encodable {
    let sessions: [SessionJSON]
}

struct UserPageJSON: Encodable {
    let users: [ProfileJSON]
    let next_cursor: String?

    // Synthesized encoding would drop a nil cursor; clients look for an explicit null on the last page.
    enum CodingKeys: String, CodingKey { case users, next_cursor }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(users, forKey: .users)
        try container.encode(next_cursor, forKey: .next_cursor)
    }
}
