/// Every SQL statement about accounts: users, sessions, refresh tokens and revoked access tokens
/// (tables of migration `0002_accounts`).
///
/// Methods take the ``Database`` to run on, so they compose inside one ``DatabaseWriter`` job (one
/// savepoint, hence atomic) or one ``DatabaseReaderPool`` read (one snapshot). The store keeps no
/// state; it derives the normalized lookup keys (`email_key`, `display_name_key`) itself so every
/// caller agrees on them. Times are unix milliseconds.
public struct AccountStore: Sendable {
    public init() {}

    // MARK: Keys

    /// The case-insensitive key of an email address, the form `email_key` stores and login looks up.
    public static func emailKey(_ email: String) -> String { email.lowercased() }

    /// The case-insensitive key of a display name or search prefix.
    public static func searchKey(_ text: String) -> String { text.lowercased() }

    // MARK: Users

    static let userColumns = """
        id, username, email, display_name, bio, avatar_url, password_hash, is_admin, is_disabled, deleted_at, \
        created_at, updated_at
        """

    /// Inserts a user and returns it with its new id.
    ///
    /// Throws ``AccountStoreError/usernameTaken`` or ``AccountStoreError/emailTaken`` (the username
    /// first when both are) instead of the UNIQUE violation.
    @discardableResult
    public func insertUser(_ user: NewUserRecord, _ db: Database) throws -> UserRecord {
        do {
            try db.run(Self.insertUserSQL(), Self.insertArguments(user))
        } catch let error as DatabaseError where error.isUniqueConstraintViolation {
            // Ask which index refused rather than parse SQLite's message, whose wording is not an API.
            if let conflict = try conflict(username: user.username, email: user.email, db) {
                throw conflict
            }
            throw error
        }
        let id = db.lastInsertRowID
        return UserRecord(
            id: id, username: user.username, email: user.email, displayName: user.displayName, bio: user.bio,
            avatarURL: user.avatarURL, passwordHash: user.passwordHash, isAdmin: user.isAdmin, isDisabled: false,
            deletedAt: nil, createdAt: user.createdAt, updatedAt: user.createdAt)
    }

    /// Which of `username` and `email` another user already has, if any.
    private func conflict(username: String, email: String, _ db: Database) throws -> AccountStoreError? {
        if try db.queryOne("SELECT 1 FROM users WHERE username = ?", [.text(username)]) != nil {
            return .usernameTaken
        }
        if try db.queryOne("SELECT 1 FROM users WHERE email_key = ?", [.text(Self.emailKey(email))]) != nil {
            return .emailTaken
        }
        return nil
    }

    private static func insertUserSQL(_ verb: String = "INSERT") -> String {
        """
        \(verb) INTO users (username, email, email_key, display_name, display_name_key, bio, avatar_url,
                           password_hash, is_admin, created_at, updated_at)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
        """
    }

    private static func insertArguments(_ user: NewUserRecord) -> [DatabaseValue] {
        [
            .text(user.username), .text(user.email), .text(emailKey(user.email)), .text(user.displayName),
            .text(searchKey(user.displayName)), .text(user.bio), .text(user.avatarURL), .text(user.passwordHash),
            .integer(user.isAdmin ? 1 : 0), .integer(user.createdAt),
        ]
    }

    /// Inserts many users in the caller's transaction with one prepared statement, skipping those whose
    /// username or email is taken. Returns how many were inserted. For seeding test data.
    public func insertUsers(_ users: [NewUserRecord], _ db: Database) throws -> Int {
        // `OR IGNORE` skips UNIQUE conflicts only; NOT NULL and CHECK violations still fail.
        let statement = try db.prepare(Self.insertUserSQL("INSERT OR IGNORE"))
        var inserted = 0
        for user in users {
            defer { statement.reset() }
            try statement.bind(Self.insertArguments(user))
            try statement.step()
            inserted += db.changes
        }
        return inserted
    }

