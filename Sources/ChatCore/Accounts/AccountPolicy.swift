/// The tunables of accounts and authentication (the `[auth]` and `[cache]` settings).
public struct AccountPolicy: Sendable, Equatable {
    /// `iss` of issued tokens, required on verified ones.
    public var issuer: String
    /// `aud` of issued tokens, required on verified ones.
    public var audience: String
    public var accessTokenLifetime: Duration
    public var refreshTokenLifetime: Duration
    /// bcrypt work factor for new hashes; logins re-hash passwords stored at a lower one.
    public var bcryptCost: Int
    /// Clock skew tolerated on `exp`/`nbf`.
    public var leeway: Duration
    /// How long cached user and session status is trusted: changes made by another process (the
    /// `chat user disable` command) take effect within it. Changes made through this service apply at once.
    public var authCacheTTL: Duration
    /// Entries in each of the user-status and session-status caches.
    public var userCacheCapacity: Int

    public init(
        issuer: String = "chat", audience: String = "chat", accessTokenLifetime: Duration = .seconds(900),
        refreshTokenLifetime: Duration = .seconds(30 * 24 * 3600), bcryptCost: Int = 12,
        leeway: Duration = .seconds(30),
        authCacheTTL: Duration = .seconds(1), userCacheCapacity: Int = 10_000
    ) {
        self.issuer = issuer
        self.audience = audience
        self.accessTokenLifetime = accessTokenLifetime
        self.refreshTokenLifetime = refreshTokenLifetime
        self.bcryptCost = bcryptCost
        self.leeway = leeway
        self.authCacheTTL = authCacheTTL
        self.userCacheCapacity = userCacheCapacity
    }
}

extension Duration {
    /// Whole seconds, sub-second parts dropped.
    var wholeSeconds: Int { Int(clamping: components.seconds) }

    /// Whole milliseconds, sub-millisecond parts dropped.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        return product + attoseconds / 1_000_000_000_000_000
    }
}
