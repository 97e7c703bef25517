import Storage

/// A user account as the domain sees it. Deleted accounts keep their id and read as anonymised
/// (`deleted-<id>`, "Deleted user", no email); the HTTP layer renders either the own-account view
/// (`Me`) or the public profile from it.
public struct User: Sendable, Equatable, Identifiable {
    public var id: Int64
    public var username: String
    /// Nil once the account is deleted.
    public var email: String?
    public var displayName: String
    public var bio: String
    public var avatarURL: String
    public var isAdmin: Bool
    public var isDisabled: Bool
    public var isDeleted: Bool
    /// Unix milliseconds.
    public var createdAt: Int64
    /// Unix milliseconds.
    public var updatedAt: Int64

    public init(
        id: Int64, username: String, email: String?, displayName: String, bio: String, avatarURL: String,
        isAdmin: Bool, isDisabled: Bool, isDeleted: Bool, createdAt: Int64, updatedAt: Int64
    ) {
        self.id = id
        self.username = username
        self.email = email
        self.displayName = displayName
        self.bio = bio
        self.avatarURL = avatarURL
        self.isAdmin = isAdmin
        self.isDisabled = isDisabled
        self.isDeleted = isDeleted
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    init(_ record: UserRecord) {
        self.init(
            id: record.id, username: record.username, email: record.email, displayName: record.displayName,
            bio: record.bio, avatarURL: record.avatarURL, isAdmin: record.isAdmin, isDisabled: record.isDisabled,
            isDeleted: record.isDeleted, createdAt: record.createdAt, updatedAt: record.updatedAt)
    }
}

/// The tokens handed to a client that signed in or refreshed.
public struct TokenPair: Sendable, Equatable {
    /// RS256 JWT for `Authorization: Bearer`.
    public var accessToken: String
    /// Seconds the access token is valid for.
    public var accessExpiresIn: Int
    /// Opaque, single-use: exchanging it spends it (rotation).
    public var refreshToken: String
    /// Seconds the refresh token is valid for.
    public var refreshExpiresIn: Int
    /// The session (refresh-token family) the tokens belong to.
    public var sessionID: String

    public init(
        accessToken: String, accessExpiresIn: Int, refreshToken: String, refreshExpiresIn: Int, sessionID: String
    ) {
        self.accessToken = accessToken
        self.accessExpiresIn = accessExpiresIn
        self.refreshToken = refreshToken
        self.refreshExpiresIn = refreshExpiresIn
        self.sessionID = sessionID
    }
}

/// What register, login and refresh return: the account and its new tokens.
public struct AuthResult: Sendable, Equatable {
    public var user: User
    public var tokens: TokenPair

    public init(user: User, tokens: TokenPair) {
        self.user = user
        self.tokens = tokens
    }
}

/// The authenticated caller of a request, from a verified access token.
public struct Principal: Sendable, Equatable {
    public var userID: Int64
    /// The session the access token was issued for (`sid`).
    public var sessionID: String
    /// The access token's `jti`, for revoking this very token at logout.
    public var tokenID: String
    /// When the access token expires, unix milliseconds.
    public var expiresAt: Int64
    /// From the account's current state (cached up to `authCacheTTL`), not from the token.
    public var isAdmin: Bool

    public init(userID: Int64, sessionID: String, tokenID: String, expiresAt: Int64, isAdmin: Bool) {
        self.userID = userID
        self.sessionID = sessionID
        self.tokenID = tokenID
        self.expiresAt = expiresAt
        self.isAdmin = isAdmin
    }
}

/// Outcome of the synchronous authentication fast path.
public enum CachedAuthentication: Sendable, Equatable {
    case valid(Principal)
    case invalid(AccountError)
    /// The token verified, but deciding needs the database: call ``AccountService/authenticate(_:)``.
    case needsLookup
}

/// Where a sign-in comes from, recorded on its session and shown in the session list.
public struct ClientInfo: Sendable, Equatable {
    public static let maximumDeviceLength = 200
    public static let maximumIPLength = 64

    public var ip: String
    public var device: String

    /// Keeps at most ``maximumDeviceLength`` characters of `device` (typically the User-Agent) and
    /// ``maximumIPLength`` of `ip`, without control characters: both are client-supplied and end up in
    /// JSON and logs.
    public init(ip: String, device: String) {
        self.ip = Self.sanitize(ip, limit: Self.maximumIPLength)
        self.device = Self.sanitize(device, limit: Self.maximumDeviceLength)
    }

    private static func sanitize(_ text: String, limit: Int) -> String {
        var result = ""
        var count = 0
        for character in text where !character.unicodeScalars.contains(where: \.isControl) {
            guard count < limit else { break }
            result.append(character)
            count += 1
        }
        return result
    }
}

/// An active session of the user, for the session list.
public struct SessionInfo: Sendable, Equatable {
    public var id: String
    public var device: String
    public var ip: String
    /// Unix milliseconds.
    public var createdAt: Int64
    /// Unix milliseconds of the sign-in or last refresh.
    public var lastUsedAt: Int64
    /// True for the session of the access token that asked.
    public var current: Bool

    public init(id: String, device: String, ip: String, createdAt: Int64, lastUsedAt: Int64, current: Bool) {
        self.id = id
        self.device = device
        self.ip = ip
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.current = current
    }
}

/// One page of a user search.
public struct UserSearchPage: Sendable, Equatable {
    public var users: [User]
    /// Pass back as `cursor` for the next page; nil on the last page.
    public var nextCursor: String?

    public init(users: [User], nextCursor: String?) {
        self.users = users
        self.nextCursor = nextCursor
    }
}

extension Unicode.Scalar {
    /// General category Cc: C0 and C1 controls, DEL.
    var isControl: Bool { properties.generalCategory == .control }
}
