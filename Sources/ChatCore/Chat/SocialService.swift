import Logging
import Storage

/// Friend requests, friendships and blocks.
///
/// **Visibility.** A user who blocked the caller, and one who is deleted or disabled, look the same to
/// the caller as one who does not exist (``ChatError/notFound``): a blocked user must not learn of the
/// block. The caller's own block is no secret (``ChatError/conflict(code:)`` `blocked`).
///
/// **Atomicity.** Each change is one writer job: its checks and writes see one state, and a refusal found
/// halfway rolls everything back. Two users asking each other at the same time are serialized by the
/// writer: the second finds the first's request and accepts it.
public final class SocialService: Sendable {
    let database: RoomDatabase
    let access: RoomAccess
    /// Unix milliseconds; injectable so tests control time.
    let clock: @Sendable () -> Int64
    let social = SocialStore()
    let accounts = AccountStore()

    /// - Parameters:
    ///   - access: told about every block and unblock, so cached block checks follow at once.
    ///   - events: told of requests sent, accepted and cancelled, and friendships ended. Rejections and blocks
    ///     are not announced: the other side must not learn of them.
    ///   - clock: the current time in unix milliseconds; the system clock by default.
    public init(
        writer: DatabaseWriter, readers: DatabaseReaderPool, access: RoomAccess, events: any PubSub = LocalPubSub(),
        clock: @escaping @Sendable () -> Int64 = AccountService.systemClock
    ) {
        database = RoomDatabase(writer: writer, readers: readers, logger: Logger("social"), events: events)
        self.access = access
        self.clock = clock
    }

    // MARK: Friend requests

    /// Asks `targetID` to be friends with `userID`. If the target had already asked, that request is
    /// accepted instead (``FriendRequestOutcome/accepted(_:)``).
    ///
    /// Throws ``ChatError/validation(_:)`` (`user_id`) for oneself; ``ChatError/notFound`` for an unknown,
    /// deleted or disabled target, or one who blocked the caller; ``ChatError/conflict(code:)``
    /// `blocked` if the caller blocked the target, `already_friends`, or `request_pending` if the caller
    /// already asked.
    public func sendFriendRequest(from userID: Int64, to targetID: Int64) async throws(ChatError)
        -> FriendRequestOutcome
    {
        guard userID != targetID else { throw .validation(["user_id": "cannot be yourself"]) }
        let now = clock()
        return try await database.write { [social, accounts] db, outbox in
            let target = try Self.reachableUser(
                targetID, from: userID, callerBlocked: .conflict(code: "blocked"), accounts: accounts, social: social,
                db)
            guard let caller = try accounts.user(id: userID, db) else { throw ChatError.notFound }
            if try social.friendship(userID, targetID, db) != nil {
                throw ChatError.conflict(code: "already_friends")
            }
            if let pending = try social.pendingRequest(between: userID, targetID, db) {
                guard pending.fromUserID == targetID else { throw ChatError.conflict(code: "request_pending") }
                try social.deleteFriendRequest(id: pending.id, db)
                let friendship = try social.insertFriendship(userID, targetID, since: now, db)
                outbox.post(
                    .friendRequestAccepted(FriendNotice(requestID: pending.id, actorID: userID, recipientID: targetID)))
                return .accepted(Friend(user: User(target), since: friendship.since))
            }
            let request = try social.insertFriendRequest(from: userID, to: targetID, now: now, db)
            outbox.post(.friendRequest(FriendNotice(requestID: request.id, actorID: userID, recipientID: targetID)))
            return .pending(
                FriendRequest(id: request.id, from: User(caller), to: User(target), createdAt: request.createdAt))
        }
    }

    /// The user `targetID` as `userID` may reach them (for a friend request or a direct room). Throws
    /// `callerBlocked` if the caller blocked them, checked first: the caller knows their own blocks, and
    /// must not learn of the target's. Throws ``ChatError/notFound`` if the target does not exist, is
    /// deleted or disabled, or blocked the caller.
    static func reachableUser(
        _ targetID: Int64, from userID: Int64, callerBlocked: ChatError, accounts: AccountStore,
        social: SocialStore, _ db: Database
    ) throws -> UserRecord {
        guard let target = try accounts.user(id: targetID, db), !target.isDeleted, !target.isDisabled else {
            throw ChatError.notFound
        }
        let blocks = try social.blockState(userID, targetID, db)
        if blocks.firstBlockedSecond { throw callerBlocked }
        if blocks.secondBlockedFirst { throw ChatError.notFound }
        return target
    }

    /// The pending requests sent to (`incoming`) or by (`outgoing`) the user, newest first. Requests whose
    /// other side is deleted or disabled are left out.
    public func friendRequests(userID: Int64, direction: FriendRequestDirection) async throws(ChatError)
        -> [FriendRequest]
    {
        let records = try await database.read { [social] db in
            switch direction {
            case .incoming: return try social.incomingRequests(userID: userID, db)
            case .outgoing: return try social.outgoingRequests(userID: userID, db)
            }
        }
        return records.map(FriendRequest.init)
    }

