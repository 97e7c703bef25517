import Security
import Storage

extension AccountService {
    // MARK: Own account

    /// The caller's own account.
    public func me(userID: Int64) async throws(AccountError) -> User {
        let record = try await read { [store] db in try store.user(id: userID, db) }
        guard let record, !record.isDeleted else { throw .notFound }
        return User(record)
    }

    /// Changes the given profile fields (nil leaves one as it is) and returns the account.
    public func updateProfile(
        userID: Int64, displayName: String? = nil, bio: String? = nil, avatarURL: String? = nil
    ) async throws(AccountError) -> User {
        let changes = try AccountValidation.validateProfileChanges(
            displayName: displayName, bio: bio, avatarURL: avatarURL)
        let now = clock()
        let record = try await write { [store] db in
            try store.updateProfile(
                id: userID,
                ProfileChanges(displayName: changes.displayName, bio: changes.bio, avatarURL: changes.avatarURL),
                now: now, db)
        }
        guard let record else { throw .notFound }
        return User(record)
    }

    /// Replaces the password after checking the current one, and revokes every session but the
    /// caller's: whoever else held one may have known the old password.
    public func changePassword(
        _ principal: Principal, currentPassword: String, newPassword: String
    ) async throws(AccountError) {
        let record = try await liveUser(principal.userID)
        if let problem = AccountValidation.passwordError(newPassword, username: record.username) {
            throw .validation(["new_password": problem])
        }
        guard try await verifyPassword(currentPassword, hash: record.passwordHash, rehashCost: nil).matches else {
            throw .invalidCredentials
        }
        let newHash = try await hashPassword(newPassword, cost: policy.bcryptCost)
        let now = clock()
        let revoked = try await write { [store] db in
            guard try store.updatePasswordHash(id: record.id, to: newHash, expected: record.passwordHash, now: now, db)
            else {
                // Changed (or the account deleted) since the current password was checked.
                throw AccountError.invalidCredentials
            }
            return try store.revokeSessions(userID: record.id, keeping: principal.sessionID, now: now, db)
        }
        publishRevoked(sessions: revoked, userID: record.id)
    }

    /// Deletes the caller's account after checking the password: the row is anonymised (see
    /// `AccountStore.anonymiseUser`), the email freed, and every session revoked.
    public func deleteAccount(_ principal: Principal, password: String) async throws(AccountError) {
        let record = try await liveUser(principal.userID)
        guard try await verifyPassword(password, hash: record.passwordHash, rehashCost: nil).matches else {
            throw .invalidCredentials
        }
        let now = clock()
        let revoked = try await write { [store] db in
            guard try store.anonymiseUser(id: record.id, now: now, db) != nil else { throw AccountError.notFound }
            return try store.revokeSessions(userID: record.id, now: now, db)
        }
        publishRevoked(sessions: revoked, userID: record.id, user: .missing)
    }

    /// The live account of an authenticated caller; a token outliving its account is no longer valid.
    private func liveUser(_ userID: Int64) async throws(AccountError) -> UserRecord {
        let record = try await read { [store] db in try store.user(id: userID, db) }
        guard let record, !record.isDeleted else { throw .invalidToken("account deleted") }
        return record
    }

    // MARK: Other users

    /// A user's public profile. Deleted users have one (anonymised); disabled ones are hidden.
    /// With `viewerID`, a user who blocked the viewer is `notFound`, exactly like one who does not exist.
    public func profile(id: Int64, viewerID: Int64? = nil) async throws(AccountError) -> User {
        let record = try await read { [store] db in
            if let viewerID { return try store.user(id: id, visibleTo: viewerID, db) }
            return try store.user(id: id, db)
        }
        guard let record, !record.isDisabled else { throw .notFound }
        return User(record)
    }

    /// Live, enabled users whose username or display name starts with `prefix` (case-insensitive),
    /// by username, `limit` (1...100) at a time. `cursor` is the previous page's `nextCursor`.
    public func searchUsers(
        prefix: String, limit: Int = 20, cursor: String? = nil, viewerID: Int64? = nil
    ) async throws(AccountError) -> UserSearchPage {
        var fields: [String: String] = [:]
        fields["limit"] = AccountValidation.searchLimitError(limit)
        var after: String?
        if let cursor, !cursor.isEmpty {
            after = Self.decodeCursor(cursor)
            if after == nil { fields["cursor"] = "is not a valid cursor" }
        }
        guard fields.isEmpty else { throw .validation(fields) }
        let key = AccountValidation.trimmed(prefix)
        let afterUsername = after
        // One row more than asked tells whether another page follows.
        let records = try await read { [store] db in
            try store.searchUsers(prefix: key, after: afterUsername, limit: limit + 1, viewerID: viewerID, db)
        }
        let page = records.prefix(limit)
        let next = records.count > limit ? page.last.map { Self.encodeCursor($0.username) } : nil
        return UserSearchPage(users: page.map(User.init), nextCursor: next)
    }

    /// The cursor is the last username of a page, base64url-encoded: opaque to clients, and always
    /// URL-safe.
    static func encodeCursor(_ username: String) -> String { Base64URL.encode(username.utf8) }

    static func decodeCursor(_ cursor: String) -> String? {
        // Usernames are at most 32 bytes: 43 characters of base64url.
        guard cursor.utf8.count <= 64, let bytes = Base64URL.decode(cursor) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    // MARK: Sessions

    /// The caller's active sessions, newest first, with the caller's own marked `current`.
    public func sessions(_ principal: Principal) async throws(AccountError) -> [SessionInfo] {
        let now = clock()
        let records = try await read { [store] db in try store.activeSessions(userID: principal.userID, now: now, db) }
        return records.map { record in
            SessionInfo(
                id: record.id, device: record.device, ip: record.ip, createdAt: record.createdAt,
                lastUsedAt: record.lastUsedAt, current: record.id == principal.sessionID)
        }
    }

    /// Revokes one of the caller's sessions; its access tokens stop working at once.
    /// ``AccountError/notFound`` for an unknown id, another user's session, or one already revoked.
    public func revokeSession(_ principal: Principal, sessionID: String) async throws(AccountError) {
        let now = clock()
        let userID = principal.userID
        let revoked = try await write { [store] db in
            try store.revokeSession(id: sessionID, userID: userID, now: now, db)
        }
        guard revoked else { throw .notFound }
        publishRevoked(sessions: [sessionID], userID: userID)
    }
}
