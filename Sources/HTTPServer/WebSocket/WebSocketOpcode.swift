/// Frame opcodes (RFC 6455 §5.2, §11.8). Every other value is reserved and fails the connection.
public enum WebSocketOpcode: UInt8, Sendable, Hashable {
    case continuation = 0x0
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA

    /// Control frames (§5.5) have the high bit of the opcode set: never fragmented, payload at most 125 bytes.
    public var isControl: Bool { rawValue & 0x8 != 0 }
}

/// Close status codes (RFC 6455 §7.4, IANA "WebSocket Close Code Number Registry").
public enum WebSocketCloseCode {
    public static let normalClosure: UInt16 = 1000
    public static let goingAway: UInt16 = 1001
    public static let protocolError: UInt16 = 1002
    public static let unsupportedData: UInt16 = 1003
    public static let invalidPayload: UInt16 = 1007
    public static let policyViolation: UInt16 = 1008
    public static let messageTooBig: UInt16 = 1009
    public static let internalError: UInt16 = 1011
    public static let tryAgainLater: UInt16 = 1013

    /// Whether a peer may put `code` in a Close frame (§7.4.1, §7.4.2). 1004 is reserved; 1005, 1006 and 1015 are
    /// only ever reported locally and MUST NOT be sent; 1012–1014 are registered (restart, try again later, bad
    /// gateway); 1016–2999 are reserved for future RFCs; 3000–4999 belong to libraries and applications.
    public static func isValidOnWire(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }
}
