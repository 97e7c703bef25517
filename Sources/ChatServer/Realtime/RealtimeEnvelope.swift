import ChatCore
import Foundation
import HTTPServer

/// A server → client message (docs/realtime-protocol.md): `{"type", "sender_id", "timestamp", "data"}`,
/// encoded straight into a WebSocket text frame.
struct RealtimeEnvelope<Data: Encodable>: Encodable {
    let type: String
    /// The user whose action caused it; null for the server's own replies.
    let senderID: Int64?
    /// Unix milliseconds.
    let timestamp: Int64
    let data: Data

    enum CodingKeys: String, CodingKey {
        case type, sender_id, timestamp, data
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(senderID, forKey: .sender_id)
        try container.encode(timestamp, forKey: .timestamp)
        try container.encode(data, forKey: .data)
    }

    /// The text frame carrying this envelope.
    var frame: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        // Every payload is built from our own value types, which always encode.
        guard let json = try? encoder.encode(self) else {
            return WebSocketFrameWriter.text(#"{"type":"ERROR","data":{"code":"internal","message":"encoding"}}"#)
        }
        return json.withUnsafeBytes { WebSocketFrameWriter.frame(opcode: .text, payload: $0) }
    }

    static func frame(
        _ type: String, senderID: Int64? = nil, data: Data, now: Int64 = AccountService.systemClock()
    ) -> [UInt8] {
        RealtimeEnvelope(type: type, senderID: senderID, timestamp: now, data: data).frame
    }
}

/// A message in a realtime event: the REST shape plus `chat_room_id`.
struct RealtimeMessageJSON: Encodable {
    let message: Message

    enum CodingKeys: String, CodingKey {
        case chat_room_id
    }

    func encode(to encoder: any Encoder) throws {
        try MessageJSON(message).encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(message.roomID, forKey: .chat_room_id)
    }
}
