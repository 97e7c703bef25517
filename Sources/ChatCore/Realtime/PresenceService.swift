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
    private let transitions = TransitionQueue()
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
        let transitions = transitions
        tracker.onTransition { userID, online, at in
            transitions.push(Transition(userID: userID, online: online, at: at))
        }
        let store = store
        let logger = logger
        let stopped = stopped
        worker = Task.detached {
            // Whatever piled up is handled together: 10,000 users connecting at once cost one write and one
            // read, not 10,000 commits queued in front of everyone's messages.
            while let batch = await transitions.takeAll() {
                // After ``stop()`` the database is about to close; ``stampOnlineUsers(at:)`` covered everyone.
                if stopped.isSet { continue }
                do {
                    // Stamped on both edges: "last seen" stays close to the truth even if the process dies
                    // while the user is online.
                    try await writer.write { db in
                        for change in batch { try store.setLastSeen(userIDs: [change.userID], at: change.at, db) }
                    }
                    let audiences = try await readers.read { db in
                        try batch.map { try store.audience(of: $0.userID, maxRoomMembers: audienceRoomLimit, db) }
                    }
                    for (change, audience) in zip(batch, audiences) {
                        events.publish(
                            .presence(
                                PresenceChange(
                                    userID: change.userID, online: change.online,
                                    lastSeenAt: change.online ? nil : change.at, audience: audience)))
                    }
                } catch {
                    logger.warn("presence changes not recorded", ["count": String(batch.count), "error": "\(error)"])
                }
            }
        }
    }

    deinit {
        transitions.finish()
    }

    private struct Transition: Sendable {
        var userID: Int64
        var online: Bool
        var at: Int64
    }

    /// Transitions waiting for the worker, taken all at once.
    private final class TransitionQueue: Sendable {
        private struct State {
            var items: [Transition] = []
            var waiter: CheckedContinuation<[Transition]?, Never>?
            var finished = false
        }

        private let state = Mutex(State())

        func push(_ transition: Transition) {
            state.withLock { state in
                guard !state.finished else { return }
                if let waiter = state.waiter {
                    state.waiter = nil
                    waiter.resume(returning: [transition])
                } else {
                    state.items.append(transition)
                }
            }
        }

        /// Everything queued, waiting for at least one; nil once finished.
        func takeAll() async -> [Transition]? {
            await withCheckedContinuation { continuation in
                state.withLock { state in
                    if !state.items.isEmpty {
                        let items = state.items
                        state.items = []
                        continuation.resume(returning: items)
                    } else if state.finished {
                        continuation.resume(returning: nil)
                    } else {
                        state.waiter = continuation
                    }
                }
            }
        }

        func finish() {
            state.withLock { state in
                state.finished = true
                state.waiter?.resume(returning: nil)
                state.waiter = nil
            }
        }
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
