import Storage
import Testing

@testable import ChatCore

/// Adding, removing, leaving, roles and the owner hand-over through ``RoomService``, on a real database.
@Suite struct RoomMembersTests {
    /// A group of `owner` with `admins` (promoted by the owner) and plain `members`.
    private func group(
        _ fixture: RoomFixture, owner: Int64, admins: [Int64] = [], members: [Int64] = [], name: String = "team"
    ) async throws -> Int64 {
        let room = try await fixture.rooms.createGroup(userID: owner, name: name, memberIDs: admins + members)
        for admin in admins {
            _ = try await fixture.rooms.setRole(roomID: room.id, userID: owner, memberID: admin, role: .admin)
        }
        return room.id
    }

    private func lastSeq(_ fixture: RoomFixture, _ roomID: Int64, viewer: Int64) async throws -> Int64 {
        try await fixture.rooms.room(id: roomID, userID: viewer).lastSeq
    }

    // MARK: Adding

    @Test func ownersAndAdminsAddMembersAndAlreadyMembersAreIgnored() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("owner", "admin", "member", "carol", "dave", "erin")
            let (owner, admin, member, carol, dave, erin) = (ids[0], ids[1], ids[2], ids[3], ids[4], ids[5])
            let rooms = fixture.rooms
            let room = try await group(fixture, owner: owner, admins: [admin], members: [member])
            let start = try await lastSeq(fixture, room, viewer: owner)

            fixture.tick()
            let members = try await rooms.addMembers(roomID: room, userID: admin, userIDs: [carol, dave, carol])
            #expect(members.map(\.user.id) == [owner, admin, member, carol, dave])
            #expect(members.last?.role == .member && members.last?.joinedAt == fixture.clock.now)
            let again = try await rooms.addMembers(roomID: room, userID: owner, userIDs: [carol, member])
            #expect(again == members)
            #expect(try await rooms.room(id: room, userID: carol).memberCount == 5)
            #expect(try await rooms.rooms(userID: dave).map(\.id) == [room])

