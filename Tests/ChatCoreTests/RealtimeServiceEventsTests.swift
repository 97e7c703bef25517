import Storage
import Synchronization
import Testing

@testable import ChatCore

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

    /// The value, replaced by `empty`.
    func take(replacingWith empty: Value) -> Value {
        mutex.withLock { value in
            defer { value = empty }
            return value
        }
    }
}

/// The message, room and social services over a fresh migrated database (``AccountFixture``), all publishing
/// through one ``LocalPubSub`` whose events are recorded. Direct rooms need no friendship.
private final class EventsFixture: Sendable {
    let accounts: AccountFixture
    let access: RoomAccess
    let events = LocalPubSub()
    let recorded = Locked<[RealtimeEvent]>([])
    let rooms: RoomService
    let social: SocialService
    let messages: MessageService

    init() throws {
        accounts = try AccountFixture()
        access = RoomAccess(readers: accounts.readers)
        let clock = accounts.clock
        var policy = ChatPolicy()
        policy.dmPolicy = .anyone
        rooms = RoomService(
            writer: accounts.writer, readers: accounts.readers, access: access, policy: policy, events: events,
            clock: { clock.now })
        social = SocialService(
            writer: accounts.writer, readers: accounts.readers, access: access, events: events, clock: { clock.now })
        messages = MessageService(
            writer: accounts.writer, readers: accounts.readers, access: access, events: events, clock: { clock.now })
        let recorded = recorded
        events.subscribe { event in recorded.update { $0.append(event) } }
    }

    var clock: TestClock { accounts.clock }

    func close() {
        accounts.close()
    }

    func user(_ name: String) async throws -> Int64 {
        try await accounts.register(name).user.id
    }

    /// The events published since the last call.
    func take() -> [RealtimeEvent] {
        recorded.take(replacingWith: [])
    }

    /// The direct room of two users (its `membersAdded` event taken).
    func direct(_ first: Int64, _ second: Int64) async throws -> Int64 {
        let roomID = try await rooms.openDirectRoom(userID: first, peerID: second).room.id
        _ = take()
        return roomID
    }

    /// A group of `owner` and `members` (its events taken).
    func group(_ owner: Int64, _ members: [Int64]) async throws -> Int64 {
        let roomID = try await rooms.createGroup(userID: owner, name: "room", memberIDs: members).id
        _ = take()
        return roomID
    }
}

private func withEvents(_ body: (EventsFixture) async throws -> Void) async throws {
    let fixture = try EventsFixture()
    defer { fixture.close() }
    try await body(fixture)
}

/// The ``ChatError`` `body` throws, or nil.
private func chatError<T>(_ body: () async throws -> T) async -> ChatError? {
    do {
        _ = try await body()
        return nil
    } catch let error as ChatError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

/// The system event type of a published new message, nil for anything else.
private func systemType(_ event: RealtimeEvent) -> String? {
    guard case .messageCreated(let message, let origin) = event, origin == nil, message.kind == .system else {
        return nil
    }
    return message.event?.type
}

/// Polls `condition` until it holds or `timeout` passed; returns whether it held.
private func eventually(timeout: Duration = .seconds(3), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(5))
    }
}

/// What the services publish through ``PubSub`` once a change committed, and that a refused change publishes
/// nothing; and ``PresenceService``.
@Suite struct RealtimeServiceEventsTests {
    // MARK: Messages

    @Test func sendingPublishesTheNewMessageWithItsOriginOnce() async throws {
        try await withEvents { fixture in
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let roomID = try await fixture.direct(alice, bob)

            let rest = try await fixture.messages.send(roomID: roomID, senderID: alice, content: "hi").message
            #expect(fixture.take() == [.messageCreated(rest, origin: nil)])
            #expect(rest.seq == 1 && rest.senderID == alice)

            let (socket, duplicate) = try await fixture.messages.send(
                roomID: roomID, senderID: bob, content: "hey", clientMessageID: "k1", origin: 42)
            #expect(!duplicate)
            #expect(fixture.take() == [.messageCreated(socket, origin: 42)])

            // A retry with the same key is answered with the original and announced to nobody.
            let retry = try await fixture.messages.send(
                roomID: roomID, senderID: bob, content: "hey", clientMessageID: "k1", origin: 43)
            #expect(retry.duplicate && retry.message.id == socket.id)
            #expect(fixture.take().isEmpty)
        }
    }

