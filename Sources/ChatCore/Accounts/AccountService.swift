import Glibc
import Logging
import Security
import Storage
import SystemSupport

/// Accounts and authentication: registration, sign-in with rotating refresh tokens, access-token
/// verification, sessions, profiles, and the administrative operations of the command line.
///
/// **Threads.** Every method may be called from any thread or task. bcrypt runs on the worker pool,
/// never on the caller's thread; writes go through the single database writer, reads through the reader
/// pool; token signing and verification are CPU-only and run inline.
///
/// **Atomicity.** Each state change is one writer job, hence one transaction (savepoint). A refresh
/// reads, spends and replaces its token in one job, so two concurrent refreshes of one token are
/// serialized: the second finds the token spent, which is reuse.
///
/// **Authentication state.** ``authenticateCached(_:)`` decides from memory (see `AuthState`); changes
/// made here are published to that memory after their transaction commits, so they apply to the very
/// next request. Changes made by other processes are seen within `policy.authCacheTTL`.
public final class AccountService: Sendable {
    public let policy: AccountPolicy
    let writer: DatabaseWriter
    let readers: DatabaseReaderPool
    let keyRing: KeyRing
    let workers: WorkerPool
    /// Unix milliseconds; injectable so tests control expiry.
    let clock: @Sendable () -> Int64
    let store = AccountStore()
    let state: AuthState
    /// Access tokens whose signature and claims were verified, until they expire.
    let verifiedTokens: LRUCache<String, VerifiedToken>
    let logger = Logger("accounts")

    /// - Parameter clock: the current time in unix milliseconds; the system clock by default.
    public init(
        writer: DatabaseWriter, readers: DatabaseReaderPool, keyRing: KeyRing, workers: WorkerPool,
        policy: AccountPolicy = AccountPolicy(), clock: @escaping @Sendable () -> Int64 = AccountService.systemClock
    ) {
        precondition(BCrypt.costRange.contains(policy.bcryptCost), "bcrypt cost \(policy.bcryptCost) out of range")
        precondition(policy.userCacheCapacity >= 1, "the user cache needs room for at least one entry")
        self.writer = writer
        self.readers = readers
        self.keyRing = keyRing
        self.workers = workers
        self.policy = policy
        self.clock = clock
        state = AuthState(capacity: policy.userCacheCapacity, ttl: policy.authCacheTTL.wholeMilliseconds)
        verifiedTokens = LRUCache(capacity: policy.userCacheCapacity)
        // The dummy hash costs one bcrypt run when first needed: make it now, so the first login attempt
        // for an unknown user is not measurably slower than one for a real user.
        let cost = policy.bcryptCost
        workers.submit { _ = BCrypt.dummyHash(cost: cost) }
    }

    /// The system's wall clock in unix milliseconds.
    public static func systemClock() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    // MARK: Sign-up and sign-in

    /// Creates an account and signs it in on a new session.
    public func register(
        username: String, email: String, password: String, displayName: String? = nil, client: ClientInfo
    ) async throws(AccountError) -> AuthResult {
        let account = try AccountValidation.validateRegistration(
            username: username, email: email, password: password, displayName: displayName)
        let hash = try await hashPassword(account.password, cost: policy.bcryptCost)
        let now = clock()
        let secrets = SessionSecrets()
        let record = try await write { [store, policy] db in
            let user = try store.insertUser(
                NewUserRecord(
                    username: account.username, email: account.email, displayName: account.displayName,
                    passwordHash: hash, createdAt: now), db)
            try Self.insertSession(secrets, userID: user.id, client: client, now: now, policy: policy, store: store, db)
            return user
        }
        return AuthResult(user: User(record), tokens: try makeTokens(userID: record.id, secrets: secrets, now: now))
    }