    /// The user, unless they blocked `viewerID` (then nil, as for a user who does not exist).
    public func user(id: Int64, visibleTo viewerID: Int64, _ db: Database) throws -> UserRecord? {
        try db.queryOne(
            """
            SELECT \(Self.userColumns) FROM users
            WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = ?1 AND b.blocked_id = ?2)
            """, [.integer(id), .integer(viewerID)]
        ).map(Self.decodeUser)
    }

    public func user(id: Int64, _ db: Database) throws -> UserRecord? {
        try db.queryOne("SELECT \(Self.userColumns) FROM users WHERE id = ?", [.integer(id)]).map(Self.decodeUser)
    }

    /// The user whose username or email matches `login`, compared case-insensitively. Usernames cannot
    /// contain `@` and email addresses always do, so at most one user matches.
    public func user(login: String, _ db: Database) throws -> UserRecord? {
        let key = Self.emailKey(login)
        return try db.queryOne(
            "SELECT \(Self.userColumns) FROM users WHERE username = ?1 OR email_key = ?1", [.text(key)]
        ).map(Self.decodeUser)
    }

    public func user(username: String, _ db: Database) throws -> UserRecord? {
        try db.queryOne("SELECT \(Self.userColumns) FROM users WHERE username = ?", [.text(username)])
            .map(Self.decodeUser)
    }

    /// Applies the non-nil fields of `changes` to a live (not deleted) user; returns the updated row,
    /// or nil if there is no such live user.
    public func updateProfile(id: Int64, _ changes: ProfileChanges, now: Int64, _ db: Database) throws -> UserRecord? {
        try db.queryOne(
            """
            UPDATE users SET display_name = coalesce(?2, display_name),
                             display_name_key = coalesce(?3, display_name_key),
                             bio = coalesce(?4, bio), avatar_url = coalesce(?5, avatar_url), updated_at = ?6
            WHERE id = ?1 AND deleted_at IS NULL
            RETURNING \(Self.userColumns)
            """,
            [
                .integer(id), DatabaseValue(changes.displayName),
                DatabaseValue(changes.displayName.map(Self.searchKey)),
                DatabaseValue(changes.bio), DatabaseValue(changes.avatarURL), .integer(now),
            ]
        ).map(Self.decodeUser)
    }

    /// Replaces the password hash of a live user. With `expected`, only if the hash is still that one
    /// (a compare-and-set, so a concurrent change is not silently overwritten). Returns false if nothing
    /// was updated.
    @discardableResult
    public func updatePasswordHash(
        id: Int64, to hash: String, expected: String? = nil, now: Int64, _ db: Database
    ) throws -> Bool {
        try db.run(
            """
            UPDATE users SET password_hash = ?2, updated_at = ?3
            WHERE id = ?1 AND deleted_at IS NULL AND (?4 IS NULL OR password_hash = ?4)
            """, [.integer(id), .text(hash), .integer(now), DatabaseValue(expected)]) == 1
    }

    /// Sets or clears `is_disabled` of a live user; returns the updated row, or nil if there is none.
    @discardableResult
    public func setDisabled(id: Int64, _ disabled: Bool, now: Int64, _ db: Database) throws -> UserRecord? {
        try db.queryOne(
            """
            UPDATE users SET is_disabled = ?2, updated_at = ?3 WHERE id = ?1 AND deleted_at IS NULL
            RETURNING \(Self.userColumns)
            """, [.integer(id), .integer(disabled ? 1 : 0), .integer(now)]
        ).map(Self.decodeUser)
    }

    /// Sets or clears `is_admin` of a live user; returns the updated row, or nil if there is none.
    @discardableResult
    public func setAdmin(id: Int64, _ admin: Bool, now: Int64, _ db: Database) throws -> UserRecord? {
        try db.queryOne(
            """
            UPDATE users SET is_admin = ?2, updated_at = ?3 WHERE id = ?1 AND deleted_at IS NULL
            RETURNING \(Self.userColumns)
            """, [.integer(id), .integer(admin ? 1 : 0), .integer(now)]
        ).map(Self.decodeUser)
    }

