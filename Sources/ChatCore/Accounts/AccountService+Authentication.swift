import Security
import Storage

extension AccountService {
    /// The claims of a verified access token that authentication needs.
    struct VerifiedToken: Sendable {
        var userID: Int64
        var sessionID: String
        var tokenID: String
        /// Unix milliseconds.
        var expiresAt: Int64
    }

    /// Decides from memory alone: verifies the token's signature and claims (CPU only, no I/O), then
    /// consults the revoked-token list and the cached user and session status. Safe to call on an
    /// event loop. ``CachedAuthentication/needsLookup`` means something was not cached: call
    /// ``authenticate(_:)``, which reads the database and fills the caches.
    public func authenticateCached(_ token: String) -> CachedAuthentication {
        let now = clock()
        let verified: VerifiedToken
        switch verify(token, now: now) {
        case .success(let value): verified = value
        case .failure(let error): return .invalid(error)
        }
        return decide(
            verified, revoked: state.isRevoked(verified.tokenID, now: now),
            user: state.users.value(forKey: verified.userID, now: now),
            session: state.sessions.value(forKey: verified.sessionID, now: now))
    }

    /// Authenticates an access token, reading the database for whatever is not cached.
    public func authenticate(_ token: String) async throws(AccountError) -> Principal {
        let now = clock()
        let verified = try verify(token, now: now).get()
        let revoked = state.isRevoked(verified.tokenID, now: now)
        switch decide(
            verified, revoked: revoked, user: state.users.value(forKey: verified.userID, now: now),
            session: state.sessions.value(forKey: verified.sessionID, now: now))
        {
        case .valid(let principal): return principal
        case .invalid(let error): throw error
        case .needsLookup: break
        }
        let generation = state.currentGeneration
        let loadRevocations = revoked == nil
        let lookup = try await read { [store] db in
            (
                revoked: loadRevocations ? try store.revokedTokens(now: now, db) : nil,
                user: try store.user(id: verified.userID, db),
                session: try store.session(id: verified.sessionID, db)
            )
        }
        if let list = lookup.revoked {
            state.loadRevoked(list)
        }
        let user = AuthState.UserStatus(lookup.user)
        let session = AuthState.SessionStatus(lookup.session)
        state.fill(
            users: [verified.userID: user], sessions: [verified.sessionID: session], generation: generation,
            now: clock())
        // Loaded above if it was not before, so never nil here; were it nil, refusing is the safe answer.
        let isRevoked = state.isRevoked(verified.tokenID, now: now) ?? true
        switch decide(verified, revoked: isRevoked, user: user, session: session) {
        case .valid(let principal): return principal
        case .invalid(let error): throw error
        case .needsLookup: throw .unavailable("authentication state missing after lookup")
        }
    }

    /// Whether `sessionID` of `userID` is still in force: not revoked, its account neither disabled nor deleted.
    /// From the status cache when it knows both, else from the database. A connection checks this once it can
    /// hear of revocations (registered with the hub, or switched to a new session by `AUTH`): one that happened
    /// before is then seen here, one after arrives as an event. A failed read answers true: a database hiccup
    /// must not close connections.
    public func isSessionActive(userID: Int64, sessionID: String) async -> Bool {
        let now = clock()
        var user = state.users.value(forKey: userID, now: now)
        var session = state.sessions.value(forKey: sessionID, now: now)
        if user == nil || session == nil {
            guard
                let lookup = try? await read({ [store] db in
                    (try store.user(id: userID, db), try store.session(id: sessionID, db))
                })
            else { return true }
            user = AuthState.UserStatus(lookup.0)
            session = AuthState.SessionStatus(lookup.1)
        }
        guard let user, let session else { return true }
        return !session.isRevoked && session.userID == userID && !user.isDisabled && !user.isDeleted
    }

    /// Loads the revoked-token list now rather than at the first authentication, so the fast path can
    /// decide from the start. Optional: ``authenticate(_:)`` loads it when needed.
    public func loadRevocations() async throws(AccountError) {
        guard !state.isRevocationListLoaded else { return }
        let now = clock()
        let list = try await read { [store] db in try store.revokedTokens(now: now, db) }
        state.loadRevoked(list)
    }