    /// Accepts a request sent to `userID`. ``ChatError/notFound`` if there is no such pending request to
    /// them, or its sender is now deleted or disabled.
    public func acceptFriendRequest(id: Int64, userID: Int64) async throws(ChatError) -> Friend {
        let now = clock()
        return try await database.write { [social, accounts] db, outbox in
            guard let request = try social.friendRequest(id: id, db), request.toUserID == userID,
                let sender = try accounts.user(id: request.fromUserID, db), !sender.isDeleted, !sender.isDisabled
            else { throw ChatError.notFound }
            try social.deleteFriendRequest(id: id, db)
            let friendship = try social.insertFriendship(userID, sender.id, since: now, db)
            outbox.post(.friendRequestAccepted(FriendNotice(requestID: id, actorID: userID, recipientID: sender.id)))
            return Friend(user: User(sender), since: friendship.since)
        }
    }

    /// Declines a request sent to `userID`; the sender is not told. ``ChatError/notFound`` if there is no
    /// such pending request to them.
    public func rejectFriendRequest(id: Int64, userID: Int64) async throws(ChatError) {
        try await deleteRequest(id: id, announce: false) { $0.toUserID == userID }
    }

    /// Withdraws a request `userID` sent. ``ChatError/notFound`` if there is no such pending request from them.
    public func cancelFriendRequest(id: Int64, userID: Int64) async throws(ChatError) {
        try await deleteRequest(id: id, announce: true) { $0.fromUserID == userID }
    }

    /// Deletes a pending request if `allowed`; `announce` tells its addressee it was withdrawn.
    private func deleteRequest(
        id: Int64, announce: Bool, allowed: @escaping @Sendable (FriendRequestRecord) -> Bool
    ) async throws(ChatError) {
        try await database.write { [social] db, outbox in
            guard let request = try social.friendRequest(id: id, db), allowed(request) else {
                throw ChatError.notFound
            }
            try social.deleteFriendRequest(id: id, db)
            if announce {
                outbox.post(
                    .friendRequestCancelled(
                        FriendNotice(requestID: id, actorID: request.fromUserID, recipientID: request.toUserID)))
            }
        }
    }

    // MARK: Friends

    /// The user's friends by username; deleted and disabled ones are left out.
    public func friends(userID: Int64) async throws(ChatError) -> [Friend] {
        let records = try await database.read { [social] db in try social.friends(of: userID, db) }
        return records.map { Friend(user: User($0.user), since: $0.since) }
    }

    /// Ends a friendship (either side may). ``ChatError/notFound`` if they are not friends.
    public func unfriend(userID: Int64, friendID: Int64) async throws(ChatError) {
        let removed = try await database.write { [social] db, outbox in
            let removed = try social.deleteFriendship(userID, friendID, db)
            if removed { outbox.post(.friendRemoved(userID: userID, otherID: friendID)) }
            return removed
        }
        guard removed else { throw .notFound }
    }

    // MARK: Blocks

    /// Blocks `targetID`: their friendship and pending requests in both directions go, and from now on the
    /// target cannot find the caller for requests, direct rooms or groups. Blocking again changes nothing.
    ///
    /// Throws ``ChatError/validation(_:)`` (`user_id`) for oneself and ``ChatError/notFound`` for an
    /// unknown or disabled user (as for profiles; a deleted user can be blocked, harmlessly).
    public func block(userID: Int64, targetID: Int64) async throws(ChatError) {
        guard userID != targetID else { throw .validation(["user_id": "cannot be yourself"]) }
        let now = clock()
        try await database.write { [social, accounts] db in
            guard let target = try accounts.user(id: targetID, db), !target.isDisabled else {
                throw ChatError.notFound
            }
            try social.insertBlock(blocker: userID, blocked: targetID, now: now, db)
            try social.deleteFriendship(userID, targetID, db)
            try social.deleteFriendRequests(between: userID, targetID, db)
        }
        access.invalidateBlocks(userID, targetID)
    }

    /// Lifts a block. ``ChatError/notFound`` if the caller had not blocked that user. Friendship and
    /// requests removed by the block do not come back.
    public func unblock(userID: Int64, targetID: Int64) async throws(ChatError) {
        let removed = try await database.write { [social] db in
            try social.deleteBlock(blocker: userID, blocked: targetID, db)
        }
        guard removed else { throw .notFound }
        access.invalidateBlocks(userID, targetID)
    }

    /// The users the caller blocked, newest first.
    public func blocks(userID: Int64) async throws(ChatError) -> [BlockedUser] {
        let records = try await database.read { [social] db in try social.blockedUsers(blockerID: userID, db) }
        return records.map { BlockedUser(user: User($0.user), createdAt: $0.createdAt) }
    }
}