    /// Deletes a user's personal data but keeps the row, so what refers to it (messages, later) stays
    /// valid: username `deleted-<id>`, no email (which frees it for a new account), display name
    /// "Deleted user", empty bio, avatar and password hash. Returns the anonymised row, or nil if there
    /// is no such live user.
    ///
    /// The username cannot collide: validation reserves the `deleted-<digits>` names.
    @discardableResult
    public func anonymiseUser(id: Int64, now: Int64, _ db: Database) throws -> UserRecord? {
        try db.queryOne(
            """
            UPDATE users SET username = 'deleted-' || id, email = NULL, email_key = NULL,
                             display_name = 'Deleted user', display_name_key = 'deleted user', bio = '',
                             avatar_url = '', password_hash = '', is_admin = 0, deleted_at = ?2, updated_at = ?2
            WHERE id = ?1 AND deleted_at IS NULL
            RETURNING \(Self.userColumns)
            """, [.integer(id), .integer(now)]
        ).map(Self.decodeUser)
    }

    /// Live, enabled users whose username or display name starts with `prefix` (compared
    /// case-insensitively), ordered by username, after the username `after` (keyset pagination).
    ///
    /// Written as a union so each half runs on its own index: the username half reads at most `limit`
    /// rows in index order, the display-name half reads its matches, and only those are sorted. A plain
    /// `OR` lets SQLite walk the username index from `after` and filter, which for a rare prefix is a scan
    /// of the whole table. The cost is thus bounded by the number of display names with the prefix.
    /// With `viewerID`, users who blocked the viewer are left out: a block must look like a user who does not
    /// exist (chat's blocks table is in the same database).
    public func searchUsers(
        prefix: String, after: String?, limit: Int, viewerID: Int64? = nil, _ db: Database
    ) throws -> [UserRecord] {
        let low = Self.searchKey(prefix)
        // Every key with the prefix sorts (bytewise, SQLite's BINARY collation) from the prefix up to, not
        // including, the prefix with its last byte raised by one. UTF-8 never contains 0xFF, so the raise
        // cannot overflow; the bound is bound as a blob and cast, since it need not be valid UTF-8.
        var high = Array(low.utf8)
        if let last = high.popLast() {
            high.append(last + 1)
        } else {
            high = [0xFF]
        }
        // Every user matches an empty prefix by username already: walking every display name as well would read
        // the whole table for nothing, so that page comes from the username index alone.
        return try db.query(
            low.isEmpty ? Self.listUsersByNameSQL : Self.searchUsersSQL,
            [
                .text(low), .blob(high), .text(after ?? ""), .integer(Int64(max(0, limit))),
                viewerID.map { .integer($0) } ?? .null,
            ]
        ).map(Self.decodeUser)
    }

    static let searchUsersSQL = """
        SELECT \(Self.userColumns) FROM users
        WHERE id IN (
            SELECT id FROM (
                SELECT id FROM users
                WHERE username >= ?1 AND username < CAST(?2 AS TEXT) AND username > ?3
                  AND deleted_at IS NULL AND is_disabled = 0
                  AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = users.id AND b.blocked_id = ?5)
                ORDER BY username LIMIT ?4)
            UNION ALL
            SELECT id FROM users
            WHERE display_name_key >= ?1 AND display_name_key < CAST(?2 AS TEXT) AND username > ?3
              AND deleted_at IS NULL AND is_disabled = 0
              AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = users.id AND b.blocked_id = ?5))
        ORDER BY username LIMIT ?4
        """

    /// ``searchUsersSQL`` for an empty prefix (same parameters; ?1 and ?2 unused).
    static let listUsersByNameSQL = """
        SELECT \(Self.userColumns) FROM users
        WHERE username > ?3 AND ?1 = '' AND ?2 IS NOT NULL
          AND deleted_at IS NULL AND is_disabled = 0
          AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = users.id AND b.blocked_id = ?5)
        ORDER BY username LIMIT ?4
        """

