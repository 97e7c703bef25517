import ChatCore

/// JSON shapes of the chat API (README, "Rooms and messages"). Optional fields are written as explicit
/// `null` (clients test for null, not for a missing key), so these types encode themselves.

struct ReactionJSON: Encodable {
    let emoji: String
    let count: Int
    let me: Bool
}

struct SystemEventJSON: Encodable {
    let type: String
    let actor_id: Int64?
    let user_ids: [Int64]
    let detail: String?

    enum CodingKeys: String, CodingKey { case type, actor_id, user_ids, detail }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(actor_id, forKey: .actor_id)
        try container.encode(user_ids, forKey: .user_ids)
        try container.encode(detail, forKey: .detail)
    }
}

struct MessageJSON: Encodable {
    let message: Message

    init(_ message: Message) { self.message = message }

    enum CodingKeys: String, CodingKey {
        case id, room_id, seq, sender_id, kind, content, mime_type, client_msg_id, reply_to, attachments
        case created_at, edited_at, deleted, reactions, event
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(message.id, forKey: .id)
        try container.encode(message.roomID, forKey: .room_id)
        try container.encode(message.seq, forKey: .seq)
        try container.encode(message.senderID, forKey: .sender_id)
        try container.encode(message.kind.rawValue, forKey: .kind)
        try container.encode(message.content, forKey: .content)
        try container.encode(message.mimeType, forKey: .mime_type)
        try container.encode(message.clientMessageID, forKey: .client_msg_id)
        try container.encode(message.replyTo, forKey: .reply_to)
        try container.encode(message.attachments.map(AttachmentJSON.init), forKey: .attachments)
        try container.encode(message.createdAt, forKey: .created_at)
        try container.encode(message.editedAt, forKey: .edited_at)
        try container.encode(message.isDeleted, forKey: .deleted)
        try container.encode(
            message.reactions.map { ReactionJSON(emoji: $0.emoji, count: $0.count, me: $0.me) }, forKey: .reactions)
        if let event = message.event {
            try container.encode(
                SystemEventJSON(
                    type: event.type, actor_id: event.actorID, user_ids: event.userIDs, detail: event.detail),
                forKey: .event)
        }
    }
}

/// An attachment of a message: what to show, and a signed URL (a path on this server) to fetch it.
struct AttachmentJSON: Encodable {
    let public_id: String
    let resource_type: String
    let format: String
    let bytes: Int64
    let width: Int?
    let height: Int?
    let original_filename: String?
    let url: String

    init(_ attachment: MessageAttachment) {
        public_id = attachment.publicID
        resource_type = attachment.resourceType
        format = attachment.format
        bytes = attachment.bytes
        width = attachment.width
        height = attachment.height
        original_filename = attachment.originalFilename
        url = attachment.url
    }

    enum CodingKeys: String, CodingKey {
        case public_id, resource_type, format, bytes, width, height, original_filename, url
    }

    /// Every key is present, null when unknown (a raw file has no width).
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(public_id, forKey: .public_id)
        try container.encode(resource_type, forKey: .resource_type)
        try container.encode(format, forKey: .format)
        try container.encode(bytes, forKey: .bytes)
        try container.encode(width, forKey: .width)
        try container.encode(height, forKey: .height)
        try container.encode(original_filename, forKey: .original_filename)
        try container.encode(url, forKey: .url)
    }
}

struct RoomJSON: Encodable {
    let room: Room
    let lastMessage: Message?

    enum CodingKeys: String, CodingKey {
        case id, kind, name, topic, created_at, last_activity_at, member_count, role, last_seq, last_read_seq
        case unread_count, last_message, peer
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(room.id, forKey: .id)
        try container.encode(room.kind.rawValue, forKey: .kind)
        try container.encode(room.name, forKey: .name)
        try container.encode(room.topic, forKey: .topic)
        try container.encode(room.createdAt, forKey: .created_at)
        try container.encode(room.lastActivityAt, forKey: .last_activity_at)
        try container.encode(room.memberCount, forKey: .member_count)
        try container.encode(room.role.rawValue, forKey: .role)
        try container.encode(room.lastSeq, forKey: .last_seq)
        try container.encode(room.lastReadSeq, forKey: .last_read_seq)
        try container.encode(room.unreadCount, forKey: .unread_count)
        try container.encode(lastMessage.map(MessageJSON.init), forKey: .last_message)
        try container.encode(room.peer.map(ProfileJSON.init), forKey: .peer)
    }
}

struct RoomsJSON: Encodable {
    let rooms: [RoomJSON]
}

struct MemberJSON: Encodable {
    let user: ProfileJSON
    let role: String
    let joined_at: Int64
    let last_read_seq: Int64

    init(_ member: RoomMember) {
        user = ProfileJSON(member.user)
        role = member.role.rawValue
        joined_at = member.joinedAt
        last_read_seq = member.lastReadSeq
    }
}

struct MembersJSON: Encodable {
    let members: [MemberJSON]
}

struct HistoryJSON: Encodable {
    let messages: [MessageJSON]
    let has_more: Bool
}

struct FriendRequestJSON: Encodable {
    let id: Int64
    let from: ProfileJSON
    let to: ProfileJSON
    let created_at: Int64

    init(_ request: FriendRequest) {
        id = request.id
        from = ProfileJSON(request.from)
        to = ProfileJSON(request.to)
        created_at = request.createdAt
    }
}

struct FriendRequestsJSON: Encodable {
    let requests: [FriendRequestJSON]
}

struct FriendJSON: Encodable {
    let user: ProfileJSON
    let since: Int64

    init(_ friend: Friend) {
        user = ProfileJSON(friend.user)
        since = friend.since
    }
}

struct AcceptedFriendJSON: Encodable {
    let friend: FriendJSON
}

struct FriendsJSON: Encodable {
    let friends: [FriendJSON]
}

struct BlockJSON: Encodable {
    let user: ProfileJSON
    let created_at: Int64
}

struct BlocksJSON: Encodable {
    let blocks: [BlockJSON]
}

struct ReadJSON: Encodable {
    let room_id: Int64
    let last_read_seq: Int64
    let unread_count: Int64
}

struct ReceiptJSON: Encodable {
    let user_id: Int64
    let last_read_seq: Int64
}

struct ReceiptsJSON: Encodable {
    let receipts: [ReceiptJSON]
}

struct UnreadRoomJSON: Encodable {
    let room_id: Int64
    let unread_count: Int64
    let last_read_seq: Int64
    let last_seq: Int64
}

struct UnreadJSON: Encodable {
    let rooms: [UnreadRoomJSON]
    let total: Int64
}

struct SearchResultJSON: Encodable {
    let message: MessageJSON
    let snippet: String
}

struct SearchJSON: Encodable {
    let results: [SearchResultJSON]
    let next_cursor: String?

    enum CodingKeys: String, CodingKey { case results, next_cursor }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(results, forKey: .results)
        try container.encode(next_cursor, forKey: .next_cursor)
    }
}
