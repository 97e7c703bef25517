import Dispatch
import Synchronization
import Testing

@testable import ChatCore

// MARK: Test doubles

/// A lane that runs each delivery at once (on the hub's queue), counting the hops.
final class InlineTestLane: RealtimeLane {
    private let executions = Atomic<Int>(0)

    var executeCount: Int { executions.load(ordering: .relaxed) }

    func execute(_ work: @escaping @Sendable () -> Void) {
        executions.add(1, ordering: .relaxed)
        work()
    }
}

/// A lane that runs deliveries on its own serial queue, as an event loop would, counting the hops.
final class QueueTestLane: RealtimeLane {
    private let queue = DispatchQueue(label: "realtime-hub-tests-lane")
    private let executions = Atomic<Int>(0)

    var executeCount: Int { executions.load(ordering: .relaxed) }

    func execute(_ work: @escaping @Sendable () -> Void) {
        executions.add(1, ordering: .relaxed)
        queue.async(execute: work)
    }

    /// Returns once every delivery handed to the lane so far has run.
    func drain() {
        queue.sync {}
    }
}

/// An encoder whose frame is the index of the event among those it encoded, so a test can read back which
/// event a delivery carries, and count the encodings.
final class IndexingEncoder: RealtimeEncoder {
    private let encoded = Mutex<[RealtimeEvent]>([])

    var encodeCount: Int { encoded.withLock { $0.count } }

    func frame(for event: RealtimeEvent) -> [UInt8] {
        let index = encoded.withLock { encoded in
            encoded.append(event)
            return encoded.count - 1
        }
        return Array("\(index)".utf8)
    }

    func event(in frame: [UInt8]) -> RealtimeEvent? {
        guard let index = Int(String(decoding: frame, as: UTF8.self)) else { return nil }
        return encoded.withLock { index < $0.count ? $0[index] : nil }
    }
}

/// A connection that records what it is delivered; `onDeliver` runs (on the lane) after each delivery.
final class RecordingSubscriber: RealtimeSubscriber {
    let connectionID: UInt64
    let userID: Int64
    let lane: any RealtimeLane
    private let received = Mutex<[RealtimeDelivery]>([])
    /// Boxed: a closure held directly as a `Mutex` value is rewrapped in thunks on every access.
    private let hook = Mutex<Hook?>(nil)

    private final class Hook: Sendable {
        let run: @Sendable (RealtimeDelivery) -> Void
        init(_ run: @escaping @Sendable (RealtimeDelivery) -> Void) { self.run = run }
    }

    init(connectionID: UInt64, userID: Int64, lane: any RealtimeLane) {
        self.connectionID = connectionID
        self.userID = userID
        self.lane = lane
    }

    var deliveries: [RealtimeDelivery] { received.withLock { $0 } }

    func onDeliver(_ body: @escaping @Sendable (RealtimeDelivery) -> Void) {
        let next = Hook(body)
        hook.withLock { $0 = next }
    }

    func clear() {
        received.withLock { $0.removeAll() }
    }

    func deliver(_ delivery: RealtimeDelivery) {
        received.withLock { $0.append(delivery) }
        hook.withLock { $0 }?.run(delivery)
    }
}

/// A started hub on a ``LocalPubSub`` with the test encoder and an inline lane.
final class HubFixture: Sendable {
    let events = LocalPubSub()
    let encoder = IndexingEncoder()
    let lane = InlineTestLane()
    let hub: RealtimeHub
    private let nextConnectionID = Atomic<UInt64>(0)

    // Long enough that a loaded machine never expires a typing start a test did not mean to expire.
    init(typingTimeout: Duration = .seconds(600), presence: PresenceTracker? = nil) {
        hub = RealtimeHub(events: events, encoder: encoder, presence: presence, typingTimeout: typingTimeout)
        hub.start()
    }

    /// A new connection of `userID`, registered and subscribed to `rooms`.
    func connect(_ userID: Int64, rooms: [Int64] = [], lane: (any RealtimeLane)? = nil) async -> RecordingSubscriber {
        let subscriber = RecordingSubscriber(
            connectionID: nextConnectionID.add(1, ordering: .relaxed).newValue, userID: userID,
            lane: lane ?? self.lane)
        let generation = await register(subscriber)
        #expect(hub.subscribe(subscriber, to: rooms, ifGeneration: generation))
        return subscriber
    }

    /// Registers a connection with the hub; returns its generation.
    func register(_ subscriber: RecordingSubscriber) async -> UInt64 {
        await withCheckedContinuation { continuation in
            hub.connect(subscriber) { continuation.resume(returning: $0) }
        }
    }

    /// Publishes the events and waits until the hub handled them (the inline lane delivers at once).
    func publish(_ events: RealtimeEvent...) async {
        for event in events {
            self.events.publish(event)
        }
        await settle()
    }

