import Security
import Storage

/// Operations of the `chat user` and `chat seed` commands. They act on accounts by username, with no
/// principal: whoever can run the binary on the data directory is trusted.
extension AccountService {
    /// Creates an account with the registration rules, optionally an administrator. No session.
    public func createUser(
        username: String, email: String, password: String, displayName: String? = nil, isAdmin: Bool = false
    ) async throws(AccountError) -> User {
        let account = try AccountValidation.validateRegistration(
            username: username, email: email, password: password, displayName: displayName)
        let hash = try await hashPassword(account.password, cost: policy.bcryptCost)
        let now = clock()
        let record = try await write { [store] db in
            try store.insertUser(
                NewUserRecord(
                    username: account.username, email: account.email, displayName: account.displayName,
                    passwordHash: hash, isAdmin: isAdmin, createdAt: now), db)
        }
        return User(record)
    }

    /// Every account, deleted and disabled ones included, oldest first.
    public func listUsers(limit: Int = 100) async throws(AccountError) -> [User] {
        guard limit >= 1 else { throw .validation(["limit": "must be at least 1"]) }
        return try await read { [store] db in try store.listUsers(limit: limit, db) }.map(User.init)
    }

    /// Disables or re-enables an account. A disabled account cannot sign in or refresh, and its access
    /// tokens are refused (by another process's server within `policy.authCacheTTL`).
    @discardableResult
    public func setDisabled(username: String, _ disabled: Bool) async throws(AccountError) -> User {
        try await updateFlag(username: username) { [store] id, now, db in
            try store.setDisabled(id: id, disabled, now: now, db)
        }
    }

    /// Grants or withdraws administrator rights.
    @discardableResult
    public func setAdmin(username: String, _ admin: Bool) async throws(AccountError) -> User {
        try await updateFlag(username: username) { [store] id, now, db in
            try store.setAdmin(id: id, admin, now: now, db)
        }
    }

    private func updateFlag(
        username: String, _ update: @escaping @Sendable (Int64, Int64, Database) throws -> UserRecord?
    ) async throws(AccountError) -> User {
        let name = AccountValidation.normalizeUsername(username)
        let now = clock()
        let record = try await write { [store] db -> UserRecord? in
            guard let user = try store.user(username: name, db) else { return nil }
            return try update(user.id, now, db)
        }
        guard let record else { throw .notFound }
        state.publish(users: [record.id: AuthState.UserStatus(record)], now: clock())
        return User(record)
    }

    /// Sets a new password (same rules as registration) and revokes every session of the account.
    public func resetPassword(username: String, newPassword: String) async throws(AccountError) {
        let name = AccountValidation.normalizeUsername(username)
        if let problem = AccountValidation.passwordError(newPassword, username: name) {
            throw .validation(["password": problem])
        }
        let hash = try await hashPassword(newPassword, cost: policy.bcryptCost)
        let now = clock()
        let outcome = try await write { [store] db -> (id: Int64, sessions: [String])? in
            guard let user = try store.user(username: name, db), !user.isDeleted,
                try store.updatePasswordHash(id: user.id, to: hash, now: now, db)
            else { return nil }
            return (user.id, try store.revokeSessions(userID: user.id, now: now, db))
        }
        guard let outcome else { throw .notFound }
        publishRevoked(sessions: outcome.sessions, userID: outcome.id)
    }

    /// The password of seeded accounts unless another is given.
    public static let defaultSeedPassword = "seed-password"

    /// Inserts `count` accounts with random, realistic names (`olivia.martin4821`, "Olivia Martin"),
    /// all with one password hashed once at `cost` (bcrypt per account would take hours at real costs).
    /// Names that collide with existing accounts are drawn again. Returns how many were inserted:
    /// `count`, unless the name space ran out.
    ///
    /// Each chunk is one writer job (one transaction) with one prepared statement, so 10,000 accounts
    /// take a fraction of a second apart from the single bcrypt.
    @discardableResult
    public func seedUsers(
        count: Int, cost: Int = 4, password: String = AccountService.defaultSeedPassword
    ) async throws(AccountError) -> Int {
        var fields: [String: String] = [:]
        if count < 0 { fields["count"] = "must not be negative" }
        if !BCrypt.costRange.contains(cost) {
            fields["cost"] = "must be from \(BCrypt.costRange.lowerBound) to \(BCrypt.costRange.upperBound)"
        }
        guard fields.isEmpty else { throw .validation(fields) }
        guard count > 0 else { return 0 }
        let hash = try await hashPassword(password, cost: cost)
        var generator = SystemRandomNumberGenerator()
        var inserted = 0
        // Collisions are rare (see SeedNames) and redrawn; giving up after many chunks in a row that
        // each lost some still guarantees termination if the name space is exhausted.
        var shortChunks = 0
        while inserted < count, shortChunks < 20 {
            let batch = min(count - inserted, Self.seedChunkSize)
            let now = clock()
            let records = (0..<batch).map { _ in SeedNames.record(passwordHash: hash, now: now, using: &generator) }
            let added = try await write { [store] db in try store.insertUsers(records, db) }
            inserted += added
            shortChunks = added == batch ? 0 : shortChunks + 1
        }
        return inserted
    }

    /// Accounts per seeding transaction: large enough to amortize the commit, small enough that other
    /// writers are not held up for long.
    static let seedChunkSize = 10_000
}