    /// Signs in with a username or email address and a password, on a new session.
    ///
    /// Unknown and deleted accounts cost one bcrypt verification like real ones (against a dummy hash
    /// at the same cost), so response times do not reveal which accounts exist. A disabled account is
    /// reported only after the right password. A hash below `policy.bcryptCost` is replaced.
    public func login(login: String, password: String, client: ClientInfo) async throws(AccountError) -> AuthResult {
        try AccountValidation.validateLogin(login: login, password: password)
        let key = AccountValidation.trimmed(login)
        let found = try await read { [store] db in try store.user(login: key, db) }
        guard let found, !found.isDeleted else {
            _ = try await verifyPassword(password, hash: nil, rehashCost: nil)
            throw .invalidCredentials
        }
        let needsRehash = !found.isDisabled && (BCrypt.cost(of: found.passwordHash) ?? 0) < policy.bcryptCost
        let verification = try await verifyPassword(
            password, hash: found.passwordHash, rehashCost: needsRehash ? policy.bcryptCost : nil)
        guard verification.matches else { throw .invalidCredentials }
        guard !found.isDisabled else { throw .accountDisabled }

        let now = clock()
        let secrets = SessionSecrets()
        let record = try await write { [store, policy] db in
            // The account may have changed since it was read, while bcrypt ran.
            guard let current = try store.user(id: found.id, db), !current.isDeleted else {
                throw AccountError.invalidCredentials
            }
            guard !current.isDisabled else { throw AccountError.accountDisabled }
            if let newHash = verification.newHash {
                // Only over the hash that was verified: a password changed meanwhile must not be undone.
                try store.updatePasswordHash(id: found.id, to: newHash, expected: found.passwordHash, now: now, db)
            }
            try Self.insertSession(
                secrets, userID: current.id, client: client, now: now, policy: policy, store: store, db)
            return current
        }
        return AuthResult(user: User(record), tokens: try makeTokens(userID: record.id, secrets: secrets, now: now))
    }

    /// Exchanges a refresh token for new tokens on the same session; the presented token is spent.
    ///
    /// A spent token presented again means it leaked (or a client raced itself): the whole session is
    /// revoked, which also stops the tokens issued from it, and ``AccountError/refreshTokenReused`` is
    /// thrown. The check, the spending and the replacement are one writer job.
    public func refresh(refreshToken: String, client: ClientInfo) async throws(AccountError) -> AuthResult {
        // Ours are 43 characters; anything far longer is not worth hashing.
        guard !refreshToken.isEmpty, refreshToken.utf8.count <= 256 else { throw .invalidRefreshToken }
        let hash = Digest.sha256Hex(refreshToken)
        // A token we never issued costs a read, not a writer job: junk cannot queue behind real writes.
        guard try await read({ [store] db in try store.refreshToken(hash: hash, db) != nil }) else {
            throw .invalidRefreshToken
        }
        let now = clock()
        let newRefreshToken = SecureRandom.token()
        let refreshLifetime = policy.refreshTokenLifetime.wholeMilliseconds
        let outcome = try await write { [store] db -> RefreshOutcome in
            guard let token = try store.refreshToken(hash: hash, db),
                let session = try store.session(id: token.sessionID, db)
            else { return .invalid }
            if token.isUsed {
                try store.revokeSession(id: session.id, userID: session.userID, now: now, db)
                return .reused(sessionID: session.id, userID: session.userID)
            }
            guard token.expiresAt > now, session.isActive(at: now), let user = try store.user(id: session.userID, db),
                !user.isDeleted, !user.isDisabled
            else { return .invalid }
            // Cannot fail after the check above (the writer runs one job at a time), but keeps the rule
            // "a token is spent at most once" in the statement itself.
            guard try store.markRefreshTokenUsed(hash: hash, now: now, db) else { return .invalid }
            let expiresAt = now + refreshLifetime
            try store.insertRefreshToken(
                RefreshTokenRecord(
                    tokenHash: Digest.sha256Hex(newRefreshToken), sessionID: session.id, createdAt: now,
                    expiresAt: expiresAt), db)
            try store.touchSession(
                id: session.id, lastUsedAt: now, ip: client.ip, device: client.device, expiresAt: expiresAt, db)
            return .rotated(user, sessionID: session.id)
        }
        switch outcome {
        case .invalid:
            throw .invalidRefreshToken
        case .reused(let sessionID, let userID):
            state.publish(sessions: [sessionID: .init(userID: userID, isRevoked: true)], now: clock())
            logger.warn("refresh token reused; session revoked", ["user": String(userID), "session": sessionID])
            throw .refreshTokenReused
        case .rotated(let user, let sessionID):
            let tokens = try makeTokens(
                userID: user.id, secrets: SessionSecrets(sessionID: sessionID, refreshToken: newRefreshToken),
                now: now)
            return AuthResult(user: User(user), tokens: tokens)
        }
    }