    /// Waits until the hub handled every event published so far, and the ones that handling them published
    /// (viewers leaving on a disconnect or a removal, typing stopped).
    func settle() async {
        for _ in 0..<3 {
            await withCheckedContinuation { continuation in
                hub.afterPendingEvents { continuation.resume() }
            }
        }
    }

    /// The events delivered to a connection, in order.
    func received(_ subscriber: RecordingSubscriber) -> [RealtimeEvent] {
        subscriber.deliveries.compactMap { encoder.event(in: $0.frame) }
    }

    func clear(_ subscribers: RecordingSubscriber...) {
        for subscriber in subscribers { subscriber.clear() }
    }
}

/// A value shared with escaping closures.
private final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    var value: Value { mutex.withLock { $0 } }

    func update(_ body: (inout Value) -> Void) {
        mutex.withLock { body(&$0) }
    }
}

/// Polls `condition` every few milliseconds until it holds or `timeout` passed; returns whether it held.
private func eventually(
    timeout: Duration = .seconds(3), _ condition: @Sendable () async -> Bool
) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(5))
    }
}

private func userMessage(room: Int64, seq: Int64, sender: Int64) -> Message {
    Message(
        id: room * 1_000 + seq, roomID: room, seq: seq, senderID: sender, kind: .user, content: "m \(seq)",
        mimeType: "text/plain", createdAt: 1_800_000_000_000 + seq)
}

private func notice(_ actor: Int64, to recipient: Int64, request: Int64? = 9) -> FriendNotice {
    FriendNotice(requestID: request, actorID: actor, recipientID: recipient)
}

// MARK: Tests

/// Who gets which event, subscriptions kept right by membership events, viewers and typing, through
/// ``RealtimeHub`` with test connections, lanes and encoder (no network, no database).
@Suite struct RealtimeHubTests {
    // MARK: Audiences

    @Test func roomEventsReachEveryConnectionOfEveryMemberAndNobodyElse() async {
        let fixture = HubFixture()
        let aliceOne = await fixture.connect(1, rooms: [10, 11])
        let aliceTwo = await fixture.connect(1, rooms: [10, 11])
        let bob = await fixture.connect(2, rooms: [10])
        let carol = await fixture.connect(3, rooms: [20])
        let message = userMessage(room: 10, seq: 5, sender: 2)
        let change = ReactionChange(
            roomID: 10, messageID: message.id, userID: 1, emoji: "👍", added: true,
            reactions: [ReactionSummary(emoji: "👍", count: 1, me: false)])
        let roomEvents: [RealtimeEvent] = [
            .messageCreated(message, origin: 77), .messageUpdated(message),
            .messageDeleted(roomID: 10, messageID: message.id, seq: 5, actorID: 2), .reactionChanged(change),
            .readPosition(roomID: 10, userID: 1, seq: 5),
        ]
        for event in roomEvents { fixture.events.publish(event) }
        await fixture.settle()

        for member in [aliceOne, aliceTwo, bob] {
            #expect(fixture.received(member) == roomEvents)
            #expect(
                member.deliveries.map(\.kind) == [
                    .message(roomID: 10, seq: 5, origin: 77), .room(roomID: 10), .room(roomID: 10),
                    .room(roomID: 10), .room(roomID: 10),
                ])
        }
        #expect(carol.deliveries.isEmpty)

