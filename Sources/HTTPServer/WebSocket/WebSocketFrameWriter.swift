/// Encodes server-to-client frames (RFC 6455 §5.2): unmasked (§5.1: a server MUST NOT mask), never fragmented,
/// with the minimal length encoding. Each call returns one complete frame; to broadcast, encode once and hand
/// the same array to every connection (arrays are copy-on-write, so that shares one buffer).
public enum WebSocketFrameWriter {
    /// A text message frame; `String` is always valid UTF-8, as §5.6 requires.
    public static func text(_ text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { frame(opcode: .text, payload: UnsafeRawBufferPointer($0)) }
    }

    public static func binary(_ payload: [UInt8]) -> [UInt8] {
        payload.withUnsafeBytes { frame(opcode: .binary, payload: $0) }
    }

    /// A Ping (§5.5.2). Control payloads are at most 125 bytes; a longer one is a bug in the caller.
    public static func ping(_ payload: [UInt8] = []) -> [UInt8] {
        precondition(payload.count <= 125, "control frame payloads are limited to 125 bytes")
        return payload.withUnsafeBytes { frame(opcode: .ping, payload: $0) }
    }

    /// A Pong (§5.5.3), normally echoing a Ping's payload, which the parser already limited to 125 bytes.
    public static func pong(_ payload: [UInt8]) -> [UInt8] {
        precondition(payload.count <= 125, "control frame payloads are limited to 125 bytes")
        return payload.withUnsafeBytes { frame(opcode: .pong, payload: $0) }
    }

    /// A Close frame (§5.5.1): empty when `code` is nil, else the code and a reason cut to the 123 bytes left in
    /// a control frame, at a character boundary so it stays valid UTF-8.
    public static func close(code: UInt16?, reason: String = "") -> [UInt8] {
        guard let code else { return frame(opcode: .close, payload: UnsafeRawBufferPointer(start: nil, count: 0)) }
        var payload: [UInt8] = [UInt8(truncatingIfNeeded: code >> 8), UInt8(truncatingIfNeeded: code)]
        var room = 123
        for scalar in reason.unicodeScalars {
            let size = UTF8.width(scalar)
            guard size <= room else { break }
            UTF8.encode(scalar) { payload.append($0) }
            room -= size
        }
        return payload.withUnsafeBytes { frame(opcode: .close, payload: $0) }
    }

    /// One final (FIN) frame with `opcode` and `payload`.
    public static func frame(opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerSize(payloadLength: payload.count) + payload.count)
        appendHeader(opcode: opcode, fin: true, payloadLength: payload.count, to: &bytes)
        bytes.append(contentsOf: payload)
        return bytes
    }

    /// The header's size for a payload: 2 bytes, plus 2 or 8 for the extended length.
    public static func headerSize(payloadLength: Int) -> Int {
        switch payloadLength {
        case ...125: 2
        case ...0xFFFF: 4
        default: 10
        }
    }

    /// Appends a header for an unmasked frame, with the shortest length form (§5.2 requires the minimal one).
    public static func appendHeader(opcode: WebSocketOpcode, fin: Bool, payloadLength: Int, to bytes: inout [UInt8]) {
        bytes.append((fin ? 0x80 : 0) | opcode.rawValue)
        switch payloadLength {
        case ...125:
            bytes.append(UInt8(truncatingIfNeeded: max(0, payloadLength)))
        case ...0xFFFF:
            bytes.append(126)
            bytes.append(UInt8(truncatingIfNeeded: payloadLength >> 8))
            bytes.append(UInt8(truncatingIfNeeded: payloadLength))
        default:
            bytes.append(127)
            for shift in stride(from: 56, through: 0, by: -8) {
                bytes.append(UInt8(truncatingIfNeeded: UInt64(payloadLength) >> UInt64(shift)))
            }
        }
    }
}
