import Storage

/// A pending friend request with both users' profiles.
public struct FriendRequest: Sendable, Equatable, Identifiable {
    public var id: Int64
    public var from: User
    public var to: User
    /// Unix milliseconds.
    public var createdAt: Int64

    public init(id: Int64, from: User, to: User, createdAt: Int64) {
        self.id = id
        self.from = from
        self.to = to
        self.createdAt = createdAt
    }

    init(_ record: FriendRequestDetailsRecord) {
        self.init(
            id: record.request.id, from: User(record.from), to: User(record.to), createdAt: record.request.createdAt)
    }
}

/// A friend: their profile and since when (unix milliseconds).
public struct Friend: Sendable, Equatable {
    public var user: User
    public var since: Int64

    public init(user: User, since: Int64) {
        self.user = user
        self.since = since
    }
}

/// A user the caller blocked, and when (unix milliseconds).
public struct BlockedUser: Sendable, Equatable {
    public var user: User
    public var createdAt: Int64

    public init(user: User, createdAt: Int64) {
        self.user = user
        self.createdAt = createdAt
    }
}

/// What sending a friend request did.
public enum FriendRequestOutcome: Sendable, Equatable {
    /// A new pending request (201).
    case pending(FriendRequest)
    /// The other side had already asked: both are friends now (200).
    case accepted(Friend)
}

/// Which list of pending requests: sent to the caller, or sent by them.
public enum FriendRequestDirection: String, Sendable, Equatable, CaseIterable {
    case incoming
    case outgoing
}
