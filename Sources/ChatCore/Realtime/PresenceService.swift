import Logging
import Storage
import Synchronization

/// A user's presence as another user may see it.
public struct PresenceStatus: Sendable, Equatable {
    public var userID: Int64
    public var online: Bool
    /// When the user was last connected (unix milliseconds); nil while online, or if never seen.
    public var lastSeenAt: Int64?

    public init(userID: Int64, online: Bool, lastSeenAt: Int64?) {
        self.userID = userID
        self.online = online
        self.lastSeenAt = lastSeenAt
    }
}

/// Presence ("Active now" / "Last seen"): persists `last_seen_at` and publishes `PRESENCE` to friends and
/// co-members on every transition of the ``PresenceTracker``, one transition at a time in the order they
/// happened (so a quick offline → online never reaches clients reversed), and answers presence queries.
///
/// **Large rooms.** Co-members of rooms larger than `audienceRoomLimit` are not told: a user connecting to a room
/// of N online members would otherwise cost N frames, and N users connecting N² (a 1,000-member room measured
/// 840,000 frames in bench/ws.sh). Friends always are; the REST query answers everyone allowed to ask.
public final class PresenceService: Sendable {
    let tracker: PresenceTracker
    private let writer: DatabaseWriter
    private let readers: DatabaseReaderPool
    private let events: any PubSub
    private let store = PresenceStore()
    private let logger = Logger("presence")
    private let transitions: AsyncStream<(userID: Int64, online: Bool, at: Int64)>.Continuation
    private let worker: Task<Void, Never>
    private let stopped = StopFlag()

    private final class StopFlag: Sendable {
        private let value = Mutex(false)
        var isSet: Bool { value.withLock { $0 } }
        func set() { value.withLock { $0 = true } }
    }

    /// Co-members of rooms up to this many members get a user's `PRESENCE` by default.
    public static let defaultAudienceRoomLimit = 100

    public init(
        tracker: PresenceTracker, writer: DatabaseWriter, readers: DatabaseReaderPool, events: any PubSub,
        audienceRoomLimit: Int = PresenceService.defaultAudienceRoomLimit
    ) {
        self.tracker = tracker
        self.writer = writer
        self.readers = readers
        self.events = events
        let (stream, continuation) = AsyncStream<(userID: Int64, online: Bool, at: Int64)>.makeStream()
        transitions = continuation
        tracker.onTransition { userID, online, at in continuation.yield((userID, online, at)) }
        let store = store
        let logger = logger
        let stopped = stopped
        worker = Task.detached {
            for await change in stream {
                // After ``stop()`` the database is about to close; ``stampOnlineUsers(at:)`` covered everyone.
                if stopped.isSet { continue }
                do {
                    // Stamped on both edges: "last seen" stays close to the truth even if the process dies
                    // while the user is online.
                    try await writer.write { db in try store.setLastSeen(userIDs: [change.userID], at: change.at, db) }
                    let audience = try await readers.read { db in
                        try store.audience(of: change.userID, maxRoomMembers: audienceRoomLimit, db)
                    }
                    events.publish(
                        .presence(
                            PresenceChange(
                                userID: change.userID, online: change.online,
                                lastSeenAt: change.online ? nil : change.at, audience: audience)))
                } catch {
                    logger.warn(
                        "presence change not recorded", ["user_id": String(change.userID), "error": "\(error)"])
                }
            }
        }
    }

    deinit {
        transitions.finish()
    }

    /// The presence of `userID` as `viewerID` sees it. ``ChatError/notFound`` unless `viewerID` is the user, a
    /// friend or a co-member (and neither blocked the other): to anyone else it looks like no such user.
    public func presence(of userID: Int64, viewerID: Int64) async throws(ChatError) -> PresenceStatus {
        let store = store
        let found: Int64?? = try await read { db in
            guard try store.isVisible(userID, to: viewerID, db) else { return nil }
            return try store.lastSeen(userID: userID, db)
        }
        guard let lastSeen = found else { throw .notFound }
        let online = tracker.isOnline(userID)
        return PresenceStatus(userID: userID, online: online, lastSeenAt: online ? nil : lastSeen)
    }

    /// Stops recording transitions (at shutdown, before the database closes).
    public func stop() {
        stopped.set()
        transitions.finish()
    }

    /// Stamps `last_seen_at` of everyone online now: at shutdown, so a restart shows when they were last here.
    public func stampOnlineUsers(at now: Int64) async {
        let online = tracker.onlineUserIDs
        guard !online.isEmpty else { return }
        let store = store
        do {
            try await writer.write { db in try store.setLastSeen(userIDs: online, at: now, db) }
        } catch {
            logger.warn("last seen not stamped at shutdown", ["error": "\(error)"])
        }
    }

    private func read<T: Sendable>(_ job: @escaping @Sendable (Database) throws -> T) async throws(ChatError) -> T {
        do {
            return try await readers.read(job)
        } catch {
            throw RoomDatabase.map(error, logger)
        }
    }
}