    /// All users, deleted and disabled ones included, by id, after the id `afterID`.
    public func listUsers(afterID: Int64 = 0, limit: Int, _ db: Database) throws -> [UserRecord] {
        try db.query(
            "SELECT \(Self.userColumns) FROM users WHERE id > ? ORDER BY id LIMIT ?",
            [.integer(afterID), .integer(Int64(max(0, limit)))]
        ).map(Self.decodeUser)
    }

    public func userCount(_ db: Database) throws -> Int {
        try db.queryOne("SELECT count(*) FROM users")?[0].int ?? 0
    }

    static func decodeUser(_ row: Row) throws -> UserRecord {
        let reader = RowReader(row: row, table: "users")
        return UserRecord(
            id: try reader.integer(0), username: try reader.text(1), email: try reader.optionalText(2),
            displayName: try reader.text(3), bio: try reader.text(4), avatarURL: try reader.text(5),
            passwordHash: try reader.text(6), isAdmin: try reader.bool(7), isDisabled: try reader.bool(8),
            deletedAt: try reader.optionalInteger(9), createdAt: try reader.integer(10),
            updatedAt: try reader.integer(11))
    }

    // MARK: Sessions

    static let sessionColumns = "id, user_id, device, ip, created_at, last_used_at, expires_at, revoked_at"