    @Test func eventsArePublishedOnlyOnceTheChangeIsCommitted() async throws {
        try await withEvents { fixture in
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let roomID = try await fixture.direct(alice, bob)
            let readers = fixture.accounts.readers
            let visible = Locked<[Bool]>([])
            fixture.events.subscribe { event in
                guard case .messageCreated(let message, _) = event else { return }
                // On the writer thread, from another connection: only committed rows are visible.
                let found = try? readers.readSync { db in
                    try db.queryOne("SELECT count(*) FROM messages WHERE id = ?", [.integer(message.id)])?[0].int
                }
                visible.update { $0.append(found == 1) }
            }
            for index in 0..<5 {
                _ = try await fixture.messages.send(roomID: roomID, senderID: alice, content: "m\(index)")
            }
            #expect(visible.value == Array(repeating: true, count: 5))
        }
    }

    @Test func concurrentSendsToOneRoomArePublishedInSeqOrder() async throws {
        try await withEvents { fixture in
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let roomID = try await fixture.group(alice, [bob])
            let messages = fixture.messages
            let sent = try await withThrowingTaskGroup(of: Int64.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        try await messages.send(
                            roomID: roomID, senderID: index.isMultiple(of: 2) ? alice : bob, content: "m\(index)",
                            origin: UInt64(index)
                        ).message.seq
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let published = fixture.take().compactMap { event -> Int64? in
                guard case .messageCreated(let message, _) = event, message.roomID == roomID else { return nil }
                return message.seq
            }
            #expect(published.count == 200)
            #expect(zip(published, published.dropFirst()).allSatisfy { $0 < $1 })
            #expect(published == sent.sorted())
        }
    }

    @Test func editDeleteAndReactionsArePublished() async throws {
        try await withEvents { fixture in
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let roomID = try await fixture.direct(alice, bob)
            let message = try await fixture.messages.send(roomID: roomID, senderID: alice, content: "hi").message
            _ = fixture.take()

            fixture.clock.advance(milliseconds: 5)
            let edited = try await fixture.messages.edit(
                roomID: roomID, messageID: message.id, userID: alice, content: "hello")
            let published = fixture.take()
            #expect(published == [.messageUpdated(edited.withoutViewer)])
            if case .messageUpdated(let updated) = published.first {
                #expect(updated.content == "hello" && updated.editedAt == fixture.clock.now)
                #expect(updated.seq == message.seq && updated.id == message.id)
            }

            _ = try await fixture.messages.react(roomID: roomID, messageID: message.id, userID: bob, emoji: "👍")
            #expect(
                fixture.take() == [
                    .reactionChanged(
                        ReactionChange(
                            roomID: roomID, messageID: message.id, userID: bob, emoji: "👍", added: true,
                            reactions: [ReactionSummary(emoji: "👍", count: 1, me: false)]))
                ])
            _ = try await fixture.messages.react(roomID: roomID, messageID: message.id, userID: alice, emoji: "👍")
            #expect(
                fixture.take() == [
                    .reactionChanged(
                        ReactionChange(
                            roomID: roomID, messageID: message.id, userID: alice, emoji: "👍", added: true,
                            reactions: [ReactionSummary(emoji: "👍", count: 2, me: false)]))
                ])
            // Reacting again changes nothing and announces nothing.
            _ = try await fixture.messages.react(roomID: roomID, messageID: message.id, userID: bob, emoji: "👍")
            #expect(fixture.take().isEmpty)
            _ = try await fixture.messages.unreact(roomID: roomID, messageID: message.id, userID: bob, emoji: "👍")
            #expect(
                fixture.take() == [
                    .reactionChanged(
                        ReactionChange(
                            roomID: roomID, messageID: message.id, userID: bob, emoji: "👍", added: false,
                            reactions: [ReactionSummary(emoji: "👍", count: 1, me: false)]))
                ])
            _ = try await fixture.messages.unreact(roomID: roomID, messageID: message.id, userID: bob, emoji: "👍")
            #expect(fixture.take().isEmpty)

