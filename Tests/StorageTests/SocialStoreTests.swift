import Foundation
import Testing

@testable import Storage

/// The friend request, friendship and block statements against the real schema (the repository's
/// migrations).
@Suite struct SocialStoreTests {
    private let store = SocialStore()
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

    @Test func theMigrationRevertsAndReappliesCleanly() throws {
        try withTemporaryDirectory { directory in
            let db = try Database(configuration: configuration(in: directory))
            let migrator = try Migrator(directory: Self.migrations)
            try migrator.up(db, to: 3)
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            try store.insertFriendship(alice.id, bob.id, since: 5, db)
            try store.insertBlock(blocker: alice.id, blocked: bob.id, now: 5, db)
            try migrator.down(db, steps: 1)
            let tables = try db.query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            ).compactMap { $0[0].string }
            #expect(
                tables == [
                    "refresh_tokens", "revoked_tokens", "schema_migrations", "server_state", "sessions", "users",
                ])
            try migrator.up(db, to: 3)
            #expect(try count("friendships", in: db) == 0)
            #expect(try count("blocks", in: db) == 0)
        }
    }

    // MARK: Friend requests

    @Test func aPairHasAtMostOnePendingRequestWhoeverSentIt() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            let request = try store.insertFriendRequest(from: alice.id, to: bob.id, now: 10, db)
            #expect(try store.friendRequest(id: request.id, db) == request)
            #expect(try store.pendingRequest(between: alice.id, bob.id, db) == request)
            #expect(try store.pendingRequest(between: bob.id, alice.id, db) == request)
            for (from, to) in [(alice.id, bob.id), (bob.id, alice.id)] {
                let error = #expect(throws: DatabaseError.self) {
                    try store.insertFriendRequest(from: from, to: to, now: 11, db)
                }
                #expect(error?.isUniqueConstraintViolation == true)
            }
            #expect(throws: DatabaseError.self) {
                try store.insertFriendRequest(from: alice.id, to: alice.id, now: 1, db)
            }

            #expect(try store.deleteFriendRequests(between: bob.id, alice.id, db))
            #expect(try store.pendingRequest(between: alice.id, bob.id, db) == nil)
            #expect(try !store.deleteFriendRequests(between: bob.id, alice.id, db))
            // The pair is free again, in the other direction too.
            let back = try store.insertFriendRequest(from: bob.id, to: alice.id, now: 12, db)
            #expect(back.id != request.id)
            #expect(try store.deleteFriendRequest(id: back.id, db))
            #expect(try !store.deleteFriendRequest(id: back.id, db))
        }
    }

    @Test func requestListsAreNewestFirstWithBothUsersAndSkipUnreachableOnes() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            let carol = try user("carol", db)
            let dave = try user("dave", db)
            let erin = try user("erin", db)
            let fromBob = try store.insertFriendRequest(from: bob.id, to: alice.id, now: 10, db)
            let fromCarol = try store.insertFriendRequest(from: carol.id, to: alice.id, now: 30, db)
            _ = try store.insertFriendRequest(from: dave.id, to: alice.id, now: 40, db)
            let toErin = try store.insertFriendRequest(from: alice.id, to: erin.id, now: 20, db)
            try accounts.anonymiseUser(id: dave.id, now: 50, db)

            let incoming = try store.incomingRequests(userID: alice.id, db)
            #expect(incoming.map(\.request) == [fromCarol, fromBob])
            #expect(incoming.first?.from == carol && incoming.first?.to == alice)
            #expect(try store.outgoingRequests(userID: alice.id, db).map(\.request) == [toErin])
            #expect(try store.outgoingRequests(userID: bob.id, db).map(\.request) == [fromBob])
            #expect(try store.incomingRequests(userID: erin.id, db).first?.from == alice)

            try accounts.setDisabled(id: erin.id, true, now: 60, db)
            #expect(try store.outgoingRequests(userID: alice.id, db).isEmpty)
            // The disabled user's own lists still work: filtering concerns the other side.
            #expect(try store.incomingRequests(userID: erin.id, db).map(\.request) == [toErin])
        }
    }

    // MARK: Friendships

    @Test func aFriendshipIsStoredOncePerPairInEitherOrder() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            let stored = try store.insertFriendship(bob.id, alice.id, since: 100, db)
            #expect(stored == FriendshipRecord(userA: alice.id, userB: bob.id, since: 100))
            #expect(try store.insertFriendship(alice.id, bob.id, since: 200, db).since == 100)
            #expect(try store.friendship(bob.id, alice.id, db) == stored)
            #expect(try count("friendships", in: db) == 1)
            #expect(throws: DatabaseError.self) { try store.insertFriendship(alice.id, alice.id, since: 1, db) }
            #expect(throws: DatabaseError.self) {
                try db.run(
                    "INSERT INTO friendships (user_a, user_b, since) VALUES (?, ?, 1)",
                    [.integer(bob.id), .integer(alice.id)])
            }
            #expect(try store.deleteFriendship(bob.id, alice.id, db))
            #expect(try store.friendship(alice.id, bob.id, db) == nil)
            #expect(try !store.deleteFriendship(alice.id, bob.id, db))
        }
    }

    @Test func friendsAreListedFromBothSidesByUsernameWithoutUnreachableOnes() throws {
        try withStore { db in
            let mia = try user("mia", db)
            let zed = try user("zed", db)
            let adam = try user("adam", db)
            let kim = try user("kim", db)
            let gone = try user("gone", db)
            // Ids follow insertion (mia < zed < adam < kim < gone): zed is the larger id of one pair and the
            // smaller of another, so both halves of the query are exercised.
            try store.insertFriendship(mia.id, zed.id, since: 1, db)
            try store.insertFriendship(adam.id, mia.id, since: 2, db)
            try store.insertFriendship(kim.id, mia.id, since: 3, db)
            try store.insertFriendship(gone.id, mia.id, since: 4, db)
            try store.insertFriendship(zed.id, adam.id, since: 5, db)
            try accounts.anonymiseUser(id: gone.id, now: 9, db)
            try accounts.setDisabled(id: kim.id, true, now: 9, db)

            let friends = try store.friends(of: mia.id, db)
            #expect(friends.map(\.user.username) == ["adam", "zed"])
            #expect(friends.map(\.since) == [2, 1])
            #expect(try store.friends(of: adam.id, db).map(\.user.id) == [mia.id, zed.id])
            #expect(try store.friends(of: zed.id, db).map(\.user.id) == [adam.id, mia.id])
        }
    }

    // MARK: Blocks

    @Test func blocksAreDirectedAndIdempotent() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            #expect(
                try store.blockState(alice.id, bob.id, db)
                    == .init(firstBlockedSecond: false, secondBlockedFirst: false))
            #expect(try store.insertBlock(blocker: alice.id, blocked: bob.id, now: 10, db))
            #expect(try !store.insertBlock(blocker: alice.id, blocked: bob.id, now: 20, db))
            #expect(try store.block(blocker: alice.id, blocked: bob.id, db)?.createdAt == 10)
            #expect(try store.block(blocker: bob.id, blocked: alice.id, db) == nil)

            let fromAlice = try store.blockState(alice.id, bob.id, db)
            #expect(fromAlice.firstBlockedSecond && !fromAlice.secondBlockedFirst && fromAlice.eitherWay)
            let fromBob = try store.blockState(bob.id, alice.id, db)
            #expect(!fromBob.firstBlockedSecond && fromBob.secondBlockedFirst && fromBob.eitherWay)

            #expect(throws: DatabaseError.self) {
                try store.insertBlock(blocker: alice.id, blocked: alice.id, now: 1, db)
            }
            #expect(try store.deleteBlock(blocker: alice.id, blocked: bob.id, db))
            #expect(try !store.deleteBlock(blocker: alice.id, blocked: bob.id, db))
            #expect(try !store.blockState(bob.id, alice.id, db).eitherWay)
        }
    }

    @Test func theBlockListIsNewestFirstAndKeepsDeletedUsers() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            let carol = try user("carol", db)
            try store.insertBlock(blocker: alice.id, blocked: bob.id, now: 10, db)
            try store.insertBlock(blocker: alice.id, blocked: carol.id, now: 20, db)
            try store.insertBlock(blocker: bob.id, blocked: carol.id, now: 30, db)
            try accounts.anonymiseUser(id: bob.id, now: 40, db)
            let blocked = try store.blockedUsers(blockerID: alice.id, db)
            #expect(blocked.map(\.user.id) == [carol.id, bob.id])
            #expect(blocked.map(\.createdAt) == [20, 10])
            #expect(blocked.last?.user.isDeleted == true)
            #expect(try store.blockedUsers(blockerID: carol.id, db).isEmpty)
        }
    }
}