        // Room 11: only Alice's connections.
        await fixture.publish(.messageCreated(userMessage(room: 11, seq: 1, sender: 1), origin: nil))
        #expect(aliceOne.deliveries.count == 6 && aliceTwo.deliveries.count == 6)
        #expect(aliceOne.deliveries.last?.kind == .message(roomID: 11, seq: 1, origin: nil))
        #expect(bob.deliveries.count == 5 && carol.deliveries.isEmpty)
    }

    @Test func anEventForARoomNobodyHereIsInReachesNoOne() async {
        let fixture = HubFixture()
        let alice = await fixture.connect(1, rooms: [10])
        await fixture.publish(.messageCreated(userMessage(room: 99, seq: 1, sender: 5), origin: nil))
        #expect(alice.deliveries.isEmpty)
        #expect(fixture.lane.executeCount == 0)
    }

    @Test func typingGoesToTheOtherUsersViewingTheRoom() async {
        let fixture = HubFixture()
        let aliceViewing = await fixture.connect(1, rooms: [10])
        let aliceNotViewing = await fixture.connect(1, rooms: [10])
        let bobOne = await fixture.connect(2, rooms: [10])
        let bobTwo = await fixture.connect(2, rooms: [10])
        let carolNotViewing = await fixture.connect(3, rooms: [10])
        let daveOtherRoom = await fixture.connect(4, rooms: [10, 20])
        #expect(fixture.hub.view(aliceViewing, roomID: 10) == [1])
        #expect(fixture.hub.view(bobOne, roomID: 10) == [1, 2])
        #expect(fixture.hub.view(bobTwo, roomID: 10) == [1, 2])
        #expect(fixture.hub.view(daveOtherRoom, roomID: 20) == [4])
        await fixture.settle()
        fixture.clear(aliceViewing, aliceNotViewing, bobOne, bobTwo, carolNotViewing, daveOtherRoom)

        let typing = RealtimeEvent.typing(roomID: 10, userID: 2, isTyping: true)
        await fixture.publish(typing)
        #expect(fixture.received(aliceViewing) == [typing])
        #expect(aliceViewing.deliveries.map(\.kind) == [.other])
        // Not Bob's own connections, not the members who are not viewing, not the viewers of another room.
        for other in [aliceNotViewing, bobOne, bobTwo, carolNotViewing, daveOtherRoom] {
            #expect(other.deliveries.isEmpty)
        }

        let stopped = RealtimeEvent.typing(roomID: 10, userID: 1, isTyping: false)
        await fixture.publish(stopped)
        #expect(fixture.received(bobOne) == [stopped] && fixture.received(bobTwo) == [stopped])
        #expect(fixture.received(aliceViewing) == [typing])
    }

    @Test func viewerChangesGoToTheOtherViewers() async {
        let fixture = HubFixture()
        let alice = await fixture.connect(1, rooms: [10])
        let bobOne = await fixture.connect(2, rooms: [10])
        let bobTwo = await fixture.connect(2, rooms: [10])
        let carol = await fixture.connect(3, rooms: [10])
        _ = fixture.hub.view(alice, roomID: 10)
        await fixture.settle()
        // Alice was alone: nobody to tell.
        #expect(alice.deliveries.isEmpty && bobOne.deliveries.isEmpty && carol.deliveries.isEmpty)

        _ = fixture.hub.view(bobOne, roomID: 10)
        _ = fixture.hub.view(bobTwo, roomID: 10)
        await fixture.settle()
        // Bob's first viewing connection joins; his second changes nothing.
        #expect(fixture.received(alice) == [.viewer(roomID: 10, userID: 2, joined: true)])
        #expect(bobOne.deliveries.isEmpty && bobTwo.deliveries.isEmpty && carol.deliveries.isEmpty)

        fixture.hub.unview(bobOne, roomID: 10)
        await fixture.settle()
        #expect(fixture.received(alice) == [.viewer(roomID: 10, userID: 2, joined: true)])
        fixture.hub.unview(bobTwo, roomID: 10)
        await fixture.settle()
        #expect(
            fixture.received(alice) == [
                .viewer(roomID: 10, userID: 2, joined: true), .viewer(roomID: 10, userID: 2, joined: false),
            ])
        #expect(bobOne.deliveries.isEmpty && bobTwo.deliveries.isEmpty && carol.deliveries.isEmpty)
    }

    @Test func presenceGoesToEveryConnectionOfItsAudienceOnly() async {
        let fixture = HubFixture()
        let alice = await fixture.connect(1, rooms: [10])
        let bobOne = await fixture.connect(2)
        let bobTwo = await fixture.connect(2)
        let carol = await fixture.connect(3, rooms: [10])
        let dave = await fixture.connect(4, rooms: [10])
        let change = PresenceChange(userID: 1, online: false, lastSeenAt: 1_800_000_000_000, audience: [2, 3, 99])
        await fixture.publish(.presence(change))
        for told in [bobOne, bobTwo, carol] {
            #expect(fixture.received(told) == [.presence(change)])
            #expect(told.deliveries.map(\.kind) == [.other])
        }
        #expect(alice.deliveries.isEmpty && dave.deliveries.isEmpty)
    }

    @Test func friendNoticesGoToTheRecipientOnly() async {
        let fixture = HubFixture()
        let aliceOne = await fixture.connect(1)
        let aliceTwo = await fixture.connect(1)
        let bob = await fixture.connect(2)
        let carol = await fixture.connect(3)
        let toBob: [RealtimeEvent] = [
            .friendRequest(notice(1, to: 2)), .friendRequestCancelled(notice(1, to: 2)),
            .friendRemoved(userID: 1, otherID: 2),
        ]
        let toAlice: [RealtimeEvent] = [.friendRequestAccepted(notice(2, to: 1))]
        for event in toBob + toAlice { fixture.events.publish(event) }
        await fixture.settle()
        #expect(fixture.received(bob) == toBob)
        #expect(fixture.received(aliceOne) == toAlice && fixture.received(aliceTwo) == toAlice)
        #expect(carol.deliveries.isEmpty)
    }

    // MARK: Fan-out cost

    @Test func eachEventIsEncodedOnceWhateverTheNumberOfRecipients() async {
        let fixture = HubFixture()
        var subscribers: [RecordingSubscriber] = []
        for user in Int64(1)...40 {
            subscribers.append(await fixture.connect(user, rooms: [10]))
            subscribers.append(await fixture.connect(user, rooms: [10]))
        }
        let events: [RealtimeEvent] = [
            .messageCreated(userMessage(room: 10, seq: 1, sender: 1), origin: nil),
            .readPosition(roomID: 10, userID: 2, seq: 1),
            .presence(PresenceChange(userID: 1, online: true, lastSeenAt: nil, audience: Array(2...40))),
        ]
        for event in events { fixture.events.publish(event) }
        await fixture.settle()
        #expect(fixture.encoder.encodeCount == events.count)
        #expect(subscribers.allSatisfy { $0.deliveries.count >= 2 })
        // Every recipient got the very same bytes.
        for index in 0..<2 {
            #expect(Set(subscribers.map { $0.deliveries[index].frame }).count == 1)
        }
    }

    @Test func eachEventIsOneExecutePerLaneWhateverTheNumberOfRecipients() async {
        let fixture = HubFixture()
        let first = QueueTestLane()
        let second = QueueTestLane()
        let idle = QueueTestLane()
        var onFirst: [RecordingSubscriber] = []
        var onSecond: [RecordingSubscriber] = []
        for user in Int64(1)...12 { onFirst.append(await fixture.connect(user, rooms: [10], lane: first)) }
        for user in Int64(13)...17 { onSecond.append(await fixture.connect(user, rooms: [10], lane: second)) }
        let bystander = await fixture.connect(50, rooms: [20], lane: idle)
        for seq in Int64(1)...4 {
            fixture.events.publish(.messageCreated(userMessage(room: 10, seq: seq, sender: 1), origin: nil))
        }
        await fixture.settle()
        first.drain()
        second.drain()
        idle.drain()
        #expect(first.executeCount == 4)
        #expect(second.executeCount == 4)
        #expect(idle.executeCount == 0 && bystander.deliveries.isEmpty)
        for subscriber in onFirst + onSecond {
            #expect(subscriber.deliveries.map(\.kind) == (1...4).map { .message(roomID: 10, seq: $0, origin: nil) })
        }
    }

    // MARK: Membership changes

    @Test func addedMembersAreSubscribedBeforeTheyHearOfIt() async {
        let fixture = HubFixture()
        let hub = fixture.hub
        let aliceOne = await fixture.connect(1, rooms: [10])
        let aliceTwo = await fixture.connect(1)
        let bob = await fixture.connect(2, rooms: [10])
        let subscribedAtDelivery = Locked<[Bool]>([])
        for subscriber in [aliceOne, aliceTwo] {
            subscriber.onDeliver { [weak subscriber] delivery in
                guard let subscriber, delivery.kind == .other else { return }
                subscribedAtDelivery.update { $0.append(hub.isSubscribed(subscriber, to: 30)) }
            }
        }
        let added = RealtimeEvent.membersAdded(roomID: 30, kind: .group, userIDs: [1, 7], actorID: 7)
        let first = RealtimeEvent.messageCreated(userMessage(room: 30, seq: 1, sender: 7), origin: nil)
        fixture.events.publish(added)
        fixture.events.publish(first)
        await fixture.settle()
        #expect(subscribedAtDelivery.value == [true, true])
        #expect(fixture.received(aliceOne) == [added, first] && fixture.received(aliceTwo) == [added, first])
        #expect(aliceOne.deliveries.first?.kind == .other)
        #expect(bob.deliveries.isEmpty)
        #expect(hub.isSubscribed(aliceTwo, to: 30) && hub.isSubscribed(aliceTwo, to: 10) == false)
        #expect(hub.view(aliceTwo, roomID: 30) == [1])
    }

    @Test func removedMembersHearOfItThenAreUnsubscribed() async {
        let fixture = HubFixture()
        let hub = fixture.hub
        let aliceOne = await fixture.connect(1, rooms: [10, 11])
        let aliceTwo = await fixture.connect(1, rooms: [10, 11])
        let bob = await fixture.connect(2, rooms: [10])
        _ = hub.view(aliceOne, roomID: 10)
        _ = hub.view(bob, roomID: 10)
        await fixture.settle()
        fixture.clear(aliceOne, aliceTwo, bob)

        let removed = RealtimeEvent.membersRemoved(roomID: 10, userIDs: [1], reason: "removed", actorID: 2)
        await fixture.publish(removed)
        for alice in [aliceOne, aliceTwo] {
            #expect(fixture.received(alice) == [removed])
            #expect(alice.deliveries.map(\.kind) == [.left(roomID: 10)])
            #expect(!hub.isSubscribed(alice, to: 10) && hub.isSubscribed(alice, to: 11))
        }
        #expect(fixture.received(bob).allSatisfy { if case .membersRemoved = $0 { false } else { true } })

        // No more of the room: its messages, its typing, viewing it.
        fixture.clear(aliceOne, aliceTwo, bob)
        await fixture.publish(
            .messageCreated(userMessage(room: 10, seq: 9, sender: 2), origin: nil),
            .typing(roomID: 10, userID: 2, isTyping: true))
        #expect(aliceOne.deliveries.isEmpty && aliceTwo.deliveries.isEmpty)
        #expect(fixture.received(bob).count == 1)
        #expect(hub.view(aliceTwo, roomID: 10) == nil)
        #expect(hub.typing(aliceOne, roomID: 10, isTyping: true) == false)
        #expect(hub.view(bob, roomID: 10) == [2])
    }

    @Test func aRemovedMemberWhoWasViewingIsAnnouncedAsLeavingToTheOtherViewers() async {
        // docs/realtime-protocol.md: "USER_LEFT … their last [viewing connection] leaves". A member removed from
        // the room stops viewing it, so the viewers who remain must not keep them in their list of viewers.
        let fixture = HubFixture()
        let alice = await fixture.connect(1, rooms: [10])
        let bob = await fixture.connect(2, rooms: [10])
        _ = fixture.hub.view(alice, roomID: 10)
        _ = fixture.hub.view(bob, roomID: 10)
        await fixture.settle()
        fixture.clear(alice, bob)

        await fixture.publish(.membersRemoved(roomID: 10, userIDs: [1], reason: "removed", actorID: 2))
        await fixture.settle()
        #expect(fixture.received(bob) == [.viewer(roomID: 10, userID: 1, joined: false)])
        #expect(fixture.hub.view(bob, roomID: 10) == [2])
    }

    @Test func aMembershipEventBetweenConnectAndSubscribeMakesTheConnectionReadAgain() async {
        let fixture = HubFixture()
        let hub = fixture.hub
        let alice = RecordingSubscriber(connectionID: 500, userID: 1, lane: fixture.lane)
        let generation = await fixture.register(alice)
        #expect(hub.generation(of: alice) == generation)
        // Another user's membership leaves Alice's generation alone.
        await fixture.publish(.membersAdded(roomID: 40, kind: .group, userIDs: [2], actorID: 2))
        #expect(hub.generation(of: alice) == generation)

        await fixture.publish(.membersAdded(roomID: 30, kind: .direct, userIDs: [1, 2], actorID: 2))
        let later = hub.generation(of: alice)
        #expect(later != nil && later != generation)
        #expect(hub.subscribe(alice, to: [10, 20], ifGeneration: generation) == false)
        #expect(!hub.isSubscribed(alice, to: 10) && !hub.isSubscribed(alice, to: 20))
        // The event itself was applied: the connection is in the new room already.
        #expect(hub.isSubscribed(alice, to: 30))

        #expect(hub.subscribe(alice, to: [10, 20, 30], ifGeneration: later!))
        #expect(hub.isSubscribed(alice, to: 10) && hub.isSubscribed(alice, to: 20))

        // A removal bumps the generation too.
        await fixture.publish(.membersRemoved(roomID: 20, userIDs: [1], reason: "left", actorID: 1))
        #expect(hub.generation(of: alice) != later)
        #expect(hub.subscribe(alice, to: [20], ifGeneration: later!) == false)
        #expect(!hub.isSubscribed(alice, to: 20))
    }

    @Test func aConnectionThatIsGoneCannotSubscribe() async {
        let fixture = HubFixture()
        let alice = RecordingSubscriber(connectionID: 1, userID: 1, lane: fixture.lane)
        let stranger = RecordingSubscriber(connectionID: 2, userID: 1, lane: fixture.lane)
        let generation = await fixture.register(alice)
        #expect(fixture.hub.subscribe(stranger, to: [10], ifGeneration: generation) == false)
        fixture.hub.disconnect(alice)
        await fixture.settle()
        #expect(fixture.hub.generation(of: alice) == nil)
        #expect(fixture.hub.subscribe(alice, to: [10], ifGeneration: generation) == false)
        #expect(fixture.hub.connectionCount == 0)
    }

    @Test func eventsPublishedBeforeAConnectionRegisteredNeverReachIt() async {
        let fixture = HubFixture()
        let early = await fixture.connect(2, rooms: [10])
        let alice = RecordingSubscriber(connectionID: 900, userID: 1, lane: fixture.lane)
        let before: [RealtimeEvent] = [
            .presence(PresenceChange(userID: 2, online: true, lastSeenAt: nil, audience: [1])),
            .membersAdded(roomID: 10, kind: .group, userIDs: [1], actorID: 2),
            .messageCreated(userMessage(room: 10, seq: 1, sender: 2), origin: nil),
            .friendRequest(notice(2, to: 1)),
        ]
        // Published, not yet handled, when the connection asks to register.
        for event in before { fixture.events.publish(event) }
        let generation = await fixture.register(alice)
        #expect(fixture.hub.subscribe(alice, to: [10], ifGeneration: generation))
        await fixture.settle()
        #expect(alice.deliveries.isEmpty)
        #expect(fixture.received(early) == [before[2]])

        let after = RealtimeEvent.messageCreated(userMessage(room: 10, seq: 2, sender: 2), origin: nil)
        await fixture.publish(after)
        #expect(fixture.received(alice) == [after])
    }

    // MARK: Disconnecting

    @Test func disconnectForgetsTheConnectionAndAnnouncesTheRoomsItsUserNoLongerViews() async {
        let fixture = HubFixture()
        let hub = fixture.hub
        let aliceOne = await fixture.connect(1, rooms: [10, 20, 30])
        let aliceTwo = await fixture.connect(1, rooms: [10, 20, 30])
        let bob = await fixture.connect(2, rooms: [10, 20, 30])
        #expect(hub.connectionCount == 3)
        _ = hub.view(aliceOne, roomID: 10)
        _ = hub.view(aliceOne, roomID: 20)
        _ = hub.view(aliceTwo, roomID: 10)
        for room: Int64 in [10, 20, 30] { _ = hub.view(bob, roomID: room) }
        await fixture.settle()
        fixture.clear(aliceOne, aliceTwo, bob)

        hub.disconnect(aliceOne)
        await fixture.settle()
        // Alice still views room 10 from her other connection; she never viewed room 30.
        #expect(fixture.received(bob) == [.viewer(roomID: 20, userID: 1, joined: false)])
        #expect(hub.connectionCount == 2)
        #expect(!hub.isSubscribed(aliceOne, to: 10) && hub.generation(of: aliceOne) == nil)
        #expect(hub.view(aliceOne, roomID: 10) == nil)

        await fixture.publish(.messageCreated(userMessage(room: 10, seq: 1, sender: 2), origin: nil))
        #expect(aliceOne.deliveries.isEmpty && aliceTwo.deliveries.count == 1)

        fixture.clear(bob)
        hub.disconnect(aliceTwo)
        await fixture.settle()
        #expect(fixture.received(bob) == [.viewer(roomID: 10, userID: 1, joined: false)])
        #expect(hub.connectionCount == 1)
        #expect(hub.view(bob, roomID: 10) == [2])

        // Disconnecting twice is harmless.
        fixture.clear(bob)
        hub.disconnect(aliceTwo)
        await fixture.settle()
        #expect(bob.deliveries.isEmpty && hub.connectionCount == 1)
    }

    @Test func disconnectingWhileTypingStopsTheTypingFirst() async {
        let fixture = HubFixture()
        let alice = await fixture.connect(1, rooms: [10])
        let bob = await fixture.connect(2, rooms: [10])
        _ = fixture.hub.view(alice, roomID: 10)
        _ = fixture.hub.view(bob, roomID: 10)
        #expect(fixture.hub.typing(alice, roomID: 10, isTyping: true))
        await fixture.settle()
        fixture.clear(bob)
        fixture.hub.disconnect(alice)
        await fixture.settle()
        #expect(
            fixture.received(bob) == [
                .typing(roomID: 10, userID: 1, isTyping: false), .viewer(roomID: 10, userID: 1, joined: false),
            ])
    }

    @Test func presenceFollowsTheUsersFirstAndLastConnection() async {
        let transitions = Locked<[Int64]>([])
        let tracker = PresenceTracker(grace: .milliseconds(20))
        tracker.onTransition { userID, online, _ in transitions.update { $0.append(online ? userID : -userID) } }
        let fixture = HubFixture(presence: tracker)
        let one = await fixture.connect(1)
        let two = await fixture.connect(1)
        #expect(tracker.isOnline(1))
        fixture.hub.disconnect(one)
        #expect(tracker.isOnline(1))
        fixture.hub.disconnect(two)
        #expect(await eventually { !tracker.isOnline(1) })
        #expect(await eventually { transitions.value.count == 2 })
        // Online, then offline (negative): nothing in between for the second connection.
        #expect(transitions.value == [1, -1])
    }

    // MARK: Viewing

    @Test func viewAnswersTheUsersViewingOrNilForARoomTheConnectionIsNotIn() async {
        let fixture = HubFixture()
        let hub = fixture.hub
        let alice = await fixture.connect(1, rooms: [10])
        let bob = await fixture.connect(2, rooms: [10, 20])
        let carol = await fixture.connect(3, rooms: [10])
        #expect(hub.view(alice, roomID: 20) == nil)
        #expect(hub.view(alice, roomID: 10) == [1])
        #expect(hub.view(alice, roomID: 10) == [1])
        #expect(hub.view(carol, roomID: 10) == [1, 3])
        #expect(hub.view(bob, roomID: 10) == [1, 2, 3])
        #expect(hub.view(bob, roomID: 20) == [2])
        await fixture.settle()
        // Viewing twice from the same connection announced nothing more; the refused view, nothing at all.
        #expect(
            fixture.received(alice) == [
                .viewer(roomID: 10, userID: 3, joined: true), .viewer(roomID: 10, userID: 2, joined: true),
            ])
        hub.unview(carol, roomID: 10)
        // Not viewing: nothing happens.
        hub.unview(carol, roomID: 10)
        hub.unview(alice, roomID: 20)
        await fixture.settle()
        #expect(fixture.received(alice).last == .viewer(roomID: 10, userID: 3, joined: false))
        #expect(fixture.received(alice).count == 3)
        #expect(hub.view(bob, roomID: 10) == [1, 2])
    }

    // MARK: Typing

    @Test func typingStartsAreForwardedAtMostOncePerSecond() async {
        let fixture = HubFixture()
        let alice = await fixture.connect(1, rooms: [10])
        let bob = await fixture.connect(2, rooms: [10])
        _ = fixture.hub.view(alice, roomID: 10)
        _ = fixture.hub.view(bob, roomID: 10)
        await fixture.settle()
        fixture.clear(bob)
        for _ in 0..<10 {
            #expect(fixture.hub.typing(alice, roomID: 10, isTyping: true))
        }
        await fixture.settle()
        #expect(fixture.received(bob) == [.typing(roomID: 10, userID: 1, isTyping: true)])

        // Keep typing: once a second has passed since the forwarded start, the next one gets through.
        let forwarded = await eventually {
            _ = fixture.hub.typing(alice, roomID: 10, isTyping: true)
            await fixture.settle()
            return fixture.received(bob).count >= 2
        }
        #expect(forwarded)
        #expect(fixture.received(bob) == Array(repeating: .typing(roomID: 10, userID: 1, isTyping: true), count: 2))
    }

    @Test func aStopIsForwardedOnlyAfterAStart() async {
        let fixture = HubFixture()
        let alice = await fixture.connect(1, rooms: [10])
        let bob = await fixture.connect(2, rooms: [10])
        _ = fixture.hub.view(alice, roomID: 10)
        _ = fixture.hub.view(bob, roomID: 10)
        await fixture.settle()
        fixture.clear(bob)
        #expect(fixture.hub.typing(alice, roomID: 10, isTyping: false))
        await fixture.settle()
        #expect(bob.deliveries.isEmpty)

        _ = fixture.hub.typing(alice, roomID: 10, isTyping: true)
        _ = fixture.hub.typing(alice, roomID: 10, isTyping: false)
        _ = fixture.hub.typing(alice, roomID: 10, isTyping: false)
        // After a stop, a start is forwarded again at once.
        _ = fixture.hub.typing(alice, roomID: 10, isTyping: true)
        await fixture.settle()
        #expect(
            fixture.received(bob) == [
                .typing(roomID: 10, userID: 1, isTyping: true), .typing(roomID: 10, userID: 1, isTyping: false),
                .typing(roomID: 10, userID: 1, isTyping: true),
            ])
    }

    @Test func typingInARoomTheConnectionIsNotInIsIgnored() async {
        let fixture = HubFixture()
        let alice = await fixture.connect(1, rooms: [10])
        let bob = await fixture.connect(2, rooms: [10, 20])
        _ = fixture.hub.view(bob, roomID: 20)
        _ = fixture.hub.view(bob, roomID: 10)
        await fixture.settle()
        fixture.clear(bob)
        #expect(fixture.hub.typing(alice, roomID: 20, isTyping: true) == false)
        // A member may type without viewing; the viewers hear it.
        #expect(fixture.hub.typing(alice, roomID: 10, isTyping: true))
        await fixture.settle()
        #expect(fixture.received(bob) == [.typing(roomID: 10, userID: 1, isTyping: true)])
    }

    @Test func aStartThatIsNotRefreshedExpiresIntoAStopByItself() async {
        let fixture = HubFixture(typingTimeout: .milliseconds(100))
        let alice = await fixture.connect(1, rooms: [10])
        let bob = await fixture.connect(2, rooms: [10])
        _ = fixture.hub.view(alice, roomID: 10)
        _ = fixture.hub.view(bob, roomID: 10)
        await fixture.settle()
        fixture.clear(alice, bob)
        _ = fixture.hub.typing(alice, roomID: 10, isTyping: true)
        let expired = await eventually { fixture.received(bob).count >= 2 }
        #expect(expired)
        #expect(
            fixture.received(bob) == [
                .typing(roomID: 10, userID: 1, isTyping: true), .typing(roomID: 10, userID: 1, isTyping: false),
            ])
        #expect(alice.deliveries.isEmpty)

        // Once expired, a stop is not forwarded again; a new start is.
        _ = fixture.hub.typing(alice, roomID: 10, isTyping: false)
        _ = fixture.hub.typing(alice, roomID: 10, isTyping: true)
        await fixture.settle()
        let received = fixture.received(bob)
        #expect(
            Array(received.prefix(3)) == [
                .typing(roomID: 10, userID: 1, isTyping: true), .typing(roomID: 10, userID: 1, isTyping: false),
                .typing(roomID: 10, userID: 1, isTyping: true),
            ])
        // (That start may have expired already on a busy machine.)
        #expect(received.dropFirst(3).allSatisfy { $0 == .typing(roomID: 10, userID: 1, isTyping: false) })
    }

    @Test func anExplicitStopIsNotFollowedByAnotherAtExpiry() async {
        let fixture = HubFixture(typingTimeout: .milliseconds(100))
        let alice = await fixture.connect(1, rooms: [10])
        let bob = await fixture.connect(2, rooms: [10])
        let carol = await fixture.connect(3, rooms: [10])
        for viewer in [alice, bob, carol] { _ = fixture.hub.view(viewer, roomID: 10) }
        await fixture.settle()
        fixture.clear(alice, bob, carol)
        _ = fixture.hub.typing(alice, roomID: 10, isTyping: true)
        _ = fixture.hub.typing(alice, roomID: 10, isTyping: false)
        // Carol's start expires after Alice's would have (same timeout, scheduled later, same queue).
        _ = fixture.hub.typing(carol, roomID: 10, isTyping: true)
        let carolExpired = await eventually {
            fixture.received(bob).contains(.typing(roomID: 10, userID: 3, isTyping: false))
        }
        #expect(carolExpired)
        #expect(
            fixture.received(bob).filter { if case .typing(_, 1, _) = $0 { true } else { false } } == [
                .typing(roomID: 10, userID: 1, isTyping: true), .typing(roomID: 10, userID: 1, isTyping: false),
            ])
    }
}