            let tombstone = try await fixture.messages.delete(roomID: roomID, messageID: message.id, userID: alice)
            #expect(
                fixture.take() == [
                    .messageDeleted(roomID: roomID, messageID: message.id, seq: message.seq, actorID: alice)
                ])
            #expect(tombstone.isDeleted)
            // Deleting a tombstone again announces nothing.
            _ = try await fixture.messages.delete(roomID: roomID, messageID: message.id, userID: alice)
            #expect(fixture.take().isEmpty)
        }
    }

    @Test func aReadPositionIsPublishedWhenItMovesForward() async throws {
        try await withEvents { fixture in
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let roomID = try await fixture.direct(alice, bob)
            for index in 0..<3 {
                _ = try await fixture.messages.send(roomID: roomID, senderID: alice, content: "m\(index)")
            }
            _ = fixture.take()

            _ = try await fixture.messages.markRead(roomID: roomID, userID: bob, seq: 1)
            #expect(fixture.take() == [.readPosition(roomID: roomID, userID: bob, seq: 1)])
            // At or behind the position: nothing.
            _ = try await fixture.messages.markRead(roomID: roomID, userID: bob, seq: 1)
            _ = try await fixture.messages.markRead(roomID: roomID, userID: bob, seq: 0)
            #expect(fixture.take().isEmpty)
            // Past the newest message: clamped to it.
            _ = try await fixture.messages.markRead(roomID: roomID, userID: bob, seq: 99)
            #expect(fixture.take() == [.readPosition(roomID: roomID, userID: bob, seq: 3)])
            // The sender's position moved when she sent.
            _ = try await fixture.messages.markRead(roomID: roomID, userID: alice, seq: 3)
            #expect(fixture.take().isEmpty)
        }
    }

    @Test func refusedMessageChangesPublishNothing() async throws {
        try await withEvents { fixture in
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let stranger = try await fixture.user("stranger")
            let roomID = try await fixture.direct(alice, bob)
            let message = try await fixture.messages.send(roomID: roomID, senderID: alice, content: "hi").message
            _ = fixture.take()
            let messages = fixture.messages

            #expect(
                await chatError { try await messages.send(roomID: roomID, senderID: stranger, content: "x") }
                    == .notFound)
            #expect(await chatError { try await messages.send(roomID: roomID, senderID: alice, content: "") } != nil)
            #expect(
                await chatError {
                    try await messages.send(roomID: roomID, senderID: alice, content: "x", mimeType: "image/gif")
                }?.fieldNames == ["mime_type"])
            // Refused inside the writer job, after the checks that run before it.
            #expect(
                await chatError {
                    try await messages.send(roomID: roomID, senderID: alice, content: "x", replyTo: 999_999)
                }?.fieldNames == ["reply_to"])
            #expect(
                await chatError {
                    try await messages.edit(roomID: roomID, messageID: message.id, userID: bob, content: "mine")
                } == .forbidden)
            #expect(
                await chatError {
                    try await messages.edit(roomID: roomID, messageID: message.id, userID: stranger, content: "x")
                } == .notFound)
            #expect(
                await chatError { try await messages.delete(roomID: roomID, messageID: message.id, userID: bob) }
                    == .forbidden)
            #expect(
                await chatError {
                    try await messages.react(roomID: roomID, messageID: message.id, userID: bob, emoji: "a b")
                }?.fieldNames == ["emoji"])
            #expect(
                await chatError {
                    try await messages.react(roomID: roomID, messageID: 999_999, userID: bob, emoji: "👍")
                } == .notFound)
            #expect(
                await chatError { try await messages.markRead(roomID: roomID, userID: stranger, seq: 1) }
                    == .notFound)
            #expect(
                await chatError { try await messages.markRead(roomID: roomID, userID: bob, seq: -1) }?.fieldNames
                    == ["seq"])
            try await fixture.social.block(userID: bob, targetID: alice)
            _ = fixture.take()
            #expect(
                await chatError { try await messages.send(roomID: roomID, senderID: alice, content: "x") }
                    == .notAllowed)
            #expect(fixture.take().isEmpty)
        }
    }

    // MARK: Rooms

    @Test func creatingAGroupSubscribesItsMembersBeforeItsSystemMessages() async throws {
        try await withEvents { fixture in
            let (alice, bob, carol) = (
                try await fixture.user("alice"), try await fixture.user("bob"), try await fixture.user("carol")
            )
            let room = try await fixture.rooms.createGroup(userID: alice, name: "trip", memberIDs: [bob, carol, bob])
            let published = fixture.take()
            #expect(published.count == 3)
            guard published.count == 3 else { return }
            guard case .membersAdded(let roomID, let kind, let userIDs, let actorID) = published[0] else {
                Issue.record("first event is \(published[0])")
                return
            }
            #expect(roomID == room.id && kind == .group && actorID == alice)
            #expect(userIDs.first == alice && userIDs.sorted() == [alice, bob, carol].sorted())
            #expect(published.dropFirst().map(systemType) == ["room_created", "members_added"])
            let timeline = try await fixture.messages.history(roomID: room.id, userID: alice, afterSeq: 0).messages
            #expect(
                published.dropFirst().map { event -> Message? in
                    if case .messageCreated(let message, _) = event { message } else { nil }
                } == timeline.map { Optional($0) })
        }
    }

    @Test func openingADirectRoomPublishesItOnceForBoth() async throws {
        try await withEvents { fixture in
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let opened = try await fixture.rooms.openDirectRoom(userID: alice, peerID: bob)
            #expect(
                fixture.take() == [
                    .membersAdded(roomID: opened.room.id, kind: .direct, userIDs: [alice, bob], actorID: alice)
                ])
            _ = try await fixture.rooms.openDirectRoom(userID: bob, peerID: alice)
            _ = try await fixture.rooms.openDirectRoom(userID: alice, peerID: bob)
            #expect(fixture.take().isEmpty)
            #expect(await chatError { try await fixture.rooms.openDirectRoom(userID: alice, peerID: alice) } != nil)
            #expect(fixture.take().isEmpty)
        }
    }

    @Test func addingMembersPublishesThemThenTheSystemMessage() async throws {
        try await withEvents { fixture in
            let (alice, bob, carol, dave) = (
                try await fixture.user("alice"), try await fixture.user("bob"), try await fixture.user("carol"),
                try await fixture.user("dave")
            )
            let roomID = try await fixture.group(alice, [bob])
            _ = try await fixture.rooms.addMembers(roomID: roomID, userID: alice, userIDs: [carol, bob])
            let published = fixture.take()
            #expect(published.first == .membersAdded(roomID: roomID, kind: .group, userIDs: [carol], actorID: alice))
            #expect(published.dropFirst().map(systemType) == ["members_added"])

            // Nobody new: nothing. A plain member may not add: nothing.
            _ = try await fixture.rooms.addMembers(roomID: roomID, userID: alice, userIDs: [bob, carol])
            #expect(fixture.take().isEmpty)
            #expect(
                await chatError { try await fixture.rooms.addMembers(roomID: roomID, userID: bob, userIDs: [dave]) }
                    == .forbidden)
            #expect(fixture.take().isEmpty)
        }
    }

    @Test func removingAMemberTellsThemWhyThenRemovesThem() async throws {
        try await withEvents { fixture in
            let (alice, bob, carol) = (
                try await fixture.user("alice"), try await fixture.user("bob"), try await fixture.user("carol")
            )
            let roomID = try await fixture.group(alice, [bob, carol])
            #expect(
                await chatError { try await fixture.rooms.removeMember(roomID: roomID, userID: bob, memberID: carol) }
                    == .forbidden)
            #expect(fixture.take().isEmpty)

            try await fixture.rooms.removeMember(roomID: roomID, userID: alice, memberID: bob)
            let published = fixture.take()
            #expect(published.count == 2)
            #expect(published.first.flatMap(systemType) == "member_removed")
            #expect(
                published.last == .membersRemoved(roomID: roomID, userIDs: [bob], reason: "removed", actorID: alice))

            #expect(
                await chatError { try await fixture.rooms.removeMember(roomID: roomID, userID: alice, memberID: bob) }
                    == .notFound)
            #expect(fixture.take().isEmpty)
        }
    }

    @Test func leavingPublishesTheDepartureThenTheSystemMessages() async throws {
        try await withEvents { fixture in
            let (alice, bob, carol) = (
                try await fixture.user("alice"), try await fixture.user("bob"), try await fixture.user("carol")
            )
            let roomID = try await fixture.group(alice, [bob, carol])
            try await fixture.rooms.removeMember(roomID: roomID, userID: carol, memberID: carol)
            let left = fixture.take()
            #expect(left.first == .membersRemoved(roomID: roomID, userIDs: [carol], reason: "left", actorID: carol))
            #expect(left.dropFirst().map(systemType) == ["member_left"])

            // The owner leaving hands the room over, which is recorded too.
            try await fixture.rooms.removeMember(roomID: roomID, userID: alice, memberID: alice)
            let ownerLeft = fixture.take()
            #expect(
                ownerLeft.first == .membersRemoved(roomID: roomID, userIDs: [alice], reason: "left", actorID: alice))
            #expect(ownerLeft.dropFirst().map(systemType) == ["member_left", "owner_changed"])
        }
    }

    @Test func deletingAGroupRemovesEveryMember() async throws {
        try await withEvents { fixture in
            let (alice, bob, carol) = (
                try await fixture.user("alice"), try await fixture.user("bob"), try await fixture.user("carol")
            )
            let roomID = try await fixture.group(alice, [bob, carol])
            #expect(await chatError { try await fixture.rooms.deleteRoom(id: roomID, userID: bob) } == .forbidden)
            #expect(fixture.take().isEmpty)

            try await fixture.rooms.deleteRoom(id: roomID, userID: alice)
            let published = fixture.take()
            #expect(published.count == 1)
            guard case .membersRemoved(let removedRoom, let userIDs, let reason, let actorID) = published.first else {
                Issue.record("published \(published)")
                return
            }
            #expect(removedRoom == roomID && reason == "deleted" && actorID == alice)
            #expect(userIDs.sorted() == [alice, bob, carol].sorted())
        }
    }

    @Test func renamingPublishesTheSystemMessage() async throws {
        try await withEvents { fixture in
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let roomID = try await fixture.group(alice, [bob])
            _ = try await fixture.rooms.updateRoom(id: roomID, userID: alice, name: "renamed")
            #expect(fixture.take().map(systemType) == ["room_renamed"])
            #expect(await chatError { try await fixture.rooms.updateRoom(id: roomID, userID: bob, name: "x") } != nil)
            #expect(await chatError { try await fixture.rooms.updateRoom(id: roomID, userID: alice, name: "") } != nil)
            #expect(fixture.take().isEmpty)
        }
    }

    @Test func refusedGroupCreationPublishesNothing() async throws {
        try await withEvents { fixture in
            let alice = try await fixture.user("alice")
            #expect(await chatError { try await fixture.rooms.createGroup(userID: alice, name: "  ") } != nil)
            #expect(
                await chatError { try await fixture.rooms.createGroup(userID: alice, name: "x", memberIDs: [999]) }?
                    .fieldNames == ["member_ids"])
            #expect(fixture.take().isEmpty)
        }
    }

    // MARK: Friends

    @Test func friendRequestsAreAnnouncedToTheOtherSide() async throws {
        try await withEvents { fixture in
            let (alice, bob, carol) = (
                try await fixture.user("alice"), try await fixture.user("bob"), try await fixture.user("carol")
            )
            let social = fixture.social
            let request = try #require(try await social.sendFriendRequest(from: alice, to: bob).pendingRequest)
            #expect(
                fixture.take() == [
                    .friendRequest(FriendNotice(requestID: request.id, actorID: alice, recipientID: bob))
                ])

            _ = try await social.acceptFriendRequest(id: request.id, userID: bob)
            #expect(
                fixture.take() == [
                    .friendRequestAccepted(FriendNotice(requestID: request.id, actorID: bob, recipientID: alice))
                ])

            try await social.unfriend(userID: bob, friendID: alice)
            #expect(fixture.take() == [.friendRemoved(userID: bob, otherID: alice)])
            #expect(await chatError { try await social.unfriend(userID: bob, friendID: alice) } == .notFound)
            #expect(fixture.take().isEmpty)

            let toCarol = try #require(try await social.sendFriendRequest(from: alice, to: carol).pendingRequest)
            _ = fixture.take()
            #expect(
                await chatError { try await social.cancelFriendRequest(id: toCarol.id, userID: carol) } == .notFound)
            #expect(fixture.take().isEmpty)
            try await social.cancelFriendRequest(id: toCarol.id, userID: alice)
            #expect(
                fixture.take() == [
                    .friendRequestCancelled(FriendNotice(requestID: toCarol.id, actorID: alice, recipientID: carol))
                ])
        }
    }

    @Test func askingBackAcceptsAndRejectingIsNotAnnounced() async throws {
        try await withEvents { fixture in
            let (alice, bob, carol) = (
                try await fixture.user("alice"), try await fixture.user("bob"), try await fixture.user("carol")
            )
            let social = fixture.social
            let request = try #require(try await social.sendFriendRequest(from: alice, to: bob).pendingRequest)
            _ = fixture.take()
            #expect(try await social.sendFriendRequest(from: bob, to: alice).acceptedFriend != nil)
            #expect(
                fixture.take() == [
                    .friendRequestAccepted(FriendNotice(requestID: request.id, actorID: bob, recipientID: alice))
                ])

            let toCarol = try #require(try await social.sendFriendRequest(from: alice, to: carol).pendingRequest)
            _ = fixture.take()
            try await social.rejectFriendRequest(id: toCarol.id, userID: carol)
            #expect(fixture.take().isEmpty)

            #expect(await chatError { try await social.sendFriendRequest(from: alice, to: alice) } != nil)
            #expect(
                await chatError { try await social.sendFriendRequest(from: alice, to: bob) }
                    == .conflict(code: "already_friends"))
            try await social.block(userID: carol, targetID: alice)
            #expect(fixture.take().isEmpty)
        }
    }

    // MARK: Presence

    @Test func presenceIsVisibleToTheUserFriendsAndCoMembersOnly() async throws {
        try await withEvents { fixture in
            let alice = try await fixture.user("alice")
            let (friend, member, stranger) = (
                try await fixture.user("friend"), try await fixture.user("member"), try await fixture.user("stranger")
            )
            let (blocked, blocker) = (try await fixture.user("blocked"), try await fixture.user("blocker"))
            _ = try await fixture.social.sendFriendRequest(from: alice, to: friend)
            _ = try await fixture.social.sendFriendRequest(from: friend, to: alice)
            _ = try await fixture.group(alice, [member, blocked, blocker])
            try await fixture.social.block(userID: alice, targetID: blocked)
            try await fixture.social.block(userID: blocker, targetID: alice)
            let presence = PresenceService(
                tracker: PresenceTracker(grace: .milliseconds(10)), writer: fixture.accounts.writer,
                readers: fixture.accounts.readers, events: fixture.events)

            let offline = PresenceStatus(userID: alice, online: false, lastSeenAt: nil)
            for viewer in [alice, friend, member] {
                #expect(try await presence.presence(of: alice, viewerID: viewer) == offline, "viewer \(viewer)")
            }
            for viewer in [stranger, blocked, blocker] {
                #expect(
                    await chatError { try await presence.presence(of: alice, viewerID: viewer) } == .notFound,
                    "viewer \(viewer)")
            }
            #expect(await chatError { try await presence.presence(of: 999_999, viewerID: alice) } == .notFound)
        }
    }

    @Test func presenceChangesArePublishedToTheAudienceAndLastSeenIsStored() async throws {
        try await withEvents { fixture in
            let alice = try await fixture.user("alice")
            let (friend, member, stranger) = (
                try await fixture.user("friend"), try await fixture.user("member"), try await fixture.user("stranger")
            )
            _ = try await fixture.social.sendFriendRequest(from: alice, to: friend)
            _ = try await fixture.social.sendFriendRequest(from: friend, to: alice)
            _ = try await fixture.group(alice, [member])
            let clock = fixture.clock
            let tracker = PresenceTracker(grace: .milliseconds(30), clock: { clock.now })
            let presence = PresenceService(
                tracker: tracker, writer: fixture.accounts.writer, readers: fixture.accounts.readers,
                events: fixture.events)
            let lastSeen = { @Sendable in
                try fixture.accounts.read { db in
                    try db.queryOne("SELECT last_seen_at FROM users WHERE id = ?", [.integer(alice)])?[0].int64
                }
            }
            #expect(try lastSeen() == nil)

            let connectedAt = clock.now
            tracker.connected(alice)
            let presenceEvents = Locked<[PresenceChange]>([])
            let collect = { @Sendable in
                let changes = fixture.take().compactMap { event -> PresenceChange? in
                    if case .presence(let change) = event { change } else { nil }
                }
                presenceEvents.update { $0 += changes }
                return presenceEvents.value.count
            }
            #expect(await eventually { collect() >= 1 })
            let online = try #require(presenceEvents.value.first)
            #expect(online.userID == alice && online.online && online.lastSeenAt == nil)
            #expect(online.audience.sorted() == [friend, member].sorted())
            #expect(!online.audience.contains(stranger))
            // Stamped on the way online too.
            #expect(try lastSeen() == connectedAt)
            #expect(
                try await presence.presence(of: alice, viewerID: friend)
                    == PresenceStatus(userID: alice, online: true, lastSeenAt: nil))

            clock.advance(seconds: 60)
            let closedAt = clock.now
            tracker.disconnected(alice)
            clock.advance(seconds: 60)
            #expect(await eventually { collect() >= 2 })
            let offline = try #require(presenceEvents.value.last)
            #expect(offline.userID == alice && !offline.online && offline.lastSeenAt == closedAt)
            #expect(offline.audience.sorted() == [friend, member].sorted())
            #expect(try lastSeen() == closedAt)
            #expect(
                try await presence.presence(of: alice, viewerID: member)
                    == PresenceStatus(userID: alice, online: false, lastSeenAt: closedAt))

            // After a restart (a new tracker and service), "last seen" is still known.
            let restarted = PresenceService(
                tracker: PresenceTracker(grace: .seconds(10)), writer: fixture.accounts.writer,
                readers: fixture.accounts.readers, events: LocalPubSub())
            #expect(
                try await restarted.presence(of: alice, viewerID: friend)
                    == PresenceStatus(userID: alice, online: false, lastSeenAt: closedAt))
        }
    }

    @Test func theUsersOnlineAtShutdownAreStamped() async throws {
        try await withEvents { fixture in
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let clock = fixture.clock
            let tracker = PresenceTracker(grace: .seconds(10), clock: { clock.now })
            let presence = PresenceService(
                tracker: tracker, writer: fixture.accounts.writer, readers: fixture.accounts.readers,
                events: fixture.events)
            tracker.connected(alice)
            #expect(
                await eventually { fixture.recorded.value.contains { if case .presence = $0 { true } else { false } } })
            await presence.stampOnlineUsers(at: clock.now + 5_000)
            let stamps = try fixture.accounts.read { db in
                try db.query("SELECT id, last_seen_at FROM users ORDER BY id").map { ($0[0].int64, $0[1].int64) }
            }
            #expect(stamps.first { $0.0 == alice }?.1 == clock.now + 5_000)
            #expect(stamps.first { $0.0 == bob }?.1 == nil)
        }
    }

    @Test func presenceEventsLeaveOutBlockedCoMembers() async throws {
        // PresenceService.presence(of:viewerID:) hides a user's presence from anyone they blocked or who blocked
        // them, even in a shared group; the PRESENCE events must not tell those users either.
        try await withEvents { fixture in
            let (alice, friend, blocked) = (
                try await fixture.user("alice"), try await fixture.user("friend"), try await fixture.user("blocked")
            )
            _ = try await fixture.group(alice, [friend, blocked])
            try await fixture.social.block(userID: alice, targetID: blocked)
            let tracker = PresenceTracker(grace: .seconds(10))
            let presence = PresenceService(
                tracker: tracker, writer: fixture.accounts.writer, readers: fixture.accounts.readers,
                events: fixture.events)
            #expect(await chatError { try await presence.presence(of: alice, viewerID: blocked) } == .notFound)
            _ = fixture.take()
            tracker.connected(alice)
            #expect(
                await eventually { fixture.recorded.value.contains { if case .presence = $0 { true } else { false } } })
            let change = try #require(
                fixture.take().compactMap { event -> PresenceChange? in
                    if case .presence(let change) = event { change } else { nil }
                }.first)
            #expect(change.audience == [friend])
        }
    }
}