    private enum RefreshOutcome: Sendable {
        case invalid
        case reused(sessionID: String, userID: Int64)
        case rotated(UserRecord, sessionID: String)
    }

    /// Tells `notify` whenever sessions end here (logout, revocation, password change; nil: every session of a
    /// disabled or deleted account), after the change committed: the realtime layer closes their connections.
    public func onAccessEnded(_ notify: @escaping @Sendable (_ userID: Int64, _ sessionIDs: Set<String>?) -> Void) {
        state.onAccessEnded(notify)
    }

    /// Reports sessions ended and accounts disabled or deleted at or after `since` (unix ms) through
    /// ``onAccessEnded(_:)``, updating the status cache too: another process (`chat user disable`, `chat user
    /// reset-password`) makes such changes without this server hearing of them. Call it periodically with an
    /// overlapping window; reports already made are not repeated while they stay in the window.
    public func publishAccessEnded(since: Int64) async throws(AccountError) {
        let (sessions, users) = try await read { [store] db in
            (try store.sessionsRevoked(since: since, db), try store.usersEnded(since: since, db))
        }
        let fresh = state.unreported(
            sessions: sessions.map(\.id), users: users.map(\.id), since: since, now: clock())
        guard !fresh.sessions.isEmpty || !fresh.users.isEmpty else { return }
        var statuses: [String: AuthState.SessionStatus] = [:]
        for session in sessions where fresh.sessions.contains(session.id) {
            statuses[session.id] = .init(userID: session.userID, isRevoked: true)
        }
        var userStatuses: [Int64: AuthState.UserStatus] = [:]
        for user in users where fresh.users.contains(user.id) { userStatuses[user.id] = AuthState.UserStatus(user) }
        state.publish(users: userStatuses, sessions: statuses, now: clock())
    }

    /// Ends the principal's session and revokes its access token at once.
    public func logout(_ principal: Principal) async throws(AccountError) {
        let now = clock()
        // Kept until the token could no longer pass verification anyway, leeway included.
        let revoked = RevokedTokenRecord(
            jti: principal.tokenID, expiresAt: principal.expiresAt + policy.leeway.wholeMilliseconds)
        try await write { [store] db in
            try store.revokeSession(id: principal.sessionID, userID: principal.userID, now: now, db)
            try store.insertRevokedToken(revoked, db)
            // Cheap (indexed) and keeps the table to the tokens that could still be presented.
            try store.pruneRevokedTokens(now: now, db)
        }
        state.addRevoked(revoked)
        state.publish(sessions: [principal.sessionID: .init(userID: principal.userID, isRevoked: true)], now: clock())
    }

    /// Ends every session of the user, including the caller's.
    public func logoutAll(userID: Int64) async throws(AccountError) {
        try await revokeAllSessions(userID: userID, keeping: nil)
    }

    // MARK: Shared steps

    /// The random secrets of a new session: its id and first refresh token.
    struct SessionSecrets: Sendable {
        var sessionID: String
        var refreshToken: String

        /// 128-bit session id (22 characters), 256-bit refresh token (43 characters).
        init(sessionID: String = SecureRandom.token(byteCount: 16), refreshToken: String = SecureRandom.token()) {
            self.sessionID = sessionID
            self.refreshToken = refreshToken
        }
    }

    static func insertSession(
        _ secrets: SessionSecrets, userID: Int64, client: ClientInfo, now: Int64, policy: AccountPolicy,
        store: AccountStore, _ db: Database
    ) throws {
        let expiresAt = now + policy.refreshTokenLifetime.wholeMilliseconds
        try store.insertSession(
            SessionRecord(
                id: secrets.sessionID, userID: userID, device: client.device, ip: client.ip, createdAt: now,
                lastUsedAt: now, expiresAt: expiresAt), db)
        try store.insertRefreshToken(
            RefreshTokenRecord(
                tokenHash: Digest.sha256Hex(secrets.refreshToken), sessionID: secrets.sessionID, createdAt: now,
                expiresAt: expiresAt), db)
    }

