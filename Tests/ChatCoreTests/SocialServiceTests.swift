import Storage
import Testing

@testable import ChatCore

/// Friend requests, friendships and blocks through ``SocialService``, on a real database.
@Suite struct SocialServiceTests {
    // MARK: Requests

    @Test func aRequestIsPendingUntilTheRecipientAccepts() async throws {
        try await withRooms { fixture in
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let request = try #require(try await fixture.social.sendFriendRequest(from: alice, to: bob).pendingRequest)
            #expect(request.from.id == alice && request.from.username == "alice")
            #expect(request.to.id == bob && request.to.username == "bob")
            #expect(request.createdAt == fixture.clock.now)

            #expect(try await fixture.social.friendRequests(userID: bob, direction: .incoming) == [request])
            #expect(try await fixture.social.friendRequests(userID: bob, direction: .outgoing).isEmpty)
            #expect(try await fixture.social.friendRequests(userID: alice, direction: .outgoing) == [request])
            #expect(try await fixture.social.friendRequests(userID: alice, direction: .incoming).isEmpty)
            #expect(try await fixture.social.friends(userID: alice).isEmpty)
            #expect(
                await roomError { try await fixture.social.sendFriendRequest(from: alice, to: bob) }
                    == .conflict(code: "request_pending"))

            fixture.tick(5)
            let friend = try await fixture.social.acceptFriendRequest(id: request.id, userID: bob)
            #expect(friend.user.id == alice && friend.since == fixture.clock.now)
            #expect(try await fixture.social.friends(userID: alice).map(\.user.id) == [bob])
            #expect(try await fixture.social.friends(userID: bob).map(\.user.id) == [alice])
            for user in [alice, bob] {
                for direction in FriendRequestDirection.allCases {
                    #expect(try await fixture.social.friendRequests(userID: user, direction: direction).isEmpty)
                }
            }
            for (from, to) in [(alice, bob), (bob, alice)] {
                #expect(
                    await roomError { try await fixture.social.sendFriendRequest(from: from, to: to) }
                        == .conflict(code: "already_friends"))
            }
            #expect(
                await roomError { try await fixture.social.acceptFriendRequest(id: request.id, userID: bob) }
                    == .notFound)
        }
    }

    @Test func askingSomeoneWhoAlreadyAskedAcceptsTheirRequest() async throws {
        try await withRooms { fixture in
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            _ = try await fixture.social.sendFriendRequest(from: alice, to: bob)
            let outcome = try await fixture.social.sendFriendRequest(from: bob, to: alice)
            #expect(outcome.acceptedFriend?.user.id == alice)
            #expect(try await fixture.social.friends(userID: alice).map(\.user.id) == [bob])
            #expect(try fixture.rowCount("SELECT count(*) FROM friend_requests") == 0)
        }
    }

    @Test func twoUsersAskingEachOtherAtOnceBecomeFriendsOnce() async throws {
        try await withRooms { fixture in
            var pairs: [(Int64, Int64)] = []
            for index in 0..<6 {
                pairs.append((try await fixture.user("left\(index)"), try await fixture.user("right\(index)")))
            }
            let social = fixture.social
            let outcomes = try await withThrowingTaskGroup(of: FriendRequestOutcome.self) { group in
                for (left, right) in pairs {
                    group.addTask { try await social.sendFriendRequest(from: left, to: right) }
                    group.addTask { try await social.sendFriendRequest(from: right, to: left) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0.pendingRequest != nil }.count == pairs.count)
            #expect(outcomes.filter { $0.acceptedFriend != nil }.count == pairs.count)
            #expect(try fixture.rowCount("SELECT count(*) FROM friendships") == pairs.count)
            #expect(try fixture.rowCount("SELECT count(*) FROM friend_requests") == 0)
        }
    }

    @Test func onlyTheRecipientAnswersAndOnlyTheSenderCancels() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("alice", "bob", "carol")
            let (alice, bob, carol) = (ids[0], ids[1], ids[2])
            let social = fixture.social
            let request = try #require(try await social.sendFriendRequest(from: alice, to: bob).pendingRequest)
            let refused: [(String, () async throws -> Void)] = [
                ("sender accepts", { _ = try await social.acceptFriendRequest(id: request.id, userID: alice) }),
                ("sender rejects", { try await social.rejectFriendRequest(id: request.id, userID: alice) }),
                ("recipient cancels", { try await social.cancelFriendRequest(id: request.id, userID: bob) }),
                ("stranger accepts", { _ = try await social.acceptFriendRequest(id: request.id, userID: carol) }),
                ("stranger rejects", { try await social.rejectFriendRequest(id: request.id, userID: carol) }),
                ("stranger cancels", { try await social.cancelFriendRequest(id: request.id, userID: carol) }),
                ("unknown id", { _ = try await social.acceptFriendRequest(id: 987_654, userID: bob) }),
            ]
            for (name, attempt) in refused {
                #expect(await roomError(attempt) == .notFound, "\(name)")
            }
            #expect(try await social.friendRequests(userID: bob, direction: .incoming).map(\.id) == [request.id])

            try await social.rejectFriendRequest(id: request.id, userID: bob)
            #expect(try await social.friendRequests(userID: alice, direction: .outgoing).isEmpty)
            #expect(try await social.friends(userID: alice).isEmpty)
            // Rejected, alice may ask again; then cancel.
            let second = try #require(try await social.sendFriendRequest(from: alice, to: bob).pendingRequest)
            #expect(second.id != request.id)
            try await social.cancelFriendRequest(id: second.id, userID: alice)
            #expect(try await social.friendRequests(userID: bob, direction: .incoming).isEmpty)
            #expect(await roomError { try await social.cancelFriendRequest(id: second.id, userID: alice) } == .notFound)
        }
    }

    @Test func requestListsAreNewestFirst() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("alice", "bob", "carol", "dave")
            var sent: [Int64] = []
            for sender in ids.dropFirst() {
                fixture.tick()
                sent.append(
                    try #require(try await fixture.social.sendFriendRequest(from: sender, to: ids[0]).pendingRequest).id
                )
            }
            let incoming = try await fixture.social.friendRequests(userID: ids[0], direction: .incoming)
            #expect(incoming.map(\.id) == sent.reversed())
        }
    }

    @Test func unreachableTargetsLookUnknown() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("alice", "gone", "off", "blocker", "target")
            let (alice, gone, off, blocker, target) = (ids[0], ids[1], ids[2], ids[3], ids[4])
            try await fixture.deleteAccount(gone)
            try await fixture.disable("off")
            try await fixture.social.block(userID: blocker, targetID: alice)
            try await fixture.social.block(userID: alice, targetID: target)
            let social = fixture.social

            #expect(
                await roomError { try await social.sendFriendRequest(from: alice, to: alice) }?.fieldNames == [
                    "user_id"
                ])
            for unreachable in [987_654, gone, off, blocker] {
                #expect(
                    await roomError { try await social.sendFriendRequest(from: alice, to: unreachable) } == .notFound)
            }
            // The caller's own block is no secret; it also wins when both blocked each other.
            #expect(
                await roomError { try await social.sendFriendRequest(from: alice, to: target) }
                    == .conflict(code: "blocked"))
            try await social.block(userID: alice, targetID: blocker)
            #expect(
                await roomError { try await social.sendFriendRequest(from: alice, to: blocker) }
                    == .conflict(code: "blocked"))
            #expect(await roomError { try await social.sendFriendRequest(from: target, to: alice) } == .notFound)
        }
    }

    @Test func requestsOfAccountsDeletedOrDisabledSinceAreHiddenAndCannotBeAccepted() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("alice", "bob", "carol")
            let (alice, bob, carol) = (ids[0], ids[1], ids[2])
            let fromBob = try #require(try await fixture.social.sendFriendRequest(from: bob, to: alice).pendingRequest)
            let fromCarol = try #require(
                try await fixture.social.sendFriendRequest(from: carol, to: alice).pendingRequest)
            try await fixture.deleteAccount(bob)
            try await fixture.disable("carol")
            #expect(try await fixture.social.friendRequests(userID: alice, direction: .incoming).isEmpty)
            for request in [fromBob, fromCarol] {
                #expect(
                    await roomError { try await fixture.social.acceptFriendRequest(id: request.id, userID: alice) }
                        == .notFound)
            }
            // Declining still works: it only removes the request.
            try await fixture.social.rejectFriendRequest(id: fromBob.id, userID: alice)
        }
    }

    // MARK: Friends

    @Test func friendsAreListedByUsernameAndEitherSideMayUnfriend() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("mia", "zed", "adam")
            let (mia, zed, adam) = (ids[0], ids[1], ids[2])
            try await fixture.befriend(mia, zed)
            fixture.tick(10)
            try await fixture.befriend(adam, mia)
            let friends = try await fixture.social.friends(userID: mia)
            #expect(friends.map(\.user.username) == ["adam", "zed"])
            #expect(friends[0].since == friends[1].since + 10)

            try await fixture.social.unfriend(userID: zed, friendID: mia)
            #expect(try await fixture.social.friends(userID: mia).map(\.user.id) == [adam])
            #expect(try await fixture.social.friends(userID: zed).isEmpty)
            #expect(await roomError { try await fixture.social.unfriend(userID: mia, friendID: zed) } == .notFound)
            #expect(await roomError { try await fixture.social.unfriend(userID: mia, friendID: 987_654) } == .notFound)
        }
    }

    // MARK: Blocks

    @Test func blockingEndsFriendshipAndRequestsBothWaysAndIsIdempotent() async throws {
        try await withRooms { fixture in
            let ids = try await fixture.users("alice", "bob", "carol", "dave")
            let (alice, bob, carol, dave) = (ids[0], ids[1], ids[2], ids[3])
            let social = fixture.social
            try await fixture.befriend(alice, bob)
            _ = try await social.sendFriendRequest(from: carol, to: alice)
            _ = try await social.sendFriendRequest(from: alice, to: dave)

            let blockedAt = fixture.clock.now
            for target in [bob, carol, dave] {
                try await social.block(userID: alice, targetID: target)
            }
            fixture.tick(100)
            try await social.block(userID: alice, targetID: bob)
            #expect(try await social.friends(userID: alice).isEmpty)
            #expect(try await social.friends(userID: bob).isEmpty)
            #expect(try fixture.rowCount("SELECT count(*) FROM friend_requests") == 0)
            let blocks = try await social.blocks(userID: alice)
            #expect(Set(blocks.map(\.user.id)) == [bob, carol, dave])
            #expect(blocks.allSatisfy { $0.createdAt == blockedAt }, "blocking again keeps the first block")
            #expect(try await social.blocks(userID: bob).isEmpty)

            #expect(
                await roomError { try await social.block(userID: alice, targetID: alice) }?.fieldNames == ["user_id"])
            #expect(await roomError { try await social.block(userID: alice, targetID: 987_654) } == .notFound)

            try await social.unblock(userID: alice, targetID: bob)
            #expect(await roomError { try await social.unblock(userID: alice, targetID: bob) } == .notFound)
            #expect(await roomError { try await social.unblock(userID: bob, targetID: alice) } == .notFound)
            #expect(try await social.friends(userID: alice).isEmpty, "unblocking does not restore the friendship")
            #expect(try await social.sendFriendRequest(from: bob, to: alice).pendingRequest != nil)
        }
    }

    @Test func blocksReachTheAccessCheckAtOnce() async throws {
        try await withRooms { fixture in
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            #expect(try await !fixture.access.isBlockedEitherWay(alice, bob))
            #expect(try await !fixture.access.isBlockedEitherWay(bob, alice))
            try await fixture.social.block(userID: bob, targetID: alice)
            #expect(try await fixture.access.isBlockedEitherWay(alice, bob))
            #expect(try await fixture.access.isBlockedEitherWay(bob, alice))
            try await fixture.social.unblock(userID: bob, targetID: alice)
            #expect(try await !fixture.access.isBlockedEitherWay(alice, bob))
        }
    }
}
