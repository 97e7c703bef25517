/// A row of `users`, as stored.
public struct UserRecord: Sendable, Equatable {
    public var id: Int64
    /// Lower-case; `deleted-<id>` once the account is deleted.
    public var username: String
    /// As registered; nil once the account is deleted.
    public var email: String?
    public var displayName: String
    public var bio: String
    public var avatarURL: String
    /// bcrypt hash; empty once the account is deleted.
    public var passwordHash: String
    public var isAdmin: Bool
    public var isDisabled: Bool
    /// Unix milliseconds of the deletion, nil for a live account.
    public var deletedAt: Int64?
    public var createdAt: Int64
    public var updatedAt: Int64

    public var isDeleted: Bool { deletedAt != nil }

    public init(
        id: Int64, username: String, email: String?, displayName: String, bio: String, avatarURL: String,
        passwordHash: String, isAdmin: Bool, isDisabled: Bool, deletedAt: Int64?, createdAt: Int64, updatedAt: Int64
    ) {
        self.id = id
        self.username = username
        self.email = email
        self.displayName = displayName
        self.bio = bio
        self.avatarURL = avatarURL
        self.passwordHash = passwordHash
        self.isAdmin = isAdmin
        self.isDisabled = isDisabled
        self.deletedAt = deletedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The values of a user to insert. The store derives the lookup keys (`email_key`,
/// `display_name_key`) itself, so that every writer normalizes them the same way.
public struct NewUserRecord: Sendable, Equatable {
    public var username: String
    public var email: String
    public var displayName: String
    public var bio: String
    public var avatarURL: String
    public var passwordHash: String
    public var isAdmin: Bool
    public var createdAt: Int64

    public init(
        username: String, email: String, displayName: String, bio: String = "", avatarURL: String = "",
        passwordHash: String, isAdmin: Bool = false, createdAt: Int64
    ) {
        self.username = username
        self.email = email
        self.displayName = displayName
        self.bio = bio
        self.avatarURL = avatarURL
        self.passwordHash = passwordHash
        self.isAdmin = isAdmin
        self.createdAt = createdAt
    }
}

/// A partial profile update: nil leaves a field as it is.
public struct ProfileChanges: Sendable, Equatable {
    public var displayName: String?
    public var bio: String?
    public var avatarURL: String?

    public init(displayName: String? = nil, bio: String? = nil, avatarURL: String? = nil) {
        self.displayName = displayName
        self.bio = bio
        self.avatarURL = avatarURL
    }
}

/// A row of `sessions`: one login on one device, i.e. one family of refresh tokens.
public struct SessionRecord: Sendable, Equatable {
    public var id: String
    public var userID: Int64
    public var device: String
    public var ip: String
    public var createdAt: Int64
    public var lastUsedAt: Int64
    /// Expiry of the newest refresh token of the family.
    public var expiresAt: Int64
    public var revokedAt: Int64?

    public var isRevoked: Bool { revokedAt != nil }

    /// True if the session can still be refreshed at `now`.
    public func isActive(at now: Int64) -> Bool { revokedAt == nil && now < expiresAt }

    public init(
        id: String, userID: Int64, device: String, ip: String, createdAt: Int64, lastUsedAt: Int64,
        expiresAt: Int64, revokedAt: Int64? = nil
    ) {
        self.id = id
        self.userID = userID
        self.device = device
        self.ip = ip
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }
}

/// A row of `refresh_tokens`. Only the hash of the token is ever stored.
public struct RefreshTokenRecord: Sendable, Equatable {
    /// Lowercase hex SHA-256 of the token.
    public var tokenHash: String
    public var sessionID: String
    public var createdAt: Int64
    public var expiresAt: Int64
    /// Set once the token was rotated; a spent token presented again is reuse.
    public var usedAt: Int64?

    public var isUsed: Bool { usedAt != nil }

    public init(tokenHash: String, sessionID: String, createdAt: Int64, expiresAt: Int64, usedAt: Int64? = nil) {
        self.tokenHash = tokenHash
        self.sessionID = sessionID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
    }
}

/// A revoked access token: its `jti`, and when it expires (after which the entry can go).
public struct RevokedTokenRecord: Sendable, Equatable, Hashable {
    public var jti: String
    public var expiresAt: Int64

    public init(jti: String, expiresAt: Int64) {
        self.jti = jti
        self.expiresAt = expiresAt
    }
}

/// Why an account write was refused. Other failures are ``DatabaseError``s.
public enum AccountStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Another user has this username.
    case usernameTaken
    /// Another user has this email address (compared case-insensitively).
    case emailTaken
    /// A row holds a value of the wrong type or out of range: the file was edited by hand or is damaged.
    case corruptRow(table: String, column: String)

    public var description: String {
        switch self {
        case .usernameTaken: return "the username is taken"
        case .emailTaken: return "the email address is taken"
        case .corruptRow(let table, let column): return "unexpected value in \(table).\(column)"
        }
    }
}
