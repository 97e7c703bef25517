import ChatCore

/// The data of the replies a connection gets to its own requests (docs/realtime-protocol.md). Each is
/// encoded for one connection, unlike events, which the hub encodes once for all.
typealias RequestID = RealtimeRequest.RequestID

struct ConnectedJSON: Encodable {
    let user_id: Int64
    let session_id: String
    let rooms: [Int64]
    let expires_at: Int64
}

struct AckJSON: Encodable {
    let ref: RequestID?
    let chat_room_id: Int64
    let client_msg_id: String?
    let message_id: Int64
    let seq: Int64
    let duplicate: Bool

    enum CodingKeys: String, CodingKey {
        case ref, chat_room_id, client_msg_id, message_id, seq, duplicate
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ref, forKey: .ref)
        try container.encode(chat_room_id, forKey: .chat_room_id)
        try container.encode(client_msg_id, forKey: .client_msg_id)
        try container.encode(message_id, forKey: .message_id)
        try container.encode(seq, forKey: .seq)
        try container.encode(duplicate, forKey: .duplicate)
    }
}

struct ErrorJSON: Encodable {
    let ref: RequestID?
    let code: String
    let message: String
    let fields: [String: String]?

    /// What a connection hears when its session ended, just before it is closed with 4001.
    static let sessionRevoked = ErrorJSON(
        ref: nil, code: "session_revoked", message: "This session was signed out; log in again.", fields: nil)

    enum CodingKeys: String, CodingKey {
        case ref, code, message, fields
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ref, forKey: .ref)
        try container.encode(code, forKey: .code)
        try container.encode(message, forKey: .message)
        try container.encodeIfPresent(fields, forKey: .fields)
    }
}

struct RefJSON: Encodable {
    let ref: RequestID?

    enum CodingKeys: String, CodingKey {
        case ref
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ref, forKey: .ref)
    }
}

struct RoomReplyJSON: Encodable {
    let ref: RequestID?
    let chat_room_id: Int64
    let last_seq: Int64?
}

struct UsersJSON: Encodable {
    let chat_room_id: Int64
    let users: [Int64]
}

struct AuthSuccessJSON: Encodable {
    let ref: RequestID?
    let expires_at: Int64
}

struct ResumedJSON: Encodable {
    let ref: RequestID?
    let chat_room_id: Int64
    let from_seq: Int64
    let to_seq: Int64
    let complete: Bool
}
