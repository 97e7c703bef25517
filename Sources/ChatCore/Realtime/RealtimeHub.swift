import Dispatch
import Synchronization

/// The local half of realtime delivery: which connections of this process want which events, and the fan-out
/// to them.
///
/// **Subscriptions.** A connection is subscribed to every room its user is a member of (``subscribe(_:to:ifGeneration:)``
/// once connected, then kept right by `membersAdded` / `membersRemoved` events), and views the rooms it joined.
/// Room events go to the room's subscribers; typing and viewer changes to its viewers; presence and
/// notifications to users' connections.
///
/// **Fan-out.** Events arrive from ``PubSub`` in order and are handled one at a time on the hub's serial
/// queue: the recipients are looked up under the lock, the event is encoded **once**, and the same bytes go
/// to each recipient's lane (event loop) in one `execute` per lane. No per-recipient encoding, task or
/// continuation; a slow connection only fills its own outbound buffer (the WebSocket layer closes it).
///
/// **Initial subscription race.** ``connect(_:_:)`` registers the connection on the hub's queue, so every event
/// published before it (say, of a room whose creation a client saw answered before connecting) is handled
/// before the connection exists and never reaches it. Each user entry has a generation, bumped by every
/// membership event for the user. A connection reads its rooms from the database after it is registered and
/// subscribes only if the generation is still the one `connect` gave; otherwise it reads again. So a
/// membership change that committed while it read is never lost or undone.
public final class RealtimeHub: Sendable {
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "chat-realtime-hub")
    private let encoder: any RealtimeEncoder
    private let events: any PubSub
    private let presence: PresenceTracker?
    private let typing: TypingTracker

    private struct UserEntry {
        var connections: [UInt64: any RealtimeSubscriber] = [:]
        var generation: UInt64 = 0
    }

    private struct ConnectionEntry {
        var rooms: Set<Int64> = []
        var viewing: Set<Int64> = []
    }

    private struct State {
        var users: [Int64: UserEntry] = [:]
        var connections: [UInt64: ConnectionEntry] = [:]
        var rooms: [Int64: [UInt64: any RealtimeSubscriber]] = [:]
        var viewers: [Int64: [UInt64: any RealtimeSubscriber]] = [:]

        func subscribers(ofUsers userIDs: some Sequence<Int64>) -> [any RealtimeSubscriber] {
            userIDs.flatMap { users[$0]?.connections.values.map { $0 } ?? [] }
        }

        func viewerUserIDs(of roomID: Int64) -> Set<Int64> {
            Set((viewers[roomID] ?? [:]).values.map(\.userID))
        }

        mutating func unsubscribe(_ connectionID: UInt64, from roomID: Int64) {
            rooms[roomID]?.removeValue(forKey: connectionID)
            if rooms[roomID]?.isEmpty == true { rooms.removeValue(forKey: roomID) }
            connections[connectionID]?.rooms.remove(roomID)
        }

        /// Stops the connection viewing the room; returns whether its user no longer views it at all.
        mutating func stopViewing(_ subscriber: any RealtimeSubscriber, _ roomID: Int64) -> Bool {
            guard viewers[roomID]?.removeValue(forKey: subscriber.connectionID) != nil else { return false }
            connections[subscriber.connectionID]?.viewing.remove(roomID)
            let remaining = viewers[roomID] ?? [:]
            if remaining.isEmpty { viewers.removeValue(forKey: roomID) }
            return !remaining.values.contains { $0.userID == subscriber.userID }
        }
    }

    /// - Parameters:
    ///   - events: where the hub receives every event, and publishes the ones it makes (typing, viewers).
    ///   - presence: told when a user's first connection opens and their last one closes; nil for none.
    ///   - typingTimeout: how long `is_typing: true` lasts without a refresh.
    public init(
        events: any PubSub, encoder: any RealtimeEncoder, presence: PresenceTracker?,
        typingTimeout: Duration = .seconds(6)
    ) {
        self.events = events
        self.encoder = encoder
        self.presence = presence
        typing = TypingTracker(timeout: typingTimeout)
    }

    /// Starts receiving events (once, after init: the subscription keeps the hub alive).
    public func start() {
        let queue = self.queue
        events.subscribe { [self] event in
            queue.async { self.handle(event) }
        }
    }

    // MARK: Connections

    /// Registers a connection after the events published so far, then calls `registered` (on the hub's queue)
    /// with the generation to pass to ``subscribe(_:to:ifGeneration:)``.
    public func connect(_ subscriber: any RealtimeSubscriber, _ registered: @escaping @Sendable (UInt64) -> Void) {
        queue.async { [self] in
            let (generation, first) = state.withLock { state in
                let first = state.users[subscriber.userID] == nil
                state.users[subscriber.userID, default: UserEntry()].connections[subscriber.connectionID] = subscriber
                state.connections[subscriber.connectionID] = ConnectionEntry()
                return (state.users[subscriber.userID]?.generation ?? 0, first)
            }
            if first { presence?.connected(subscriber.userID) }
            registered(generation)
        }
    }

    /// Subscribes a connection to its user's rooms, read after ``connect(_:)``; false (and nothing done) if a
    /// membership event for the user arrived since, and the rooms must be read again.
    public func subscribe(_ subscriber: any RealtimeSubscriber, to roomIDs: [Int64], ifGeneration generation: UInt64)
        -> Bool
    {
        state.withLock { state in
            guard let user = state.users[subscriber.userID], user.connections[subscriber.connectionID] != nil,
                user.generation == generation
            else { return false }
            for roomID in roomIDs {
                state.rooms[roomID, default: [:]][subscriber.connectionID] = subscriber
            }
            state.connections[subscriber.connectionID]?.rooms.formUnion(roomIDs)
            return true
        }
    }

    /// Forgets a closed connection: its subscriptions and views (other viewers hear `USER_LEFT` where it was the
    /// user's last), and the user's presence when it was their last connection. On the hub's queue, so after
    /// the ``connect(_:_:)`` it undoes.
    public func disconnect(_ subscriber: any RealtimeSubscriber) {
        queue.async { [self] in forget(subscriber) }
    }

    private func forget(_ subscriber: any RealtimeSubscriber) {
        let (left, last) = state.withLock { state -> ([Int64], Bool) in
            guard let entry = state.connections.removeValue(forKey: subscriber.connectionID) else { return ([], false) }
            for roomID in entry.rooms {
                state.unsubscribe(subscriber.connectionID, from: roomID)
            }
            let left = entry.viewing.filter { state.stopViewing(subscriber, $0) }.sorted()
            state.users[subscriber.userID]?.connections.removeValue(forKey: subscriber.connectionID)
            let last = state.users[subscriber.userID]?.connections.isEmpty ?? false
            if last { state.users.removeValue(forKey: subscriber.userID) }
            return (left, last)
        }
        for roomID in left { stoppedViewing(roomID: roomID, userID: subscriber.userID) }
        if last { presence?.disconnected(subscriber.userID) }
    }

    /// The user's generation now (after a failed ``subscribe(_:to:ifGeneration:)``); nil once disconnected.
    public func generation(of subscriber: any RealtimeSubscriber) -> UInt64? {
        state.withLock { state in
            guard state.connections[subscriber.connectionID] != nil else { return nil }
            return state.users[subscriber.userID]?.generation
        }
    }

    /// Whether the connection is subscribed to the room, i.e. its user is a member.
    public func isSubscribed(_ subscriber: any RealtimeSubscriber, to roomID: Int64) -> Bool {
        state.withLock { $0.connections[subscriber.connectionID]?.rooms.contains(roomID) ?? false }
    }

    // MARK: Viewers and typing

    /// Makes the connection a viewer of a room it is subscribed to, and returns the users viewing it now (nil,
    /// and nothing done, if it is not subscribed). Other viewers hear `USER_JOINED` when this is the user's
    /// first viewing connection.
    public func view(_ subscriber: any RealtimeSubscriber, roomID: Int64) -> [Int64]? {
        let result = state.withLock { state -> (users: [Int64], first: Bool)? in
            guard state.connections[subscriber.connectionID]?.rooms.contains(roomID) == true else { return nil }
            let first = !state.viewerUserIDs(of: roomID).contains(subscriber.userID)
            state.viewers[roomID, default: [:]][subscriber.connectionID] = subscriber
            state.connections[subscriber.connectionID]?.viewing.insert(roomID)
            return (state.viewerUserIDs(of: roomID).sorted(), first)
        }
        guard let result else { return nil }
        if result.first { events.publish(.viewer(roomID: roomID, userID: subscriber.userID, joined: true)) }
        return result.users
    }

    /// Stops the connection viewing a room (nothing if it was not).
    public func unview(_ subscriber: any RealtimeSubscriber, roomID: Int64) {
        let left = state.withLock { $0.stopViewing(subscriber, roomID) }
        if left { stoppedViewing(roomID: roomID, userID: subscriber.userID) }
    }

    /// A user's last viewing connection left the room: they stop typing there, and the others hear it.
    private func stoppedViewing(roomID: Int64, userID: Int64) {
        if typing.stop(roomID: roomID, userID: userID) {
            events.publish(.typing(roomID: roomID, userID: userID, isTyping: false))
        }
        events.publish(.viewer(roomID: roomID, userID: userID, joined: false))
    }

    /// A typing signal from a member's connection; false (ignored) if the connection is not subscribed to the
    /// room. Forwarded to viewers as ``TypingTracker`` decides: a start at most once a second, a stop only
    /// after a start, and a stop by itself when starts stop coming.
    @discardableResult
    public func typing(_ subscriber: any RealtimeSubscriber, roomID: Int64, isTyping: Bool) -> Bool {
        guard isSubscribed(subscriber, to: roomID) else { return false }
        let userID = subscriber.userID
        let now = ContinuousClock.now
        if isTyping {
            guard let token = typing.start(roomID: roomID, userID: userID, now: now) else { return true }
            if token.forward { events.publish(.typing(roomID: roomID, userID: userID, isTyping: true)) }
            queue.asyncAfter(deadline: .now() + typing.timeoutInterval) { [weak self] in
                guard let self, typing.expire(roomID: roomID, userID: userID, token: token.generation) else { return }
                events.publish(.typing(roomID: roomID, userID: userID, isTyping: false))
            }
        } else if typing.stop(roomID: roomID, userID: userID) {
            events.publish(.typing(roomID: roomID, userID: userID, isTyping: false))
        }
        return true
    }

    // MARK: Delivery

    /// Connections registered now (for tests and metrics).
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// Runs `body` after every event published before this call was handled (for tests and shutdown).
    public func afterPendingEvents(_ body: @escaping @Sendable () -> Void) {
        queue.async(execute: body)
    }

    private func handle(_ event: RealtimeEvent) {
        var stoppedViewing: [(roomID: Int64, userID: Int64)] = []
        let recipients = state.withLock { state in
            Self.recipients(of: event, in: &state, stoppedViewing: &stoppedViewing)
        }
        for (roomID, userID) in stoppedViewing { self.stoppedViewing(roomID: roomID, userID: userID) }
        guard !recipients.isEmpty else { return }
        let delivery = RealtimeDelivery(kind: Self.kind(of: event), frame: encoder.frame(for: event))
        var lanes: [ObjectIdentifier: (lane: any RealtimeLane, subscribers: [any RealtimeSubscriber])] = [:]
        for subscriber in recipients {
            let lane = subscriber.lane
            lanes[ObjectIdentifier(lane), default: (lane, [])].subscribers.append(subscriber)
        }
        for (lane, subscribers) in lanes.values {
            lane.execute {
                for subscriber in subscribers { subscriber.deliver(delivery) }
            }
        }
    }

    private static func kind(of event: RealtimeEvent) -> RealtimeDelivery.Kind {
        switch event {
        case .messageCreated(let message, let origin):
            .message(roomID: message.roomID, seq: message.seq, origin: origin)
        case .messageUpdated(let message): .room(roomID: message.roomID)
        case .messageDeleted(let roomID, _, _, _), .readPosition(let roomID, _, _): .room(roomID: roomID)
        case .reactionChanged(let change): .room(roomID: change.roomID)
        case .membersRemoved(let roomID, _, _, _): .left(roomID: roomID)
        case .accessEnded(_, let sessionIDs): .accessEnded(sessionIDs: sessionIDs)
        default: .other
        }
    }

    /// Who gets `event`, applying what it changes to the subscriptions first (members added are subscribed
    /// before they hear of it; members removed hear of it, then are unsubscribed, and stop viewing the room:
    /// `stoppedViewing` lists the users who no longer view it at all, for `USER_LEFT`).
    private static func recipients(
        of event: RealtimeEvent, in state: inout State, stoppedViewing: inout [(roomID: Int64, userID: Int64)]
    ) -> [any RealtimeSubscriber] {
        switch event {
        case .messageCreated(let message, _), .messageUpdated(let message):
            return roomSubscribers(message.roomID, state)
        case .messageDeleted(let roomID, _, _, _), .readPosition(let roomID, _, _):
            return roomSubscribers(roomID, state)
        case .reactionChanged(let change):
            return roomSubscribers(change.roomID, state)
        case .typing(let roomID, let userID, _), .viewer(let roomID, let userID, _):
            return (state.viewers[roomID] ?? [:]).values.filter { $0.userID != userID }
        case .presence(let change):
            return state.subscribers(ofUsers: change.audience)
        case .membersAdded(let roomID, _, let userIDs, _):
            for userID in userIDs {
                guard var user = state.users[userID] else { continue }
                user.generation &+= 1
                state.users[userID] = user
                for (connectionID, subscriber) in user.connections {
                    state.rooms[roomID, default: [:]][connectionID] = subscriber
                    state.connections[connectionID]?.rooms.insert(roomID)
                }
            }
            return state.subscribers(ofUsers: userIDs)
        case .membersRemoved(let roomID, let userIDs, _, _):
            let told = state.subscribers(ofUsers: userIDs)
            for userID in userIDs {
                guard var user = state.users[userID] else { continue }
                user.generation &+= 1
                state.users[userID] = user
                for subscriber in user.connections.values {
                    state.unsubscribe(subscriber.connectionID, from: roomID)
                    if state.stopViewing(subscriber, roomID) { stoppedViewing.append((roomID, userID)) }
                }
            }
            return told
        case .friendRequest(let notice), .friendRequestAccepted(let notice), .friendRequestCancelled(let notice):
            return state.subscribers(ofUsers: [notice.recipientID])
        case .friendRemoved(_, let otherID):
            return state.subscribers(ofUsers: [otherID])
        case .accessEnded(let userID, _):
            return state.subscribers(ofUsers: [userID])
        }
    }

    private static func roomSubscribers(_ roomID: Int64, _ state: State) -> [any RealtimeSubscriber] {
        guard let subscribers = state.rooms[roomID] else { return [] }
        return Array(subscribers.values)
    }
}
