/// Streaming UTF-8 validation (RFC 3629) for text messages that arrive in pieces (RFC 6455 §5.6, §8.1).
///
/// Bjoern Hoehrmann's DFA: each byte maps to a character class, and (state, class) to the next state. It rejects
/// at the first byte that no valid sequence could continue with (overlongs, surrogates, code points past
/// U+10FFFF), so a bad text message fails in the fragment that carries the bad byte instead of at its end.
public struct UTF8Validator: Sendable {
    private static let accept: UInt8 = 0
    private static let reject: UInt8 = 12

    /// 256 byte classes, then the transitions `table[256 + state + class]` (states are multiples of 12).
    private static let table: [UInt8] = [
        // 00..7F: ASCII
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        // 80..8F, 90..9F, A0..BF: continuation bytes, split where E0, ED, F0 and F4 narrow the next byte
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
        7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        // C0, C1 (always overlong), C2..DF: two-byte leads
        8, 8, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
        // E0, E1..EC, ED (surrogates next), EE..EF; F0, F1..F3, F4, F5..FF (past U+10FFFF)
        10, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 3, 3, 11, 6, 6, 6, 5, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
        // Transitions. 0 accept, 12 reject, 24/36 one/two continuations left, 48 after E0, 60 after ED,
        // 72 after F0, 84 after F1..F3, 96 after F4.
        0, 12, 24, 36, 60, 96, 84, 12, 12, 12, 48, 72, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
        12, 0, 12, 12, 12, 12, 12, 0, 12, 0, 12, 12, 12, 24, 12, 12, 12, 12, 12, 24, 12, 24, 12, 12,
        12, 12, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12, 12, 12, 12, 24, 12, 12,
        12, 12, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12, 12, 36, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12,
        12, 36, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    ]

    private var state: UInt8 = UTF8Validator.accept

    public init() {}

    /// True when everything fed so far is valid UTF-8 that ends on a character boundary.
    public var isComplete: Bool { state == Self.accept }

    /// False once any byte fed so far made the input invalid; stays false until `reset()`.
    public var isValid: Bool { state != Self.reject }

    /// Feeds the next bytes. Returns false as soon as the input can no longer be valid UTF-8, whatever follows.
    @discardableResult
    public mutating func validate(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var state = self.state
        guard state != Self.reject else { return false }
        let count = bytes.count
        var index = 0
        Self.table.withUnsafeBufferPointer { table in
            while index < count {
                // ASCII fast path: eight bytes at a time while between characters.
                if state == Self.accept {
                    while index + 8 <= count,
                        bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
                    {
                        index += 8
                    }
                    if index == count { break }
                }
                let byteClass = table[Int(bytes[index])]
                state = table[256 + Int(state) + Int(byteClass)]
                if state == Self.reject { break }
                index += 1
            }
        }
        self.state = state
        return state != Self.reject
    }

    /// Feeds the next bytes; see `validate(_:)` for a raw buffer.
    @discardableResult
    public mutating func validate(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { validate($0) }
    }

    /// Starts over for a new message.
    public mutating func reset() { state = Self.accept }
}