/// ``TypingTracker`` alone, with instants chosen by the test.
@Suite struct RealtimeTypingTrackerTests {
    @Test func aStartIsForwardedAgainOnlyOnceASecondPassed() throws {
        let tracker = TypingTracker(timeout: .seconds(6))
        let start = ContinuousClock.now
        let first = try #require(tracker.start(roomID: 1, userID: 1, now: start))
        #expect(first.forward)
        #expect(try #require(tracker.start(roomID: 1, userID: 1, now: start + .milliseconds(999))).forward == false)
        // Another room or user is independent.
        #expect(try #require(tracker.start(roomID: 2, userID: 1, now: start + .milliseconds(1))).forward)
        #expect(try #require(tracker.start(roomID: 1, userID: 2, now: start + .milliseconds(1))).forward)
        // Measured from the last forwarded start, not from the last refresh.
        #expect(try #require(tracker.start(roomID: 1, userID: 1, now: start + .seconds(1))).forward)
        #expect(try #require(tracker.start(roomID: 1, userID: 1, now: start + .milliseconds(1_500))).forward == false)
    }

    @Test func onlyTheLatestStartExpires() throws {
        let tracker = TypingTracker(timeout: .seconds(6))
        let start = ContinuousClock.now
        let first = try #require(tracker.start(roomID: 1, userID: 1, now: start))
        let refresh = try #require(tracker.start(roomID: 1, userID: 1, now: start + .milliseconds(500)))
        #expect(refresh.generation != first.generation)
        #expect(tracker.expire(roomID: 1, userID: 1, token: first.generation) == false)
        #expect(tracker.expire(roomID: 1, userID: 1, token: refresh.generation))
        #expect(tracker.expire(roomID: 1, userID: 1, token: refresh.generation) == false)
        #expect(tracker.stop(roomID: 1, userID: 1) == false)
    }

    @Test func aStopCountsOnlyAfterAStart() throws {
        let tracker = TypingTracker(timeout: .seconds(6))
        #expect(tracker.stop(roomID: 1, userID: 1) == false)
        let token = try #require(tracker.start(roomID: 1, userID: 1, now: .now))
        #expect(tracker.stop(roomID: 1, userID: 1))
        #expect(tracker.stop(roomID: 1, userID: 1) == false)
        #expect(tracker.expire(roomID: 1, userID: 1, token: token.generation) == false)
    }

    @Test func theTimeoutConvertsToADispatchInterval() {
        #expect(TypingTracker(timeout: .milliseconds(100)).timeoutInterval == .milliseconds(100))
        #expect(TypingTracker(timeout: .seconds(6)).timeoutInterval == .milliseconds(6_000))
        #expect(TypingTracker(timeout: .milliseconds(1_250)).timeoutInterval == .milliseconds(1_250))
    }
}
