import Storage
import Testing

@testable import ChatCore

/// ``RoomAccess``: cached membership, block and direct-peer lookups, and their invalidation.
@Suite struct RoomAccessTests {
    @Test func membershipsCarryRoleKindAndJoinTimeAndOnlyMembersAreCached() async throws {
        try await withRooms(policy: ChatPolicy(dmPolicy: .anyone)) { fixture in
            let ids = try await fixture.users("owner", "bob", "outsider")
            let (owner, bob, outsider) = (ids[0], ids[1], ids[2])
            let group = try await fixture.rooms.createGroup(userID: owner, name: "team", memberIDs: [bob])
            let direct = try await fixture.rooms.openDirectRoom(userID: owner, peerID: bob).room
            let access = fixture.access

            let ownerOfGroup = try await access.membership(roomID: group.id, userID: owner)
            #expect(
                ownerOfGroup
                    == Membership(
                        roomID: group.id, userID: owner, role: .owner, kind: .group, joinedAt: group.createdAt))
            #expect(try await access.membership(roomID: direct.id, userID: bob)?.kind == .direct)
            #expect(access.cachedMembershipCount == 2)
            #expect(try await access.membership(roomID: group.id, userID: outsider) == nil)
            #expect(try await access.membership(roomID: 987_654, userID: owner) == nil)
            #expect(access.cachedMembershipCount == 2, "probes of rooms one is not in are not cached")
        }
    }

    @Test func theCacheAnswersWithoutTheDatabaseUntilInvalidated() async throws {
        try await withRooms { fixture in
            let (owner, bob) = (try await fixture.user("owner"), try await fixture.user("bob"))
            let room = try await fixture.rooms.createGroup(userID: owner, name: "team", memberIDs: [bob])
            #expect(try await fixture.access.membership(roomID: room.id, userID: bob)?.role == .member)
            // Behind the services' back (as another process would): the cache still answers from memory...
            try await fixture.accounts.writer.write { db in
                try db.run(
                    "DELETE FROM room_members WHERE room_id = ? AND user_id = ?", [.integer(room.id), .integer(bob)])
            }
            #expect(try await fixture.access.membership(roomID: room.id, userID: bob)?.role == .member)
            // ...until told.
            fixture.access.invalidate(roomID: room.id, userID: bob)
            #expect(try await fixture.access.membership(roomID: room.id, userID: bob) == nil)
        }
    }

    @Test func invalidatingARoomForgetsAllItsMembersOnly() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("owner", "bob", "carol")
            let first = try await fixture.rooms.createGroup(userID: ids[0], name: "one", memberIDs: [ids[1], ids[2]])
            let second = try await fixture.rooms.createGroup(userID: ids[0], name: "two", memberIDs: [ids[1]])
            for user in ids {
                _ = try await fixture.access.membership(roomID: first.id, userID: user)
            }
            _ = try await fixture.access.membership(roomID: second.id, userID: ids[1])
            #expect(fixture.access.cachedMembershipCount == 4)
            fixture.access.invalidate(roomID: first.id)
            #expect(fixture.access.cachedMembershipCount == 1)
        }
    }

    @Test func theCacheIsBounded() async throws {
        try await withRooms(accessCapacity: 2) { fixture in
            let owner = try await fixture.user("owner")
            var rooms: [Int64] = []
            for name in ["a", "b", "c", "d"] {
                rooms.append(try await fixture.rooms.createGroup(userID: owner, name: name).id)
            }
            for room in rooms {
                #expect(try await fixture.access.membership(roomID: room, userID: owner)?.role == .owner)
            }
            #expect(fixture.access.cachedMembershipCount == 2)
            // Evicted entries are read again, correctly.
            #expect(try await fixture.access.membership(roomID: rooms[0], userID: owner)?.role == .owner)
        }
    }

    @Test func directPeersAreTheOtherMemberOfADirectRoom() async throws {
        try await withRooms(policy: ChatPolicy(dmPolicy: .anyone)) { fixture in
            let ids = try await fixture.users("alice", "bob", "carol")
            let (alice, bob, carol) = (ids[0], ids[1], ids[2])
            let direct = try await fixture.rooms.openDirectRoom(userID: alice, peerID: bob).room
            let group = try await fixture.rooms.createGroup(userID: alice, name: "g", memberIDs: [bob])
            let access = fixture.access
            for _ in 0..<2 {  // the second round is answered from the cache
                #expect(try await access.directPeer(roomID: direct.id, userID: alice) == bob)
                #expect(try await access.directPeer(roomID: direct.id, userID: bob) == alice)
                #expect(try await access.directPeer(roomID: direct.id, userID: carol) == nil)
                #expect(try await access.directPeer(roomID: group.id, userID: alice) == nil)
                #expect(try await access.directPeer(roomID: 987_654, userID: alice) == nil)
            }
        }
    }

    @Test func blockChecksGoBothWays() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("alice", "bob", "carol")
            try await fixture.social.block(userID: ids[0], targetID: ids[1])
            for _ in 0..<2 {
                #expect(try await fixture.access.isBlockedEitherWay(ids[0], ids[1]))
                #expect(try await fixture.access.isBlockedEitherWay(ids[1], ids[0]))
                #expect(try await !fixture.access.isBlockedEitherWay(ids[0], ids[2]))
            }
        }
    }

    /// Lookups racing with a removal may return either answer while it happens, but none may cache the
    /// old one after it: once the removal returned and the lookups ended, the member is out for good.
    @Test func lookupsRacingARemovalNeverKeepTheOldAnswer() async throws {
        try await withRooms { fixture in
            let owner = try await fixture.user("owner")
            var members: [Int64] = []
            for index in 0..<8 {
                members.append(try await fixture.user("member\(index)"))
            }
            let room = try await fixture.rooms.createGroup(userID: owner, name: "race", memberIDs: members).id
            let access = fixture.access
            let rooms = fixture.rooms
            try await withThrowingTaskGroup(of: Void.self) { group in
                for member in members {
                    for _ in 0..<8 {
                        group.addTask { _ = try await access.membership(roomID: room, userID: member) }
                    }
                    group.addTask { try await rooms.removeMember(roomID: room, userID: owner, memberID: member) }
                }
                try await group.waitForAll()
            }
            for member in members {
                #expect(try await access.membership(roomID: room, userID: member) == nil)
            }
            #expect(try await access.membership(roomID: room, userID: owner)?.role == .owner)
        }
    }

    /// The window the generations guard: a lookup read the database before a removal committed, and
    /// stores its answer after the removal's invalidation. It may return the old answer (it overlapped the
    /// removal), but must not cache it.
    @Test func aLookupOverlappingARemovalDoesNotCacheTheOldAnswer() async throws {
        try await withRooms { fixture in
            let (owner, carol) = (try await fixture.user("owner"), try await fixture.user("carol"))
            let gate = LookupGate()
            let access = RoomAccess(readers: fixture.accounts.readers, capacity: 100, afterRead: { await gate.pass() })
            let rooms = RoomService(writer: fixture.accounts.writer, readers: fixture.accounts.readers, access: access)
            let room = try await rooms.createGroup(userID: owner, name: "race", memberIDs: [carol]).id

            let lookup = Task { try await access.membership(roomID: room, userID: carol) }
            await gate.waitForArrival()
            try await rooms.removeMember(roomID: room, userID: owner, memberID: carol)
            await gate.release()
            #expect(try await lookup.value?.role == .member)
            #expect(access.cachedMembershipCount == 0)
            #expect(try await access.membership(roomID: room, userID: carol) == nil)
        }
    }
}

/// Holds the first lookup that reaches it until released, and tells when one has.
private actor LookupGate {
    private var armed = true
    private var arrived = false
    private var released = false
    private var arrivalWaiter: CheckedContinuation<Void, Never>?
    private var releaseWaiter: CheckedContinuation<Void, Never>?

    func pass() async {
        guard armed else { return }
        armed = false
        arrived = true
        arrivalWaiter?.resume()
        arrivalWaiter = nil
        guard !released else { return }
        await withCheckedContinuation { releaseWaiter = $0 }
    }

    func waitForArrival() async {
        guard !arrived else { return }
        await withCheckedContinuation { arrivalWaiter = $0 }
    }

    func release() {
        released = true
        releaseWaiter?.resume()
        releaseWaiter = nil
    }
}
