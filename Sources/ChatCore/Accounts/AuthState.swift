import Storage
import Synchronization

/// What ``AccountService`` keeps in memory to authenticate requests without the database: the
/// revoked access-token ids, and short-lived caches of user status and session status.
///
/// **Freshness.** Cached statuses expire after `ttl` milliseconds, so changes made by another process
/// (the CLI) are seen within it. Changes made by this process are applied by ``publish(users:sessions:now:)``
/// right after their transaction committed, so they take effect at once.
///
/// **Stale fills.** A lookup reads the database, then fills the caches. Had a change been published
/// between its read and its fill, the fill would put back the old state for a whole TTL. So publishing
/// bumps a generation number, a lookup notes the generation before reading, and ``fill(users:sessions:generation:now:)``
/// drops its values if the generation moved. The generation check and the cache writes of both sides
/// happen under one lock, so neither can slip between the other's check and write.
final class AuthState: Sendable {
    struct UserStatus: Sendable, Equatable {
        var isAdmin: Bool
        var isDisabled: Bool
        /// Also true for an id with no user.
        var isDeleted: Bool

        static let missing = UserStatus(isAdmin: false, isDisabled: false, isDeleted: true)

        init(isAdmin: Bool, isDisabled: Bool, isDeleted: Bool) {
            self.isAdmin = isAdmin
            self.isDisabled = isDisabled
            self.isDeleted = isDeleted
        }

        init(_ record: UserRecord?) {
            guard let record else {
                self = .missing
                return
            }
            self.init(isAdmin: record.isAdmin, isDisabled: record.isDisabled, isDeleted: record.isDeleted)
        }
    }

    struct SessionStatus: Sendable, Equatable {
        var userID: Int64
        var isRevoked: Bool

        /// A session id that does not exist is as good as revoked.
        init(_ record: SessionRecord?) {
            userID = record?.userID ?? 0
            isRevoked = record?.isRevoked ?? true
        }

        init(userID: Int64, isRevoked: Bool) {
            self.userID = userID
            self.isRevoked = isRevoked
        }
    }

    /// Revoked `jti`s with their expiry (unix ms), loaded lazily from the database.
    private struct RevokedTokens {
        var isLoaded = false
        var expiries: [String: Int64] = [:]
        var nextPrune: Int64 = 0
    }

    let users: LRUCache<Int64, UserStatus>
    let sessions: LRUCache<String, SessionStatus>
    let ttl: Int64
    private let generation = Mutex<UInt64>(0)
    private let revoked = Mutex(RevokedTokens())
    /// How often expired revoked ids are swept from memory.
    private static let pruneInterval: Int64 = 60_000

    init(capacity: Int, ttl: Int64) {
        users = LRUCache(capacity: capacity)
        sessions = LRUCache(capacity: capacity)
        self.ttl = ttl
    }

    // MARK: Status caches

    var currentGeneration: UInt64 { generation.withLock { $0 } }

    /// Caches the result of a database lookup started at `generation`, unless a change was published since.
    func fill(users: [Int64: UserStatus], sessions: [String: SessionStatus], generation expected: UInt64, now: Int64) {
        generation.withLock { current in
            guard current == expected else { return }
            store(users: users, sessions: sessions, now: now)
        }
    }

    /// Applies committed changes made by this process, invalidating lookups in flight, and tells the
    /// ``onAccessEnded(_:)`` listener which sessions ended.
    func publish(users: [Int64: UserStatus] = [:], sessions: [String: SessionStatus] = [:], now: Int64) {
        generation.withLock { current in
            current &+= 1
            store(users: users, sessions: sessions, now: now)
        }
        guard let listener = accessEnded.withLock({ $0 }) else { return }
        let everySession = Set(users.filter { $0.value.isDisabled || $0.value.isDeleted }.keys)
        var revoked: [Int64: Set<String>] = [:]
        for (id, status) in sessions where status.isRevoked && !everySession.contains(status.userID) {
            revoked[status.userID, default: []].insert(id)
        }
        for userID in everySession { listener.notify(userID, nil) }
        for (userID, sessionIDs) in revoked { listener.notify(userID, sessionIDs) }
    }

    /// Where ended sessions are reported (boxed: a closure held as a `Mutex` value is rewrapped on every access).
    final class AccessEndedListener: Sendable {
        let notify: @Sendable (_ userID: Int64, _ sessionIDs: Set<String>?) -> Void
        init(_ notify: @escaping @Sendable (_ userID: Int64, _ sessionIDs: Set<String>?) -> Void) {
            self.notify = notify
        }
    }

    private let accessEnded = Mutex<AccessEndedListener?>(nil)
    /// Session and user ids reported by ``unreported(sessions:users:since:)``, with when, while in its window.
    private let reported = Mutex<(sessions: [String: Int64], users: [Int64: Int64])>(([:], [:]))

    /// The ids among these not already reported by a poll whose window overlaps `since`; records them as
    /// reported at `now`. An id is forgotten once a window starts after its report: by then the change it
    /// stands for is older than the window, and the poll's query no longer returns it.
    func unreported(
        sessions: [String], users: [Int64], since: Int64, now: Int64
    ) -> (sessions: Set<String>, users: Set<Int64>) {
        reported.withLock { reported in
            reported.sessions = reported.sessions.filter { $0.value >= since }
            reported.users = reported.users.filter { $0.value >= since }
            let newSessions = Set(sessions.filter { reported.sessions[$0] == nil })
            let newUsers = Set(users.filter { reported.users[$0] == nil })
            for id in newSessions { reported.sessions[id] = now }
            for id in newUsers { reported.users[id] = now }
            return (newSessions, newUsers)
        }
    }

    /// Sets the listener for ended sessions (nil session set: all of the user's).
    func onAccessEnded(_ notify: @escaping @Sendable (_ userID: Int64, _ sessionIDs: Set<String>?) -> Void) {
        let listener = AccessEndedListener(notify)
        accessEnded.withLock { $0 = listener }
    }

    private func store(users: [Int64: UserStatus], sessions: [String: SessionStatus], now: Int64) {
        let expiresAt = now &+ ttl
        for (id, status) in users {
            self.users.setValue(status, forKey: id, expiresAt: expiresAt)
        }
        for (id, status) in sessions {
            self.sessions.setValue(status, forKey: id, expiresAt: expiresAt)
        }
    }

    // MARK: Revoked tokens

    /// Whether `jti` is revoked, or nil while the list is not loaded yet.
    func isRevoked(_ jti: String, now: Int64) -> Bool? {
        revoked.withLock { state in
            guard state.isLoaded else { return nil }
            if now >= state.nextPrune {
                state.expiries = state.expiries.filter { $0.value > now }
                state.nextPrune = now + Self.pruneInterval
            }
            guard let expiresAt = state.expiries[jti] else { return false }
            return expiresAt > now
        }
    }

    var isRevocationListLoaded: Bool { revoked.withLock { $0.isLoaded } }

    /// Merges the list read from the database with revocations this process made meanwhile.
    func loadRevoked(_ records: [RevokedTokenRecord]) {
        revoked.withLock { state in
            for record in records {
                state.expiries[record.jti] = max(state.expiries[record.jti] ?? .min, record.expiresAt)
            }
            state.isLoaded = true
        }
    }

    func addRevoked(_ record: RevokedTokenRecord) {
        revoked.withLock { state in
            state.expiries[record.jti] = max(state.expiries[record.jti] ?? .min, record.expiresAt)
        }
    }
}