    /// Signs an access token for the session and pairs it with the refresh token.
    func makeTokens(userID: Int64, secrets: SessionSecrets, now: Int64) throws(AccountError) -> TokenPair {
        let issuedAt = Int(now / 1000)
        let lifetime = policy.accessTokenLifetime.wholeSeconds
        let claims = JWTClaims(
            sub: String(userID), iat: issuedAt, nbf: issuedAt, exp: issuedAt + lifetime,
            jti: SecureRandom.token(byteCount: 16), iss: policy.issuer, aud: policy.audience, sid: secrets.sessionID)
        let accessToken: String
        do {
            accessToken = try keyRing.signer.sign(claims)
        } catch {
            throw unavailable("signing an access token", error)
        }
        return TokenPair(
            accessToken: accessToken, accessExpiresIn: lifetime, refreshToken: secrets.refreshToken,
            refreshExpiresIn: policy.refreshTokenLifetime.wholeSeconds, sessionID: secrets.sessionID)
    }

    /// Revokes the user's sessions (all, or all but `keeping`) and publishes the change.
    func revokeAllSessions(userID: Int64, keeping: String?) async throws(AccountError) {
        let now = clock()
        let revoked = try await write { [store] db in
            try store.revokeSessions(userID: userID, keeping: keeping, now: now, db)
        }
        publishRevoked(sessions: revoked, userID: userID)
    }

    func publishRevoked(sessions: [String], userID: Int64, user: AuthState.UserStatus? = nil) {
        var statuses: [String: AuthState.SessionStatus] = [:]
        for id in sessions {
            statuses[id] = .init(userID: userID, isRevoked: true)
        }
        state.publish(users: user.map { [userID: $0] } ?? [:], sessions: statuses, now: clock())
    }

    // MARK: Passwords (worker pool)

    func hashPassword(_ password: String, cost: Int) async throws(AccountError) -> String {
        do {
            return try await workers.run { try PasswordHasher.hash(password, cost: cost) }
        } catch {
            throw unavailable("hashing a password", error)
        }
    }

    /// Verifies on the worker pool; `hash` nil verifies against the dummy hash (and never matches).
    /// With `rehashCost`, a matching password is also hashed anew at that cost in the same job.
    func verifyPassword(
        _ password: String, hash: String?, rehashCost: Int?
    ) async throws(AccountError) -> (matches: Bool, newHash: String?) {
        let dummyCost = policy.bcryptCost
        do {
            return try await workers.run {
                // Fetched here, not by the caller: the first call computes it, which is bcrypt work.
                let matches = PasswordHasher.verify(password, hash: hash ?? BCrypt.dummyHash(cost: dummyCost))
                guard hash != nil, matches else { return (false, nil) }
                guard let rehashCost else { return (true, nil) }
                return (true, try PasswordHasher.hash(password, cost: rehashCost))
            }
        } catch {
            throw unavailable("verifying a password", error)
        }
    }

    // MARK: Database access with error mapping

    func write<T: Sendable>(_ job: @escaping @Sendable (Database) throws -> T) async throws(AccountError) -> T {
        do {
            return try await writer.write(job)
        } catch {
            throw map(error)
        }
    }

    func read<T: Sendable>(_ job: @escaping @Sendable (Database) throws -> T) async throws(AccountError) -> T {
        do {
            return try await readers.read(job)
        } catch {
            throw map(error)
        }
    }

    /// Domain errors pass through; the store's conflicts become theirs; anything else is logged and
    /// becomes ``AccountError/unavailable(_:)``.
    private func map(_ error: any Error) -> AccountError {
        switch error {
        case let error as AccountError: return error
        case AccountStoreError.usernameTaken: return .usernameTaken
        case AccountStoreError.emailTaken: return .emailTaken
        default: return unavailable("database", error)
        }
    }

    func unavailable(_ operation: String, _ error: any Error) -> AccountError {
        logger.error("\(operation) failed", ["error": "\(error)"])
        return .unavailable("\(operation): \(error)")
    }
}
