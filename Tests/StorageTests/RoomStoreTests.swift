import Foundation
import Testing

@testable import Storage

/// The room and member statements against the real schema (the repository's migrations).
@Suite struct RoomStoreTests {
    private let store = RoomStore()
    private let accounts = AccountStore()
    private static let migrations = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("migrations").path

    private func withStore(_ body: (Database) throws -> Void) throws {
        try withTemporaryDirectory { directory in
            let db = try Database(configuration: configuration(in: directory))
            try Migrator(directory: Self.migrations).up(db)
            try body(db)
        }
    }

    @discardableResult
    private func user(_ name: String, _ db: Database) throws -> UserRecord {
        try accounts.insertUser(
            NewUserRecord(
                username: name, email: "\(name)@example.com", displayName: name.capitalized, passwordHash: "hash",
                createdAt: 1_000), db)
    }

    private func roles(_ roomID: Int64, _ db: Database) throws -> [Int64: RoomMemberRecord.Role] {
        Dictionary(
            uniqueKeysWithValues: try store.members(roomID: roomID, db).map { ($0.member.userID, $0.member.role) })
    }

    // MARK: Direct rooms

    @Test func aDirectRoomIsCreatedOncePerPairFromEitherSide() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            #expect(RoomStore.directKey(bob.id, alice.id) == "\(alice.id):\(bob.id)")
            #expect(try store.directRoom(between: alice.id, bob.id, db) == nil)

            let (room, created) = try store.findOrCreateDirectRoom(createdBy: bob.id, peer: alice.id, now: 50, db)
            #expect(created)
            #expect(room.kind == .direct && room.name == "" && room.topic == "")
            #expect(room.directKey == "\(alice.id):\(bob.id)" && room.createdBy == bob.id)
            #expect(room.memberCount == 2 && room.lastSeq == 0 && room.lastActivityAt == 50)
            #expect(try roles(room.id, db) == [alice.id: .member, bob.id: .member])

            let (again, createdAgain) = try store.findOrCreateDirectRoom(createdBy: alice.id, peer: bob.id, now: 60, db)
            #expect(!createdAgain && again == room)
            #expect(try store.directRoom(between: bob.id, alice.id, db) == room)
            #expect(try count("rooms", in: db) == 1 && count("room_members", in: db) == 2)

