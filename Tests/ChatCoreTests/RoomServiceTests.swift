import Storage
import Testing

@testable import ChatCore

/// Direct rooms, group creation, reading, renaming and deletion through ``RoomService``, on a real database.
@Suite struct RoomServiceTests {
    // MARK: Direct rooms

    @Test func aDirectRoomIsOnePerPairFromEitherSide() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("alice", "bob", "carol")
            let (alice, bob, carol) = (ids[0], ids[1], ids[2])
            #expect(
                await roomError { try await fixture.rooms.openDirectRoom(userID: alice, peerID: bob) } == .notAllowed)
            try await fixture.befriend(alice, bob)

            let opened = try await fixture.rooms.openDirectRoom(userID: alice, peerID: bob)
            #expect(opened.created)
            let room = opened.room
            #expect(room.kind == .direct && room.name == "" && room.topic == "" && room.memberCount == 2)
            #expect(room.role == .member && room.peer?.id == bob && room.peer?.username == "bob")
            #expect(room.lastSeq == 0 && room.unreadCount == 0 && room.lastMessageID == nil)
            #expect(try fixture.timeline(room.id).isEmpty, "a direct room starts without system messages")

            let again = try await fixture.rooms.openDirectRoom(userID: alice, peerID: bob)
            #expect(!again.created && again.room == room)
            let otherSide = try await fixture.rooms.openDirectRoom(userID: bob, peerID: alice)
            #expect(!otherSide.created && otherSide.room.id == room.id && otherSide.room.peer?.id == alice)

            #expect(try await fixture.rooms.rooms(userID: alice).map(\.id) == [room.id])
            #expect(try await fixture.rooms.rooms(userID: carol).isEmpty)
            #expect(try await fixture.rooms.room(id: room.id, userID: bob).peer?.id == alice)
            #expect(await roomError { try await fixture.rooms.room(id: room.id, userID: carol) } == .notFound)
            #expect(
                Set(try await fixture.rooms.members(roomID: room.id, userID: alice).map(\.user.id)) == [alice, bob])
        }
    }

    @Test func concurrentOpeningFromBothSidesCreatesOneRoom() async throws {
        try await withRooms { fixture in
            var pairs: [(Int64, Int64)] = []
            for index in 0..<4 {
                let pair = (try await fixture.user("racea\(index)"), try await fixture.user("raceb\(index)"))
                try await fixture.befriend(pair.0, pair.1)
                pairs.append(pair)
            }
            let rooms = fixture.rooms
            let results = try await withThrowingTaskGroup(of: (Int, DirectRoomResult).self) { group in
                for (index, (first, second)) in pairs.enumerated() {
                    for attempt in 0..<16 {
                        let (from, to) = attempt.isMultiple(of: 2) ? (first, second) : (second, first)
                        group.addTask { (index, try await rooms.openDirectRoom(userID: from, peerID: to)) }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for index in pairs.indices {
                let forPair = results.filter { $0.0 == index }.map(\.1)
                #expect(forPair.count == 16)
                #expect(Set(forPair.map(\.room.id)).count == 1)
                #expect(forPair.filter(\.created).count == 1)
            }
            #expect(try fixture.rowCount("SELECT count(*) FROM rooms") == pairs.count)
            #expect(try fixture.rowCount("SELECT count(*) FROM room_members") == 2 * pairs.count)
        }
    }

    @Test func blocksAndUnreachablePeersRefuseDirectRooms() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("alice", "carol", "dave", "gone", "erin")
            let (alice, carol, dave, gone, erin) = (ids[0], ids[1], ids[2], ids[3], ids[4])
            for friend in [carol, dave, gone, erin] {
                try await fixture.befriend(alice, friend)
            }
            let existing = try await fixture.rooms.openDirectRoom(userID: alice, peerID: erin).room
            try await fixture.social.block(userID: carol, targetID: alice)
            try await fixture.social.block(userID: alice, targetID: dave)
            try await fixture.deleteAccount(gone)
            let rooms = fixture.rooms

            #expect(
                await roomError { try await rooms.openDirectRoom(userID: alice, peerID: alice) }?.fieldNames == [
                    "user_id"
                ])
            for hidden in [987_654, carol, gone] {
                #expect(await roomError { try await rooms.openDirectRoom(userID: alice, peerID: hidden) } == .notFound)
            }
            #expect(await roomError { try await rooms.openDirectRoom(userID: alice, peerID: dave) } == .notAllowed)
            #expect(await roomError { try await rooms.openDirectRoom(userID: dave, peerID: alice) } == .notFound)

            // A block after the room exists: opening is refused, reading is not.
            try await fixture.social.block(userID: erin, targetID: alice)
            #expect(await roomError { try await rooms.openDirectRoom(userID: alice, peerID: erin) } == .notFound)
            #expect(await roomError { try await rooms.openDirectRoom(userID: erin, peerID: alice) } == .notAllowed)
            #expect(try await rooms.room(id: existing.id, userID: alice).id == existing.id)
            #expect(try fixture.rowCount("SELECT count(*) FROM rooms") == 1)
        }
    }

    @Test func anExistingDirectRoomOutlivesTheFriendship() async throws {
        try await withRooms { fixture in
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            try await fixture.befriend(alice, bob)
            let room = try await fixture.rooms.openDirectRoom(userID: alice, peerID: bob).room
            try await fixture.social.unfriend(userID: bob, friendID: alice)
            let reopened = try await fixture.rooms.openDirectRoom(userID: bob, peerID: alice)
            #expect(!reopened.created && reopened.room.id == room.id)
        }
    }

    @Test func dmPolicyAnyoneLetsStrangersTalkButNotAcrossBlocks() async throws {
        try await withRooms(policy: ChatPolicy(dmPolicy: .anyone)) { fixture in
            let ids = try await fixture.users("alice", "bob", "carol")
            let (alice, bob, carol) = (ids[0], ids[1], ids[2])
            #expect(try await fixture.rooms.openDirectRoom(userID: alice, peerID: bob).created)
            #expect(try await !fixture.rooms.openDirectRoom(userID: bob, peerID: alice).created)
            try await fixture.social.block(userID: carol, targetID: alice)
            #expect(
                await roomError { try await fixture.rooms.openDirectRoom(userID: alice, peerID: carol) } == .notFound)
            #expect(
                await roomError { try await fixture.rooms.openDirectRoom(userID: carol, peerID: alice) } == .notAllowed)
        }
    }

    // MARK: Groups

    @Test func creatingAGroupRecordsItAndItsMembers() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("owner", "bob", "carol")
            let (owner, bob, carol) = (ids[0], ids[1], ids[2])
            let room = try await fixture.rooms.createGroup(
                userID: owner, name: "  Team Room  ", topic: " what we do ", memberIDs: [bob, carol, bob, owner])
            #expect(room.kind == .group && room.name == "Team Room" && room.topic == "what we do")
            #expect(room.role == .owner && room.memberCount == 3 && room.peer == nil && room.createdBy == owner)
            #expect(try await fixture.roles(room.id, viewer: carol) == [owner: .owner, bob: .member, carol: .member])

            let timeline = try fixture.timeline(room.id)
            #expect(timeline.map(\.seq) == [1, 2])
            #expect(timeline.allSatisfy { $0.kind == .system && $0.senderID == nil })
            #expect(timeline[0].event == SystemEventRecord(type: "room_created", actorID: owner, detail: "Team Room"))
            #expect(timeline[0].content == "owner created the room \"Team Room\"")
            #expect(
                timeline[1].event == SystemEventRecord(type: "members_added", actorID: owner, userIDs: [bob, carol]))
            #expect(timeline[1].content == "owner added bob and carol")
            // How the room began is news to no one in it: creator and members start with nothing unread.
            #expect(room.lastSeq == 2 && room.unreadCount == 0 && room.lastMessageID == timeline[1].id)
            let forBob = try await fixture.rooms.room(id: room.id, userID: bob)
            #expect(forBob.role == .member && forBob.unreadCount == 0 && forBob.lastReadSeq == 2)

            let alone = try await fixture.rooms.createGroup(userID: owner, name: "solo")
            #expect(alone.memberCount == 1 && alone.topic == "" && alone.lastSeq == 1)
            #expect(try fixture.eventTypes(alone.id) == ["room_created"])
        }
    }

    @Test func groupCreationValidatesNameTopicAndMembers() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("owner", "friend", "gone", "off", "blocker")
            let (owner, friend, gone, off, blocker) = (ids[0], ids[1], ids[2], ids[3], ids[4])
            try await fixture.deleteAccount(gone)
            try await fixture.disable("off")
            try await fixture.social.block(userID: blocker, targetID: owner)
            let rooms = fixture.rooms
            let cases: [(String, String, String?, [Int64], Set<String>)] = [
                ("empty name", "", nil, [], ["name"]),
                ("blank name", "   ", nil, [], ["name"]),
                ("name of 101", String(repeating: "n", count: 101), nil, [], ["name"]),
                ("control character in name", "bad\u{1}name", nil, [], ["name"]),
                ("newline in name", "two\nlines", nil, [], ["name"]),
                ("topic of 501", "ok", String(repeating: "t", count: 501), [], ["topic"]),
                ("control character in topic", "ok", "bell\u{7}", [], ["topic"]),
                ("both", "", "bell\u{7}", [], ["name", "topic"]),
                ("unknown member", "ok", nil, [friend, 987_654], ["member_ids"]),
                ("deleted member", "ok", nil, [gone], ["member_ids"]),
                ("disabled member", "ok", nil, [off], ["member_ids"]),
                ("member who blocked the creator", "ok", nil, [blocker], ["member_ids"]),
            ]
            for (label, name, topic, members, fields) in cases {
                let error = await roomError {
                    try await rooms.createGroup(userID: owner, name: name, topic: topic, memberIDs: members)
                }
                #expect(error?.fieldNames == fields, "\(label): \(String(describing: error))")
            }
            // A block reads like an unknown user.
            let blocked = await roomError {
                try await rooms.createGroup(userID: owner, name: "ok", memberIDs: [blocker])
            }
            #expect(blocked == .validation(["member_ids": "no such user: \(blocker)"]))
            #expect(try fixture.rowCount("SELECT count(*) FROM rooms") == 0)

            let longest = try await rooms.createGroup(
                userID: owner, name: String(repeating: "é", count: 100), topic: String(repeating: "t", count: 500))
            #expect(longest.name.count == 100 && longest.topic.count == 500)
        }
    }

    @Test func aGroupLargerThanTheCapIsRefused() async throws {
        try await withRooms(policy: ChatPolicy(maxRoomMembers: 3)) { fixture in
            let ids = try await fixture.users("owner", "ann", "ben", "cid")
            let error = await roomError {
                try await fixture.rooms.createGroup(userID: ids[0], name: "too big", memberIDs: Array(ids.dropFirst()))
            }
            #expect(error == .conflict(code: "room_full"))
            let fits = try await fixture.rooms.createGroup(
                userID: ids[0], name: "fits", memberIDs: [ids[1], ids[2], ids[1], ids[0]])
            #expect(fits.memberCount == 3)
        }
    }

    // MARK: Reading

    @Test func roomsAreListedByActivityWithTheViewersSide() async throws {
        try await withRooms { fixture in
            let (owner, reader) = (try await fixture.user("owner"), try await fixture.user("reader"))
            var created: [Room] = []
            for name in ["one", "two", "three"] {
                fixture.tick()
                created.append(try await fixture.rooms.createGroup(userID: owner, name: name, memberIDs: [reader]))
            }
            let (one, two, three) = (created[0], created[1], created[2])
            #expect(try await fixture.rooms.rooms(userID: reader).map(\.id) == [three.id, two.id, one.id])

            fixture.tick()
            _ = try await fixture.rooms.updateRoom(id: one.id, userID: owner, topic: "news")
            let listed = try await fixture.rooms.rooms(userID: reader)
            #expect(listed.map(\.id) == [one.id, three.id, two.id])
            let first = try #require(listed.first)
            // Only the topic change is unread: the room's creation was not news to its members.
            #expect(first.topic == "news" && first.lastSeq == 3 && first.unreadCount == 1 && first.memberCount == 2)
            #expect(try first.lastMessageID == fixture.timeline(one.id).last?.id)
            #expect(first.lastActivityAt == fixture.clock.now)
            #expect(try await fixture.rooms.room(id: one.id, userID: reader) == first)
            #expect(try await fixture.rooms.room(id: one.id, userID: owner).unreadCount == 0)
            #expect(await roomError { try await fixture.rooms.room(id: 987_654, userID: owner) } == .notFound)
        }
    }

    // MARK: Name and topic

    @Test func ownersAndAdminsRenameAndChangeTheTopic() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("owner", "admin", "member", "outsider")
            let (owner, admin, member, outsider) = (ids[0], ids[1], ids[2], ids[3])
            let rooms = fixture.rooms
            let room = try await rooms.createGroup(
                userID: owner, name: "Before", topic: "old topic", memberIDs: [admin, member])
            _ = try await rooms.setRole(roomID: room.id, userID: owner, memberID: admin, role: .admin)
            let start = try await rooms.room(id: room.id, userID: owner).lastSeq

            fixture.tick()
            let renamed = try await rooms.updateRoom(id: room.id, userID: admin, name: "  After  ")
            #expect(renamed.name == "After" && renamed.topic == "old topic" && renamed.role == .admin)
            #expect(renamed.updatedAt == fixture.clock.now)
            _ = try await rooms.updateRoom(id: room.id, userID: owner, topic: "new topic")
            _ = try await rooms.updateRoom(id: room.id, userID: owner, topic: "")
            // Values equal to the current ones change nothing and record nothing.
            let unchanged = try await rooms.updateRoom(id: room.id, userID: owner, name: "After", topic: "")
            #expect(unchanged.name == "After" && unchanged.topic == "")
            _ = try await rooms.updateRoom(id: room.id, userID: owner)

            #expect(
                await roomError { try await rooms.updateRoom(id: room.id, userID: member, name: "mine") } == .forbidden)
            #expect(
                await roomError { try await rooms.updateRoom(id: room.id, userID: outsider, name: "x") } == .notFound)
            #expect(
                await roomError { try await rooms.updateRoom(id: room.id, userID: owner, name: " ") }?.fieldNames
                    == ["name"])
            #expect(
                await roomError {
                    try await rooms.updateRoom(id: room.id, userID: admin, topic: String(repeating: "t", count: 501))
                }?.fieldNames == ["topic"])

            let seen = try await rooms.room(id: room.id, userID: member)
            #expect(seen.name == "After" && seen.topic == "")
            let events = try fixture.timeline(room.id).filter { $0.seq > start }
            #expect(events.compactMap(\.event?.type) == ["room_renamed", "topic_changed", "topic_changed"])
            #expect(events.compactMap(\.event?.actorID) == [admin, owner, owner])
            #expect(
                events.map(\.content) == [
                    "admin renamed the room to \"After\"", "owner changed the topic to \"new topic\"",
                    "owner cleared the topic",
                ])
        }
    }

    @Test func directRoomsHaveNoNameTopicOrDeletion() async throws {
        try await withRooms(policy: ChatPolicy(dmPolicy: .anyone)) { fixture in
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let room = try await fixture.rooms.openDirectRoom(userID: alice, peerID: bob).room
            let rooms = fixture.rooms
            #expect(
                await roomError { try await rooms.updateRoom(id: room.id, userID: alice, name: "n") }?.fieldNames == [
                    "room"
                ])
            #expect(await roomError { try await rooms.deleteRoom(id: room.id, userID: bob) }?.fieldNames == ["room"])
            #expect(try await rooms.room(id: room.id, userID: bob).name == "")
        }
    }

    // MARK: Deletion

    @Test func onlyTheOwnerDeletesAGroupAndItIsGoneForEveryone() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("owner", "admin", "member")
            let (owner, admin, member) = (ids[0], ids[1], ids[2])
            let rooms = fixture.rooms
            let room = try await rooms.createGroup(userID: owner, name: "doomed", memberIDs: [admin, member])
            let kept = try await rooms.createGroup(userID: owner, name: "kept", memberIDs: [member])
            _ = try await rooms.setRole(roomID: room.id, userID: owner, memberID: admin, role: .admin)
            // Warm the access cache: deletion must empty it.
            for user in ids {
                #expect(try await fixture.access.membership(roomID: room.id, userID: user) != nil)
            }

            #expect(await roomError { try await rooms.deleteRoom(id: room.id, userID: admin) } == .forbidden)
            #expect(await roomError { try await rooms.deleteRoom(id: room.id, userID: member) } == .forbidden)
            try await rooms.deleteRoom(id: room.id, userID: owner)

            for user in ids {
                #expect(try await fixture.access.membership(roomID: room.id, userID: user) == nil)
                #expect(await roomError { try await rooms.room(id: room.id, userID: user) } == .notFound)
                #expect(await roomError { try await rooms.members(roomID: room.id, userID: user) } == .notFound)
                #expect(await roomError { try await rooms.deleteRoom(id: room.id, userID: user) } == .notFound)
                #expect(try await !rooms.rooms(userID: user).map(\.id).contains(room.id))
            }
            #expect(try fixture.rowCount("SELECT count(*) FROM messages WHERE room_id = ?", [.integer(room.id)]) == 0)
            #expect(try fixture.eventTypes(kept.id) == ["room_created", "members_added"])
        }
    }
}
