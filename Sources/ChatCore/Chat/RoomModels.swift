import Storage

/// Whether a room is a one-to-one conversation or a group.
public enum RoomKind: String, Sendable, Equatable, Hashable, CaseIterable {
    /// Exactly two members, fixed; one room per pair.
    case direct
    /// Named, with an owner, admins and members.
    case group

    init(_ kind: RoomRecord.Kind) {
        switch kind {
        case .direct: self = .direct
        case .group: self = .group
        }
    }
}

/// A member's role in a room. Both members of a direct room are `member`s.
public enum RoomRole: String, Sendable, Equatable, Hashable, CaseIterable {
    case owner
    case admin
    case member

    /// Owner or admin: may rename the room, change its topic, and add and remove members.
    public var canManage: Bool { self != .member }

    init(_ role: RoomMemberRecord.Role) {
        switch role {
        case .owner: self = .owner
        case .admin: self = .admin
        case .member: self = .member
        }
    }

    var record: RoomMemberRecord.Role {
        switch self {
        case .owner: return .owner
        case .admin: return .admin
        case .member: return .member
        }
    }
}

/// A user's membership of a room, as access checks need it (see ``RoomAccess``).
public struct Membership: Sendable, Equatable {
    public var roomID: Int64
    public var userID: Int64
    public var role: RoomRole
    public var kind: RoomKind
    /// Unix milliseconds.
    public var joinedAt: Int64

    public init(roomID: Int64, userID: Int64, role: RoomRole, kind: RoomKind, joinedAt: Int64) {
        self.roomID = roomID
        self.userID = userID
        self.role = role
        self.kind = kind
        self.joinedAt = joinedAt
    }

    init(_ record: RoomMembershipRecord) {
        self.init(
            roomID: record.member.roomID, userID: record.member.userID, role: RoomRole(record.member.role),
            kind: RoomKind(record.kind), joinedAt: record.member.joinedAt)
    }
}

/// A room as one of its members sees it (the contract's Room, but for `last_message`, which the message
/// layer renders from ``lastMessageID``).
public struct Room: Sendable, Equatable, Identifiable {
    public var id: Int64
    public var kind: RoomKind
    /// "" for direct rooms.
    public var name: String
    /// "" for direct rooms.
    public var topic: String
    /// Nil if the creator's account row is gone.
    public var createdBy: Int64?
    /// Unix milliseconds.
    public var createdAt: Int64
    /// Unix milliseconds of the last change of name or topic (or the creation).
    public var updatedAt: Int64
    /// Unix milliseconds of the newest message, system messages included (or the creation).
    public var lastActivityAt: Int64
    public var memberCount: Int
    /// The viewer's role.
    public var role: RoomRole
    /// Seq of the newest message; 0 before the first.
    public var lastSeq: Int64
    /// The viewer's read position.
    public var lastReadSeq: Int64
    /// `lastSeq - lastReadSeq`, never negative.
    public var unreadCount: Int64
    /// Id of the newest message (seq `lastSeq`), nil before the first.
    public var lastMessageID: Int64?
    /// The other member of a direct room; nil for groups.
    public var peer: User?

    public init(
        id: Int64, kind: RoomKind, name: String, topic: String, createdBy: Int64?, createdAt: Int64,
        updatedAt: Int64, lastActivityAt: Int64, memberCount: Int, role: RoomRole, lastSeq: Int64,
        lastReadSeq: Int64, unreadCount: Int64, lastMessageID: Int64?, peer: User?
    ) {
        self.id = id
        self.kind = kind
        self.name = name
        self.topic = topic
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastActivityAt = lastActivityAt
        self.memberCount = memberCount
        self.role = role
        self.lastSeq = lastSeq
        self.lastReadSeq = lastReadSeq
        self.unreadCount = unreadCount
        self.lastMessageID = lastMessageID
        self.peer = peer
    }

    init(_ summary: RoomSummaryRecord) {
        let room = summary.room
        self.init(
            id: room.id, kind: RoomKind(room.kind), name: room.name, topic: room.topic, createdBy: room.createdBy,
            createdAt: room.createdAt, updatedAt: room.updatedAt, lastActivityAt: room.lastActivityAt,
            memberCount: room.memberCount, role: RoomRole(summary.membership.role), lastSeq: room.lastSeq,
            lastReadSeq: summary.membership.lastReadSeq,
            unreadCount: max(0, room.lastSeq - summary.membership.lastReadSeq), lastMessageID: summary.lastMessageID,
            peer: summary.peer.map(User.init))
    }
}

/// A member of a room, for the member list.
public struct RoomMember: Sendable, Equatable {
    public var user: User
    public var role: RoomRole
    /// Unix milliseconds.
    public var joinedAt: Int64
    public var lastReadSeq: Int64

    public init(user: User, role: RoomRole, joinedAt: Int64, lastReadSeq: Int64) {
        self.user = user
        self.role = role
        self.joinedAt = joinedAt
        self.lastReadSeq = lastReadSeq
    }

    init(_ record: RoomMemberDetailsRecord) {
        self.init(
            user: User(record.user), role: RoomRole(record.member.role), joinedAt: record.member.joinedAt,
            lastReadSeq: record.member.lastReadSeq)
    }
}

/// What opening a direct room gave: the room, and whether this call created it (201) or found it (200).
public struct DirectRoomResult: Sendable, Equatable {
    public var room: Room
    public var created: Bool

    public init(room: Room, created: Bool) {
        self.room = room
        self.created = created
    }
}