            #expect(try store.directPeer(roomID: room.id, userID: alice.id, db) == bob.id)
            #expect(try store.directPeer(roomID: room.id, userID: bob.id, db) == alice.id)
            let carol = try user("carol", db)
            #expect(try store.directPeer(roomID: room.id, userID: carol.id, db) == nil)
        }
    }

    @Test func theSchemaKeepsKindsAndOwnersConsistent() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            // A group cannot carry a direct key, nor a direct room lack one.
            #expect(throws: DatabaseError.self) {
                try db.run(
                    """
                    INSERT INTO rooms (kind, direct_key, created_at, updated_at, last_activity_at)
                    VALUES ('group', '1:2', 0, 0, 0)
                    """)
            }
            #expect(throws: DatabaseError.self) {
                try db.run(
                    "INSERT INTO rooms (kind, created_at, updated_at, last_activity_at) VALUES ('direct', 0, 0, 0)")
            }
            let room = try store.insertGroupRoom(name: "team", topic: "", ownerID: alice.id, now: 1, db)
            try store.insertMembers(roomID: room.id, userIDs: [bob.id], role: .member, now: 2, db)
            let error = #expect(throws: DatabaseError.self) {
                try store.setRole(roomID: room.id, userID: bob.id, role: .owner, db)
            }
            #expect(error?.isUniqueConstraintViolation == true)
            try store.setRole(roomID: room.id, userID: alice.id, role: .admin, db)
            #expect(try store.setRole(roomID: room.id, userID: bob.id, role: .owner, db)?.role == .owner)
            #expect(try store.setRole(roomID: room.id, userID: 999, role: .admin, db) == nil)
        }
    }

    // MARK: Groups and members

    @Test func groupsCountTheirMembersAsTheyComeAndGo() throws {
        try withStore { db in
            let owner = try user("owner", db)
            let bob = try user("bob", db)
            let carol = try user("carol", db)
            let room = try store.insertGroupRoom(name: "team", topic: "about", ownerID: owner.id, now: 10, db)
            #expect(room.kind == .group && room.name == "team" && room.topic == "about" && room.directKey == nil)
            #expect(room.memberCount == 1 && room.createdBy == owner.id)
            #expect(try store.member(roomID: room.id, userID: owner.id, db)?.role == .owner)

            let added = try store.insertMembers(
                roomID: room.id, userIDs: [carol.id, owner.id, bob.id, carol.id], role: .member, now: 20, db)
            #expect(added == [carol.id, bob.id])
            #expect(try store.insertMembers(roomID: room.id, userIDs: [bob.id], role: .admin, now: 30, db).isEmpty)
            #expect(try store.member(roomID: room.id, userID: bob.id, db)?.role == .member)
            #expect(try store.room(id: room.id, db)?.memberCount == 3)
            #expect(try store.memberIDs(roomID: room.id, among: [bob.id, 999, owner.id], db) == [bob.id, owner.id])

            let membership = try store.membership(roomID: room.id, userID: carol.id, db)
            #expect(membership?.kind == .group && membership?.member.joinedAt == 20)
            #expect(try store.membership(roomID: room.id, userID: 999, db) == nil)
            #expect(try store.directPeer(roomID: room.id, userID: owner.id, db) == nil)

            #expect(try store.deleteMember(roomID: room.id, userID: carol.id, db))
            #expect(try !store.deleteMember(roomID: room.id, userID: carol.id, db))
            #expect(try store.room(id: room.id, db)?.memberCount == 2)
            let members = try store.members(roomID: room.id, db)
            #expect(members.map(\.member.userID) == [owner.id, bob.id])
            #expect(members.map(\.user.username) == ["owner", "bob"])
            #expect(try store.memberDetails(roomID: room.id, userID: bob.id, db)?.user == bob)
        }
    }

    @Test func theSuccessorIsTheOldestAdminElseTheOldestMember() throws {
        try withStore { db in
            let owner = try user("owner", db)
            let early = try user("early", db)
            let late = try user("late", db)
            let tie = try user("tie", db)
            let room = try store.insertGroupRoom(name: "r", topic: "", ownerID: owner.id, now: 1, db)
            #expect(try store.successor(roomID: room.id, excluding: owner.id, db) == nil)
            try store.insertMembers(roomID: room.id, userIDs: [early.id], role: .member, now: 10, db)
            try store.insertMembers(roomID: room.id, userIDs: [tie.id, late.id], role: .member, now: 20, db)
            #expect(try store.successor(roomID: room.id, excluding: owner.id, db)?.userID == early.id)
            try store.setRole(roomID: room.id, userID: tie.id, role: .admin, db)
            try store.setRole(roomID: room.id, userID: late.id, role: .admin, db)
            // Both admins joined at 20: the smaller id (late was inserted before tie) wins the tie.
            #expect(try store.successor(roomID: room.id, excluding: owner.id, db)?.userID == late.id)
            #expect(try store.successor(roomID: room.id, excluding: late.id, db)?.userID == tie.id)
        }
    }

    @Test func updatingARoomChangesOnlyTheGivenFields() throws {
        try withStore { db in
            let owner = try user("owner", db)
            let room = try store.insertGroupRoom(name: "old", topic: "topic", ownerID: owner.id, now: 1, db)
            let renamed = try store.updateRoom(id: room.id, name: "new", topic: nil, now: 5, db)
            #expect(renamed?.name == "new" && renamed?.topic == "topic" && renamed?.updatedAt == 5)
            let cleared = try store.updateRoom(id: room.id, name: nil, topic: "", now: 6, db)
            #expect(cleared?.name == "new" && cleared?.topic == "" && cleared?.memberCount == 1)
            #expect(try store.updateRoom(id: 999, name: "x", topic: nil, now: 7, db) == nil)
        }
    }

    @Test func deletingARoomTakesMembersAndMessagesAlong() throws {
        try withStore { db in
            let owner = try user("owner", db)
            let bob = try user("bob", db)
            let room = try store.insertGroupRoom(name: "doomed", topic: "", ownerID: owner.id, now: 1, db)
            let kept = try store.insertGroupRoom(name: "kept", topic: "", ownerID: owner.id, now: 1, db)
            try store.insertMembers(roomID: room.id, userIDs: [bob.id], role: .member, now: 2, db)
            try MessageStore().appendSystemMessage(
                roomID: room.id, event: SystemEventRecord(type: "room_created", actorID: owner.id), content: "made",
                now: 3, db)
            #expect(try store.deleteRoom(id: room.id, db))
            #expect(try !store.deleteRoom(id: room.id, db))
            #expect(try store.room(id: room.id, db) == nil)
            #expect(try store.membership(roomID: room.id, userID: bob.id, db) == nil)
            #expect(try count("room_members", in: db) == 1)
            #expect(try count("messages", in: db) == 0)
            #expect(try store.room(id: kept.id, db)?.memberCount == 1)
            // AUTOINCREMENT: the deleted room's id is not handed out again.
            #expect(try store.insertGroupRoom(name: "next", topic: "", ownerID: owner.id, now: 4, db).id > room.id)
        }
    }

    // MARK: The rooms of a user

    @Test func summariesShowTheViewersSideOfEachRoomNewestActivityFirst() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            let carol = try user("carol", db)
            let messages = MessageStore()
            let group = try store.insertGroupRoom(name: "team", topic: "t", ownerID: alice.id, now: 10, db)
            try store.insertMembers(roomID: group.id, userIDs: [bob.id, carol.id], role: .member, now: 10, db)
            let direct = try store.findOrCreateDirectRoom(createdBy: alice.id, peer: bob.id, now: 20, db).room
            let quiet = try store.insertGroupRoom(name: "quiet", topic: "", ownerID: bob.id, now: 15, db)

            for seq in 1...3 {
                try messages.appendSystemMessage(
                    roomID: group.id, event: SystemEventRecord(type: "topic_changed", actorID: alice.id),
                    content: "change \(seq)", now: 30 + Int64(seq), db)
            }
            let last = try messages.appendSystemMessage(
                roomID: group.id, event: SystemEventRecord(type: "room_renamed", actorID: nil), content: "renamed",
                now: 40, db)

            let forBob = try store.roomSummaries(userID: bob.id, db)
            #expect(forBob.map(\.room.id) == [group.id, direct.id, quiet.id])
            let groupForBob = try #require(forBob.first)
            #expect(groupForBob.room.lastSeq == 4 && groupForBob.room.memberCount == 3)
            #expect(groupForBob.membership.userID == bob.id && groupForBob.membership.role == .member)
            #expect(groupForBob.membership.lastReadSeq == 0 && groupForBob.peer == nil)
            #expect(groupForBob.lastMessageID == last.id && groupForBob.room.lastActivityAt == 40)
            #expect(forBob[1].peer == alice && forBob[1].lastMessageID == nil && forBob[1].room.memberCount == 2)
            #expect(forBob[2].membership.role == .owner)

            // Alice acted three times (the system messages moved her read position), not the fourth time.
            let groupForAlice = try #require(try store.roomSummary(roomID: group.id, userID: alice.id, db))
            #expect(groupForAlice.membership.lastReadSeq == 3 && groupForAlice.membership.role == .owner)
            #expect(try store.roomSummary(roomID: direct.id, userID: alice.id, db)?.peer == bob)
            #expect(try store.roomSummary(roomID: quiet.id, userID: alice.id, db) == nil)
            #expect(try store.roomSummaries(userID: carol.id, db).map(\.room.id) == [group.id])
            #expect(try store.roomSummaries(userID: 999, db).isEmpty)
        }
    }

    // MARK: Users

    @Test func addableUsersAreLiveAndHaveNotBlockedTheActor() throws {
        try withStore { db in
            let actor = try user("actor", db)
            let fine = try user("fine", db)
            let gone = try user("gone", db)
            let off = try user("off", db)
            let blocker = try user("blocker", db)
            let blockedByActor = try user("blockedbyactor", db)
            try accounts.anonymiseUser(id: gone.id, now: 5, db)
            try accounts.setDisabled(id: off.id, true, now: 5, db)
            let social = SocialStore()
            try social.insertBlock(blocker: blocker.id, blocked: actor.id, now: 5, db)
            try social.insertBlock(blocker: actor.id, blocked: blockedByActor.id, now: 5, db)
            let ids = [fine.id, gone.id, off.id, blocker.id, blockedByActor.id, 999]
            let addable = try store.addableUsers(ids, by: actor.id, db)
            #expect(Set(addable.map(\.id)) == [fine.id, blockedByActor.id])
            #expect(try store.addableUsers([], by: actor.id, db).isEmpty)
            #expect(Set(try store.users(ids, db).map(\.id)) == Set(ids.dropLast()))
        }
    }
}