            #expect(
                await roomError { try await rooms.addMembers(roomID: room, userID: owner, userIDs: [erin, 987_654]) }
                    == .validation(["user_ids": "no such user: 987654"]))
            #expect(
                await roomError { try await rooms.addMembers(roomID: room, userID: member, userIDs: [erin]) }
                    == .forbidden)
            #expect(
                await roomError { try await rooms.addMembers(roomID: room, userID: erin, userIDs: [erin]) } == .notFound
            )
            #expect(
                await roomError { try await rooms.addMembers(roomID: room, userID: owner, userIDs: []) }?.fieldNames
                    == ["user_ids"])

            let events = try fixture.timeline(room).filter { $0.seq > start }
            #expect(
                events.map(\.event) == [
                    SystemEventRecord(type: "members_added", actorID: admin, userIDs: [carol, dave])
                ])
            #expect(events.first?.content == "admin added carol and dave")
        }
    }

    @Test func addingRespectsBlocksAndDirectRooms() async throws {
        try await withRooms(policy: ChatPolicy(dmPolicy: .anyone)) { fixture in
            let ids = try await fixture.users("owner", "blocker", "alice", "bob")
            let (owner, blocker, alice, bob) = (ids[0], ids[1], ids[2], ids[3])
            let room = try await group(fixture, owner: owner)
            try await fixture.social.block(userID: blocker, targetID: owner)
            #expect(
                await roomError { try await fixture.rooms.addMembers(roomID: room, userID: owner, userIDs: [blocker]) }
                    == .validation(["user_ids": "no such user: \(blocker)"]))
            let direct = try await fixture.rooms.openDirectRoom(userID: alice, peerID: bob).room
            let fixed = ChatError.validation(["room": "a direct room has fixed members and no name or topic"])
            let rooms = fixture.rooms
            #expect(
                await roomError { try await rooms.addMembers(roomID: direct.id, userID: alice, userIDs: [owner]) }
                    == fixed)
            #expect(
                await roomError { try await rooms.removeMember(roomID: direct.id, userID: bob, memberID: bob) } == fixed
            )
            #expect(try await fixture.rooms.room(id: direct.id, userID: alice).memberCount == 2)
        }
    }

    @Test func theSizeCapCountsWhoIsAlreadyIn() async throws {
        try await withRooms(policy: ChatPolicy(maxRoomMembers: 3)) { fixture in
            let ids = try await fixture.users("owner", "ann", "ben", "cid")
            let (owner, ann, ben, cid) = (ids[0], ids[1], ids[2], ids[3])
            let rooms = fixture.rooms
            let room = try await group(fixture, owner: owner, members: [ann, ben])
            #expect(
                await roomError { try await rooms.addMembers(roomID: room, userID: owner, userIDs: [cid]) }
                    == .conflict(code: "room_full"))
            #expect(try await rooms.addMembers(roomID: room, userID: owner, userIDs: [ann]).count == 3)
            #expect(
                await roomError {
                    try await rooms.addMembers(roomID: room, userID: owner, userIDs: [ann, ben, cid, owner])
                }
                    == .conflict(code: "room_full"))
            try await rooms.removeMember(roomID: room, userID: ben, memberID: ben)
            #expect(
                try await rooms.addMembers(roomID: room, userID: owner, userIDs: [cid]).map(\.user.id) == [
                    owner, ann, cid,
                ])
            #expect(
                await roomError { try await rooms.addMembers(roomID: room, userID: owner, userIDs: [ben]) }
                    == .conflict(code: "room_full"))
        }
    }

    // MARK: Removing and leaving

    @Test func whoMayRemoveWhom() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("owner", "admin", "admintwo", "member", "other", "outsider")
            let (owner, admin, admin2, member, other, outsider) = (ids[0], ids[1], ids[2], ids[3], ids[4], ids[5])
            let rooms = fixture.rooms
            let room = try await group(fixture, owner: owner, admins: [admin, admin2], members: [member, other])
            let refused: [(String, Int64, Int64, ChatError)] = [
                ("member removes member", member, other, .forbidden),
                ("member removes admin", member, admin, .forbidden),
                ("admin removes owner", admin, owner, .forbidden),
                ("admin removes admin", admin, admin2, .forbidden),
                ("owner removes a non-member", owner, outsider, .notFound),
                ("non-member removes member", outsider, member, .notFound),
            ]
            for (label, actor, target, expected) in refused {
                #expect(
                    await roomError { try await rooms.removeMember(roomID: room, userID: actor, memberID: target) }
                        == expected, "\(label)")
            }
            let start = try await lastSeq(fixture, room, viewer: owner)
            try await rooms.removeMember(roomID: room, userID: admin, memberID: other)
            try await rooms.removeMember(roomID: room, userID: owner, memberID: admin2)
            #expect(try await fixture.roles(room, viewer: member) == [owner: .owner, admin: .admin, member: .member])
            #expect(try await rooms.room(id: room, userID: owner).memberCount == 3)
            let events = try fixture.timeline(room).filter { $0.seq > start }
            #expect(
                events.map(\.event) == [
                    SystemEventRecord(type: "member_removed", actorID: admin, userIDs: [other]),
                    SystemEventRecord(type: "member_removed", actorID: owner, userIDs: [admin2]),
                ])
            #expect(events.map(\.content) == ["admin removed other", "owner removed admintwo"])
        }
    }

    @Test func aRemovedMemberLosesAccessAtOnceAndMayComeBack() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("owner", "carol")
            let (owner, carol) = (ids[0], ids[1])
            let rooms = fixture.rooms
            let room = try await group(fixture, owner: owner, members: [carol])
            // Cached before the removal, as the message routes would have it.
            #expect(try await fixture.access.membership(roomID: room, userID: carol)?.role == .member)
            try await rooms.removeMember(roomID: room, userID: owner, memberID: carol)
            #expect(try await fixture.access.membership(roomID: room, userID: carol) == nil)
            #expect(await roomError { try await rooms.room(id: room, userID: carol) } == .notFound)
            #expect(await roomError { try await rooms.members(roomID: room, userID: carol) } == .notFound)
            #expect(try await rooms.rooms(userID: carol).isEmpty)

            _ = try await rooms.addMembers(roomID: room, userID: owner, userIDs: [carol])
            #expect(try await fixture.access.membership(roomID: room, userID: carol)?.role == .member)
            #expect(try await rooms.room(id: room, userID: carol).id == room)
        }
    }

    @Test func anyMemberMayLeave() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("owner", "admin", "dave")
            let (owner, admin, dave) = (ids[0], ids[1], ids[2])
            let room = try await group(fixture, owner: owner, admins: [admin], members: [dave])
            let start = try await lastSeq(fixture, room, viewer: owner)
            #expect(try await fixture.access.membership(roomID: room, userID: dave) != nil)
            try await fixture.rooms.removeMember(roomID: room, userID: dave, memberID: dave)
            try await fixture.rooms.removeMember(roomID: room, userID: admin, memberID: admin)
            #expect(try await fixture.access.membership(roomID: room, userID: dave) == nil)
            #expect(try await fixture.roles(room, viewer: owner) == [owner: .owner])
            let events = try fixture.timeline(room).filter { $0.seq > start }
            #expect(
                events.map(\.event) == [
                    SystemEventRecord(type: "member_left", actorID: dave, userIDs: [dave]),
                    SystemEventRecord(type: "member_left", actorID: admin, userIDs: [admin]),
                ])
            #expect(events.first?.content == "dave left")
        }
    }

    @Test func aLeavingOwnerHandsOverToTheOldestAdminElseTheOldestMember() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("owner", "first", "second", "third")
            let (owner, first, second, third) = (ids[0], ids[1], ids[2], ids[3])
            let rooms = fixture.rooms
            let room = try await group(fixture, owner: owner, name: "handover")
            for member in [first, second, third] {
                fixture.tick()
                _ = try await rooms.addMembers(roomID: room, userID: owner, userIDs: [member])
            }
            // Promoted in the other order: seniority is joined_at, not when the role was given.
            for admin in [third, second] {
                _ = try await rooms.setRole(roomID: room, userID: owner, memberID: admin, role: .admin)
            }

            func leave(_ leaver: Int64, heir: Int64, roles: [Int64: RoomRole]) async throws {
                // The heir's membership is cached as it was: the hand-over must update it.
                #expect(try await fixture.access.membership(roomID: room, userID: heir) != nil)
                let before = try await lastSeq(fixture, room, viewer: heir)
                try await rooms.removeMember(roomID: room, userID: leaver, memberID: leaver)
                #expect(try await fixture.roles(room, viewer: heir) == roles)
                #expect(try await rooms.room(id: room, userID: heir).role == .owner)
                #expect(try await fixture.access.membership(roomID: room, userID: heir)?.role == .owner)
                let events = try fixture.timeline(room).filter { $0.seq > before }
                #expect(
                    events.map(\.event) == [
                        SystemEventRecord(type: "member_left", actorID: leaver, userIDs: [leaver]),
                        SystemEventRecord(type: "owner_changed", actorID: leaver, userIDs: [heir]),
                    ])
            }
            try await leave(owner, heir: second, roles: [first: .member, second: .owner, third: .admin])
            try await leave(second, heir: third, roles: [first: .member, third: .owner])
            try await leave(third, heir: first, roles: [first: .owner])
            #expect(try fixture.timeline(room).last?.content == "first is now the owner")

            // The new owner can do owner things.
            _ = try await rooms.addMembers(roomID: room, userID: first, userIDs: [owner])
            _ = try await rooms.updateRoom(id: room, userID: first, name: "first's room")

            // The last member leaving deletes nothing.
            try await rooms.removeMember(roomID: room, userID: owner, memberID: owner)
            try await rooms.removeMember(roomID: room, userID: first, memberID: first)
            #expect(await roomError { try await rooms.room(id: room, userID: first) } == .notFound)
            #expect(try fixture.rowCount("SELECT member_count FROM rooms WHERE id = ?", [.integer(room)]) == 0)
            let timeline = try fixture.timeline(room)
            #expect(timeline.map(\.seq) == Array(1...Int64(timeline.count)))
            #expect(timeline.last?.event?.type == "member_left")
        }
    }

    // MARK: Roles

    @Test func onlyTheOwnerChangesRolesAndNeverTheirOwn() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("owner", "mia", "max", "outsider")
            let (owner, mia, max, outsider) = (ids[0], ids[1], ids[2], ids[3])
            let rooms = fixture.rooms
            let room = try await group(fixture, owner: owner, members: [mia, max])
            let start = try await lastSeq(fixture, room, viewer: owner)
            #expect(try await fixture.access.membership(roomID: room, userID: mia)?.role == .member)

            let promoted = try await rooms.setRole(roomID: room, userID: owner, memberID: mia, role: .admin)
            #expect(promoted.user.id == mia && promoted.role == .admin)
            #expect(try await fixture.access.membership(roomID: room, userID: mia)?.role == .admin)
            #expect(try await rooms.room(id: room, userID: mia).role == .admin)
            // Setting the role a member already has records nothing.
            #expect(try await rooms.setRole(roomID: room, userID: owner, memberID: mia, role: .admin).role == .admin)

            let refused: [(String, Int64, Int64, RoomRole, ChatError)] = [
                ("admin promotes", mia, max, .admin, .forbidden),
                ("member promotes themselves", max, max, .admin, .forbidden),
                (
                    "owner changes their own role", owner, owner, .member,
                    .validation(["user_id": "cannot change your own role"])
                ),
                ("owner is not grantable", owner, max, .owner, .validation(["role": "must be admin or member"])),
                ("role of a non-member", owner, outsider, .admin, .notFound),
                ("non-member changes a role", outsider, max, .admin, .notFound),
            ]
            for (label, actor, target, role, expected) in refused {
                #expect(
                    await roomError {
                        try await rooms.setRole(roomID: room, userID: actor, memberID: target, role: role)
                    }
                        == expected, "\(label)")
            }

            let demoted = try await rooms.setRole(roomID: room, userID: owner, memberID: mia, role: .member)
            #expect(demoted.role == .member)
            #expect(try await fixture.roles(room, viewer: max) == [owner: .owner, mia: .member, max: .member])
            let events = try fixture.timeline(room).filter { $0.seq > start }
            #expect(
                events.map(\.event) == [
                    SystemEventRecord(type: "role_changed", actorID: owner, userIDs: [mia], detail: "admin"),
                    SystemEventRecord(type: "role_changed", actorID: owner, userIDs: [mia], detail: "member"),
                ])
            #expect(events.map(\.content) == ["owner made mia an admin", "owner made mia a member"])
        }
    }

    // MARK: The timeline

    @Test func everyChangeTakesTheNextSeq() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("owner", "bob", "carol", "dave")
            let (owner, bob, carol, dave) = (ids[0], ids[1], ids[2], ids[3])
            let rooms = fixture.rooms
            let room = try await group(fixture, owner: owner, members: [bob])
            _ = try await rooms.addMembers(roomID: room, userID: owner, userIDs: [carol, dave])
            _ = try await rooms.updateRoom(id: room, userID: owner, name: "renamed", topic: "a topic")
            _ = try await rooms.setRole(roomID: room, userID: owner, memberID: bob, role: .admin)
            try await rooms.removeMember(roomID: room, userID: bob, memberID: dave)
            try await rooms.removeMember(roomID: room, userID: carol, memberID: carol)
            try await rooms.removeMember(roomID: room, userID: owner, memberID: owner)

            let timeline = try fixture.timeline(room)
            #expect(timeline.map(\.seq) == Array(1...Int64(timeline.count)))
            #expect(try await rooms.room(id: room, userID: bob).lastSeq == Int64(timeline.count))
            #expect(
                timeline.compactMap(\.event?.type) == [
                    "room_created", "members_added", "members_added", "room_renamed", "topic_changed",
                    "role_changed", "member_removed", "member_left", "member_left", "owner_changed",
                ])
            #expect(timeline.allSatisfy { $0.kind == .system && !$0.content.isEmpty })
        }
    }

    @Test func longMemberListsAreSummarizedInTheSentence() {
        func users(_ count: Int) -> [UserRecord] {
            (1...count).map { index in
                UserRecord(
                    id: Int64(index), username: "u\(index)", email: nil, displayName: "U", bio: "", avatarURL: "",
                    passwordHash: "", isAdmin: false, isDisabled: false, deletedAt: nil, createdAt: 0, updatedAt: 0)
            }
        }
        #expect(RoomEvent.names(users(1)) == "u1")
        #expect(RoomEvent.names(users(3)) == "u1, u2 and u3")
        #expect(RoomEvent.names(users(5)) == "u1, u2, u3, u4 and u5")
        #expect(RoomEvent.names(users(6)) == "u1, u2, u3, u4, u5 and 1 other")
        #expect(RoomEvent.names(users(9)) == "u1, u2, u3, u4, u5 and 4 others")
    }
}
