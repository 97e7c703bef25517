import ChatCore

/// Encodes each ``RealtimeEvent`` into the envelope every recipient gets (docs/realtime-protocol.md), once
/// per event: the hub hands the same frame bytes to all recipients.
struct RealtimeFrameEncoder: RealtimeEncoder {
    func frame(for event: RealtimeEvent) -> [UInt8] {
        let sender = event.actorID
        switch event {
        case .messageCreated(let message, _):
            return RealtimeEnvelope.frame("NEW_MESSAGE", senderID: sender, data: RealtimeMessageJSON(message: message))
        case .messageUpdated(let message):
            return RealtimeEnvelope.frame(
                "MESSAGE_UPDATED", senderID: sender, data: RealtimeMessageJSON(message: message))
        case .messageDeleted(let roomID, let messageID, let seq, _):
            return RealtimeEnvelope.frame(
                "MESSAGE_DELETED", senderID: sender,
                data: MessageDeletedJSON(chat_room_id: roomID, message_id: messageID, seq: seq))
        case .reactionChanged(let change):
            return RealtimeEnvelope.frame(
                "REACTION", senderID: sender,
                data: ReactionEventJSON(
                    chat_room_id: change.roomID, message_id: change.messageID, user_id: change.userID,
                    emoji: change.emoji, added: change.added,
                    reactions: change.reactions.map { ReactionCountJSON(emoji: $0.emoji, count: $0.count) }))
        case .readPosition(let roomID, let userID, let seq):
            return RealtimeEnvelope.frame(
                "READ_RECEIPT", senderID: sender,
                data: ReadReceiptEventJSON(chat_room_id: roomID, user_id: userID, seq: seq))
        case .typing(let roomID, let userID, let isTyping):
            return RealtimeEnvelope.frame(
                "TYPING", senderID: sender,
                data: TypingEventJSON(chat_room_id: roomID, user_id: userID, is_typing: isTyping))
        case .viewer(let roomID, let userID, let joined):
            return RealtimeEnvelope.frame(
                joined ? "USER_JOINED" : "USER_LEFT", senderID: sender,
                data: ViewerEventJSON(chat_room_id: roomID, user_id: userID))
        case .presence(let change):
            return RealtimeEnvelope.frame(
                "PRESENCE", senderID: sender,
                data: PresenceJSON(
                    user_id: change.userID, status: change.online ? "online" : "offline",
                    last_seen_at: change.lastSeenAt))
        case .membersAdded(let roomID, let kind, _, _):
            return RealtimeEnvelope.frame(
                "ROOM_ADDED", senderID: sender, data: RoomAddedJSON(chat_room_id: roomID, kind: kind.rawValue))
        case .membersRemoved(let roomID, _, let reason, _):
            return RealtimeEnvelope.frame(
                "ROOM_REMOVED", senderID: sender, data: RoomRemovedJSON(chat_room_id: roomID, reason: reason))
        case .friendRequest(let notice):
            return RealtimeEnvelope.frame("FRIEND_REQUEST", senderID: sender, data: FriendNoticeJSON(notice))
        case .friendRequestAccepted(let notice):
            return RealtimeEnvelope.frame("FRIEND_REQUEST_ACCEPTED", senderID: sender, data: FriendNoticeJSON(notice))
        case .friendRequestCancelled(let notice):
            return RealtimeEnvelope.frame("FRIEND_REQUEST_CANCELLED", senderID: sender, data: FriendNoticeJSON(notice))
        case .friendRemoved(let userID, _):
            return RealtimeEnvelope.frame("FRIEND_REMOVED", senderID: sender, data: FriendRemovedJSON(user_id: userID))
        case .accessEnded:
            return RealtimeEnvelope.frame("ERROR", senderID: nil, data: ErrorJSON.sessionRevoked)
        }
    }
}

struct MessageDeletedJSON: Encodable {
    let chat_room_id: Int64
    let message_id: Int64
    let seq: Int64
}

struct ReactionCountJSON: Encodable {
    let emoji: String
    let count: Int
}

struct ReactionEventJSON: Encodable {
    let chat_room_id: Int64
    let message_id: Int64
    let user_id: Int64
    let emoji: String
    let added: Bool
    let reactions: [ReactionCountJSON]
}

struct ReadReceiptEventJSON: Encodable {
    let chat_room_id: Int64
    let user_id: Int64
    let seq: Int64
}

struct TypingEventJSON: Encodable {
    let chat_room_id: Int64
    let user_id: Int64
    let is_typing: Bool
}

struct ViewerEventJSON: Encodable {
    let chat_room_id: Int64
    let user_id: Int64
}

/// `PRESENCE` data, and the body of `GET /api/v1/users/:id/presence`.
struct PresenceJSON: Encodable {
    let user_id: Int64
    let status: String
    let last_seen_at: Int64?

    enum CodingKeys: String, CodingKey {
        case user_id, status, last_seen_at
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(user_id, forKey: .user_id)
        try container.encode(status, forKey: .status)
        try container.encode(last_seen_at, forKey: .last_seen_at)
    }
}

struct RoomAddedJSON: Encodable {
    let chat_room_id: Int64
    let kind: String
}

struct RoomRemovedJSON: Encodable {
    let chat_room_id: Int64
    let reason: String
}

struct FriendNoticeJSON: Encodable {
    let request_id: Int64?
    let user_id: Int64

    init(_ notice: FriendNotice) {
        request_id = notice.requestID
        user_id = notice.actorID
    }
}

struct FriendRemovedJSON: Encodable {
    let user_id: Int64
}