    public func insertSession(_ session: SessionRecord, _ db: Database) throws {
        try db.run(
            """
            INSERT INTO sessions (id, user_id, device, ip, created_at, last_used_at, expires_at, revoked_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(session.id), .integer(session.userID), .text(session.device), .text(session.ip),
                .integer(session.createdAt), .integer(session.lastUsedAt), .integer(session.expiresAt),
                DatabaseValue(session.revokedAt),
            ])
    }

    public func session(id: String, _ db: Database) throws -> SessionRecord? {
        try db.queryOne("SELECT \(Self.sessionColumns) FROM sessions WHERE id = ?", [.text(id)])
            .map(Self.decodeSession)
    }

    /// Records a use of the session (a refresh): when, from where, and its new expiry.
    public func touchSession(
        id: String, lastUsedAt: Int64, ip: String, device: String, expiresAt: Int64, _ db: Database
    ) throws {
        try db.run(
            "UPDATE sessions SET last_used_at = ?2, ip = ?3, device = ?4, expires_at = ?5 WHERE id = ?1",
            [.text(id), .integer(lastUsedAt), .text(ip), .text(device), .integer(expiresAt)])
    }

    /// Revokes one unrevoked session of `userID`. Returns false if there is none with that id (unknown,
    /// another user's, or already revoked).
    @discardableResult
    public func revokeSession(id: String, userID: Int64, now: Int64, _ db: Database) throws -> Bool {
        try db.run(
            "UPDATE sessions SET revoked_at = ?3 WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL",
            [.text(id), .integer(userID), .integer(now)]) == 1
    }

    /// Revokes every unrevoked session of `userID`, but `keeping` if given; returns the ids revoked.
    @discardableResult
    public func revokeSessions(userID: Int64, keeping: String? = nil, now: Int64, _ db: Database) throws -> [String] {
        try db.query(
            """
            UPDATE sessions SET revoked_at = ?2
            WHERE user_id = ?1 AND revoked_at IS NULL AND (?3 IS NULL OR id <> ?3)
            RETURNING id
            """, [.integer(userID), .integer(now), DatabaseValue(keeping)]
        ).map { try RowReader(row: $0, table: "sessions").text(0) }
    }

    /// Sessions revoked at or after `since`, as (session id, user id).
    public func sessionsRevoked(since: Int64, _ db: Database) throws -> [(id: String, userID: Int64)] {
        try db.query("SELECT id, user_id FROM sessions WHERE revoked_at >= ?", [.integer(since)]).map { row in
            let reader = RowReader(row: row, table: "sessions")
            return (try reader.text(0), try reader.integer(1))
        }
    }

    /// Accounts disabled or deleted, among those changed at or after `since`.
    public func usersEnded(since: Int64, _ db: Database) throws -> [UserRecord] {
        try db.query(
            """
            SELECT \(Self.userColumns) FROM users
            WHERE updated_at >= ? AND (is_disabled = 1 OR deleted_at IS NOT NULL)
            """, [.integer(since)]
        ).map(Self.decodeUser)
    }

    /// Sessions of `userID` neither revoked nor expired at `now`, newest first.
    public func activeSessions(userID: Int64, now: Int64, _ db: Database) throws -> [SessionRecord] {
        try db.query(
            """
            SELECT \(Self.sessionColumns) FROM sessions
            WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2
            ORDER BY created_at DESC, id
            """, [.integer(userID), .integer(now)]
        ).map(Self.decodeSession)
    }

    static func decodeSession(_ row: Row) throws -> SessionRecord {
        let reader = RowReader(row: row, table: "sessions")
        return SessionRecord(
            id: try reader.text(0), userID: try reader.integer(1), device: try reader.text(2), ip: try reader.text(3),
            createdAt: try reader.integer(4), lastUsedAt: try reader.integer(5), expiresAt: try reader.integer(6),
            revokedAt: try reader.optionalInteger(7))
    }

    // MARK: Refresh tokens

    public func insertRefreshToken(_ token: RefreshTokenRecord, _ db: Database) throws {
        try db.run(
            "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?)",
            [
                .text(token.tokenHash), .text(token.sessionID), .integer(token.createdAt), .integer(token.expiresAt),
                DatabaseValue(token.usedAt),
            ])
    }

    public func refreshToken(hash: String, _ db: Database) throws -> RefreshTokenRecord? {
        try db.queryOne(
            "SELECT token_hash, session_id, created_at, expires_at, used_at FROM refresh_tokens WHERE token_hash = ?",
            [.text(hash)]
        ).map { row in
            let reader = RowReader(row: row, table: "refresh_tokens")
            return RefreshTokenRecord(
                tokenHash: try reader.text(0), sessionID: try reader.text(1), createdAt: try reader.integer(2),
                expiresAt: try reader.integer(3), usedAt: try reader.optionalInteger(4))
        }
    }

    /// Spends an unspent token. Returns false if it was already spent (or does not exist), so of two
    /// rotations of one token only the first succeeds.
    @discardableResult
    public func markRefreshTokenUsed(hash: String, now: Int64, _ db: Database) throws -> Bool {
        try db.run(
            "UPDATE refresh_tokens SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL",
            [.text(hash), .integer(now)]) == 1
    }

    /// Deletes refresh tokens expired before `now`: past expiry, a token is refused whether spent or not,
    /// so its row no longer serves reuse detection. Returns how many were deleted.
    @discardableResult
    public func deleteExpiredRefreshTokens(now: Int64, _ db: Database) throws -> Int {
        try db.run("DELETE FROM refresh_tokens WHERE expires_at <= ?", [.integer(now)])
    }

    // MARK: Revoked access tokens

    /// Records a revoked access token; revoking one twice is harmless.
    public func insertRevokedToken(_ token: RevokedTokenRecord, _ db: Database) throws {
        try db.run(
            "INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?, ?)",
            [.text(token.jti), .integer(token.expiresAt)])
    }

    /// Revoked tokens that have not expired at `now`.
    public func revokedTokens(now: Int64, _ db: Database) throws -> [RevokedTokenRecord] {
        try db.query("SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > ?", [.integer(now)]).map { row in
            let reader = RowReader(row: row, table: "revoked_tokens")
            return RevokedTokenRecord(jti: try reader.text(0), expiresAt: try reader.integer(1))
        }
    }

    /// Deletes revoked tokens expired at `now`: an expired token is refused anyway. Returns how many.
    @discardableResult
    public func pruneRevokedTokens(now: Int64, _ db: Database) throws -> Int {
        try db.run("DELETE FROM revoked_tokens WHERE expires_at <= ?", [.integer(now)])
    }
}
