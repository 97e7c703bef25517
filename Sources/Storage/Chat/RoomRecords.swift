/// A row of `rooms`, as stored.
public struct RoomRecord: Sendable, Equatable {
    /// `rooms.kind`.
    public enum Kind: String, Sendable, Equatable {
        case direct
        case group
    }

    public var id: Int64
    public var kind: Kind
    /// Empty for direct rooms.
    public var name: String
    /// Empty for direct rooms.
    public var topic: String
    /// `<smaller id>:<larger id>` of the two users of a direct room; nil for groups.
    public var directKey: String?
    /// Nil if the creator's row is gone.
    public var createdBy: Int64?
    public var createdAt: Int64
    public var updatedAt: Int64
    public var lastActivityAt: Int64
    /// Seq of the newest message, 0 before the first.
    public var lastSeq: Int64
    public var memberCount: Int

    public init(
        id: Int64, kind: Kind, name: String, topic: String, directKey: String?, createdBy: Int64?, createdAt: Int64,
        updatedAt: Int64, lastActivityAt: Int64, lastSeq: Int64, memberCount: Int
    ) {
        self.id = id
        self.kind = kind
        self.name = name
        self.topic = topic
        self.directKey = directKey
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastActivityAt = lastActivityAt
        self.lastSeq = lastSeq
        self.memberCount = memberCount
    }
}

/// A row of `room_members`.
public struct RoomMemberRecord: Sendable, Equatable {
    /// `room_members.role`.
    public enum Role: String, Sendable, Equatable {
        case owner
        case admin
        case member
    }

    public var roomID: Int64
    public var userID: Int64
    public var role: Role
    public var joinedAt: Int64
    /// The member's read receipt: the newest seq they have seen.
    public var lastReadSeq: Int64

    public init(roomID: Int64, userID: Int64, role: Role, joinedAt: Int64, lastReadSeq: Int64 = 0) {
        self.roomID = roomID
        self.userID = userID
        self.role = role
        self.joinedAt = joinedAt
        self.lastReadSeq = lastReadSeq
    }
}

/// A membership with the kind of its room: what access checks need, in one primary-key lookup.
public struct RoomMembershipRecord: Sendable, Equatable {
    public var member: RoomMemberRecord
    public var kind: RoomRecord.Kind

    public init(member: RoomMemberRecord, kind: RoomRecord.Kind) {
        self.member = member
        self.kind = kind
    }
}

/// A member with their user row, for the member list.
public struct RoomMemberDetailsRecord: Sendable, Equatable {
    public var member: RoomMemberRecord
    public var user: UserRecord

    public init(member: RoomMemberRecord, user: UserRecord) {
        self.member = member
        self.user = user
    }
}

/// A room as one of its members sees it: the room, the viewer's membership, the other member of a direct
/// room, and the id of the newest message.
public struct RoomSummaryRecord: Sendable, Equatable {
    public var room: RoomRecord
    /// The viewer's own membership (role, read position).
    public var membership: RoomMemberRecord
    /// The other member of a direct room; nil for groups (or if that member's row is gone).
    public var peer: UserRecord?
    /// The message whose seq is the room's `last_seq`; nil before the first message.
    public var lastMessageID: Int64?

    public init(room: RoomRecord, membership: RoomMemberRecord, peer: UserRecord?, lastMessageID: Int64?) {
        self.room = room
        self.membership = membership
        self.peer = peer
        self.lastMessageID = lastMessageID
    }
}