    /// Checks signature, algorithm, key id, issuer, audience and times, then the claims this server
    /// relies on: a numeric `sub` and a `sid`.
    func verify(_ token: String, now: Int64) -> Result<VerifiedToken, AccountError> {
        // A token's signature and claims are checked once; later requests with the same token find its claims
        // here until it expires (bounded LRU). Revocation, session and account checks are not cached here:
        // `decide` runs them on every request.
        if let cached = verifiedTokens.value(forKey: token, now: now) { return .success(cached) }
        let result = verifyUncached(token, now: now)
        if case .success(let verified) = result {
            verifiedTokens.setValue(
                verified, forKey: token, expiresAt: verified.expiresAt + policy.leeway.wholeMilliseconds)
        }
        return result
    }

    private func verifyUncached(_ token: String, now: Int64) -> Result<VerifiedToken, AccountError> {
        let nowSeconds = Int(now / 1000)
        let lifetime = policy.accessTokenLifetime.wholeSeconds + policy.leeway.wholeSeconds
        // Built per call: the key set changes with rotation, and building is a dictionary copy.
        let verifier = JWTVerifier(
            keys: keyRing.verificationKeys(now: nowSeconds, maxTokenLifetime: lifetime), issuer: policy.issuer,
            audience: policy.audience, leeway: policy.leeway.wholeSeconds)
        let claims: JWTClaims
        do {
            claims = try verifier.verify(token, now: nowSeconds)
        } catch {
            return .failure(.invalidToken(Self.reason(error)))
        }
        guard let userID = Int64(claims.sub), userID > 0 else { return .failure(.invalidToken("non-numeric subject")) }
        guard let sessionID = claims.sid, !sessionID.isEmpty else { return .failure(.invalidToken("no session id")) }
        let (expiresAt, overflow) = Int64(claims.exp).multipliedReportingOverflow(by: 1000)
        return .success(
            VerifiedToken(
                userID: userID, sessionID: sessionID, tokenID: claims.jti, expiresAt: overflow ? .max : expiresAt))
    }

    /// Refuses on the first known reason; accepts only when every fact is known and good; otherwise
    /// asks for a lookup. So a revoked token or session is refused even with the rest uncached.
    private func decide(
        _ token: VerifiedToken, revoked: Bool?, user: AuthState.UserStatus?, session: AuthState.SessionStatus?
    ) -> CachedAuthentication {
        if revoked == true { return .invalid(.invalidToken("token revoked")) }
        if let user {
            if user.isDeleted { return .invalid(.invalidToken("account deleted")) }
            if user.isDisabled { return .invalid(.invalidToken("account disabled")) }
        }
        if let session {
            if session.isRevoked { return .invalid(.invalidToken("session revoked")) }
            // Signed by us, so this cannot differ unless the key leaked; checked all the same.
            if session.userID != token.userID { return .invalid(.invalidToken("session of another user")) }
        }
        guard revoked != nil, let user, session != nil else { return .needsLookup }
        return .valid(
            Principal(
                userID: token.userID, sessionID: token.sessionID, tokenID: token.tokenID, expiresAt: token.expiresAt,
                isAdmin: user.isAdmin))
    }

    private static func reason(_ error: JWTError) -> String {
        switch error {
        case .malformed: return "malformed"
        case .unsupportedAlgorithm: return "unsupported algorithm"
        case .unknownKey: return "unknown key"
        case .badSignature: return "bad signature"
        case .expired: return "expired"
        case .notYetValid: return "not yet valid"
        case .wrongIssuer: return "wrong issuer"
        case .wrongAudience: return "wrong audience"
        case .missingClaim(let name): return "missing claim \(name)"
        }
    }

    /// The public keys tokens may be verified with: the JWKS document.
    public func jwks() -> JWKSet {
        keyRing.jwks(
            now: Int(clock() / 1000),
            maxTokenLifetime: policy.accessTokenLifetime.wholeSeconds + policy.leeway.wholeSeconds)
    }

    /// Deletes revoked-token entries and refresh tokens that have expired; returns how many rows went.
    /// For a periodic maintenance task: nothing depends on it for correctness.
    @discardableResult
    public func pruneExpired() async throws(AccountError) -> Int {
        let now = clock()
        return try await write { [store] db in
            try store.pruneRevokedTokens(now: now, db) + store.deleteExpiredRefreshTokens(now: now, db)
        }
    }
}
