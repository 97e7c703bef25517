/// A row of `friend_requests`: a pending request (answered ones are deleted).
public struct FriendRequestRecord: Sendable, Equatable {
    public var id: Int64
    public var fromUserID: Int64
    public var toUserID: Int64
    public var createdAt: Int64

    public init(id: Int64, fromUserID: Int64, toUserID: Int64, createdAt: Int64) {
        self.id = id
        self.fromUserID = fromUserID
        self.toUserID = toUserID
        self.createdAt = createdAt
    }
}

/// A pending request with both users, as the request lists show it.
public struct FriendRequestDetailsRecord: Sendable, Equatable {
    public var request: FriendRequestRecord
    public var from: UserRecord
    public var to: UserRecord

    public init(request: FriendRequestRecord, from: UserRecord, to: UserRecord) {
        self.request = request
        self.from = from
        self.to = to
    }
}

/// A row of `friendships`: the pair is stored once, the smaller id as `userA`.
public struct FriendshipRecord: Sendable, Equatable {
    public var userA: Int64
    public var userB: Int64
    public var since: Int64

    public init(userA: Int64, userB: Int64, since: Int64) {
        self.userA = userA
        self.userB = userB
        self.since = since
    }
}

/// One friend of a user: the friend's row and when the friendship began.
public struct FriendRecord: Sendable, Equatable {
    public var user: UserRecord
    public var since: Int64

    public init(user: UserRecord, since: Int64) {
        self.user = user
        self.since = since
    }
}

/// A row of `blocks`.
public struct BlockRecord: Sendable, Equatable {
    public var blockerID: Int64
    public var blockedID: Int64
    public var createdAt: Int64

    public init(blockerID: Int64, blockedID: Int64, createdAt: Int64) {
        self.blockerID = blockerID
        self.blockedID = blockedID
        self.createdAt = createdAt
    }
}

/// A user someone blocked, for the block list.
public struct BlockedUserRecord: Sendable, Equatable {
    public var user: UserRecord
    public var createdAt: Int64

    public init(user: UserRecord, createdAt: Int64) {
        self.user = user
        self.createdAt = createdAt
    }
}

/// The blocks between two users, in both directions (see ``SocialStore/blockState(_:_:_:)``).
public struct BlockStateRecord: Sendable, Equatable {
    /// The first user blocked the second.
    public var firstBlockedSecond: Bool
    /// The second user blocked the first.
    public var secondBlockedFirst: Bool

    public var eitherWay: Bool { firstBlockedSecond || secondBlockedFirst }

    public init(firstBlockedSecond: Bool, secondBlockedFirst: Bool) {
        self.firstBlockedSecond = firstBlockedSecond
        self.secondBlockedFirst = secondBlockedFirst
    }
}
