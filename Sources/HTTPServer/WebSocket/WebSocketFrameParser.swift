/// Incremental parser for client-to-server frames (RFC 6455 §5) that reassembles fragmented messages (§5.4).
///
/// Feed it whatever the socket delivered; each call consumes bytes up to the next event. The caller loops:
/// ```
/// var rest: UnsafeRawBufferPointer = received
/// while true {
///     let (consumed, event) = parser.parse(rest)
///     rest = UnsafeRawBufferPointer(rebasing: rest[consumed...])
///     if event == .needMoreData { break }  // everything was consumed
///     handle(event)
/// }
/// ```
/// Payload bytes are unmasked and copied straight into the message being built, so the caller may reuse its
/// read buffer after every call. Every rule is checked as soon as the bytes that break it arrive (a header
/// bit, a declared length, a UTF-8 byte), never at the end of a frame or message. After a `.protocolError` the
/// parser is failed: later calls consume all input and report `.needMoreData`, so nothing more is delivered.
public struct WebSocketFrameParser: Sendable {
    public enum Event: Sendable, Equatable {
        /// A complete text message, valid UTF-8 (§5.6).
        case text(String)
        /// A complete binary message.
        case binary([UInt8])
        case ping([UInt8])
        case pong([UInt8])
        /// A Close frame (§5.5.1): no code when its payload was empty; a present code is valid on the wire.
        case close(code: UInt16?, reason: String)
        /// All input was consumed without completing an event.
        case needMoreData
        /// The peer broke the protocol: _Fail the WebSocket Connection_ (§7.1.7) with this close code.
        case protocolError(closeCode: UInt16, reason: String)
    }

    /// The largest message accepted, summed over its fragments; a larger one fails with 1009 (§7.4.1).
    public let maxMessageBytes: Int

    private enum State {
        case frameStart
        case lengthByte
        case extendedLength
        case maskingKey
        case payload
        case failed
    }

    private var state = State.frameStart

    // The frame being read.
    private var fin = false
    private var opcode = WebSocketOpcode.continuation
    private var extendedLengthBytes = 0
    private var lengthBytesLeft = 0
    private var declaredLength: UInt64 = 0
    /// Key byte `i` (wire order) sits in bits `8*i ..< 8*i+8`.
    private var maskingKey: UInt32 = 0
    private var maskingKeyBytes = 0
    private var payloadLeft = 0
    /// Position in the masking key of the next payload byte (§5.3: `j = i MOD 4` across the whole payload).
    private var maskOffset = 0

    // The data message being reassembled; `messageOpcode` is nil between messages.
    private var messageOpcode: WebSocketOpcode?
    private var message: [UInt8] = []
    private var utf8 = UTF8Validator()
    /// The payload of the control frame being read, kept apart because control frames may arrive between the
    /// fragments of a message (§5.4).
    private var control: [UInt8] = []

    /// Upfront reservation cap: a header may declare a large length and then trickle bytes; memory should
    /// follow the bytes that really arrived, not the promise.
    private static let maxReservation = 64 * 1024

    public init(maxMessageBytes: Int) {
        self.maxMessageBytes = max(0, maxMessageBytes)
    }

    /// True after a protocol error; the connection is to be failed and further input is ignored.
    public var isFailed: Bool {
        if case .failed = state { return true }
        return false
    }

    /// Consumes bytes up to and including the next event; `.needMoreData` means all of `bytes` was consumed.
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) -> (consumed: Int, event: Event) {
        let count = bytes.count
        var index = 0
        while true {
            switch state {
            case .failed:
                return (count, .needMoreData)

            case .frameStart:
                guard index < count else { return (index, .needMoreData) }
                let byte = bytes[index]
                index += 1
                if let error = readFirstByte(byte) { return (index, fail(error)) }

            case .lengthByte:
                guard index < count else { return (index, .needMoreData) }
                let byte = bytes[index]
                index += 1
                if let error = readLengthByte(byte) { return (index, fail(error)) }

            case .extendedLength:
                guard index < count else { return (index, .needMoreData) }
                declaredLength = declaredLength << 8 | UInt64(bytes[index])
                index += 1
                lengthBytesLeft -= 1
                if lengthBytesLeft == 0, let error = acceptLength() { return (index, fail(error)) }

            case .maskingKey:
                guard index < count else { return (index, .needMoreData) }
                maskingKey |= UInt32(bytes[index]) << UInt32(8 * maskingKeyBytes)
                index += 1
                maskingKeyBytes += 1
                if maskingKeyBytes == 4 {
                    state = .payload
                    // An empty payload completes the frame without another byte.
                    if payloadLeft == 0, let event = finishFrame() { return (index, event) }
                }

            case .payload:
                guard index < count else { return (index, .needMoreData) }
                let chunkLength = min(payloadLeft, count - index)
                let chunk = UnsafeRawBufferPointer(rebasing: bytes[index..<(index + chunkLength)])
                index += chunkLength
                if let error = readPayload(chunk) { return (index, fail(error)) }
                if payloadLeft == 0, let event = finishFrame() { return (index, event) }
            }
        }
    }

    private struct Failure: Error {
        var closeCode: UInt16
        var reason: String

        static func protocolError(_ reason: String) -> Failure {
            Failure(closeCode: WebSocketCloseCode.protocolError, reason: reason)
        }
    }

    private mutating func fail(_ failure: Failure) -> Event {
        state = .failed
        message = []
        control = []
        messageOpcode = nil
        return .protocolError(closeCode: failure.closeCode, reason: failure.reason)
    }

    /// FIN, RSV1-3 and the opcode (§5.2), with the fragmentation rules that depend on them alone (§5.4).
    private mutating func readFirstByte(_ byte: UInt8) -> Failure? {
        // No extension is ever negotiated, so every RSV bit must be clear.
        guard byte & 0x70 == 0 else { return .protocolError("A reserved bit is set but no extension was agreed.") }
        guard let opcode = WebSocketOpcode(rawValue: byte & 0x0F) else {
            return .protocolError("Opcode \(byte & 0x0F) is reserved.")
        }
        let fin = byte & 0x80 != 0
        if opcode.isControl {
            guard fin else { return .protocolError("Control frames must not be fragmented.") }
        } else if opcode == .continuation {
            guard messageOpcode != nil else {
                return .protocolError("A continuation frame has no message to continue.")
            }
        } else {
            guard messageOpcode == nil else {
                return .protocolError("A new message started before the fragmented one ended.")
            }
        }
        self.fin = fin
        self.opcode = opcode
        state = .lengthByte
        return nil
    }

    /// MASK and the 7-bit payload length (§5.2).
    private mutating func readLengthByte(_ byte: UInt8) -> Failure? {
        // §5.1: a server MUST fail the connection on an unmasked client frame.
        guard byte & 0x80 != 0 else { return .protocolError("Client frames must be masked.") }
        let length = byte & 0x7F
        // Checked here so a control frame claiming an extended length fails before its length bytes arrive.
        if opcode.isControl && length > 125 {
            return .protocolError("Control frame payloads are limited to 125 bytes.")
        }
        switch length {
        case 126, 127:
            extendedLengthBytes = length == 126 ? 2 : 8
            lengthBytesLeft = extendedLengthBytes
            declaredLength = 0
            state = .extendedLength
            return nil
        default:
            extendedLengthBytes = 0
            declaredLength = UInt64(length)
            return acceptLength()
        }
    }

    /// Checks the complete payload length, then starts the frame (and a message, for a first fragment).
    private mutating func acceptLength() -> Failure? {
        switch extendedLengthBytes {
        case 2:
            // §5.2: "the minimal number of bytes MUST be used to encode the length".
            guard declaredLength >= 126 else { return .protocolError("The payload length is not minimally encoded.") }
        case 8:
            guard declaredLength >> 63 == 0 else {
                return .protocolError("The most significant bit of a 64-bit length must be 0.")
            }
            guard declaredLength > 0xFFFF else { return .protocolError("The payload length is not minimally encoded.") }
        default:
            break
        }
        if !opcode.isControl {
            let already = messageOpcode == nil ? 0 : message.count
            // Fails on the declared length, before any of the payload is buffered.
            guard declaredLength <= UInt64(maxMessageBytes - already) else {
                return Failure(
                    closeCode: WebSocketCloseCode.messageTooBig,
                    reason: "Messages are limited to \(maxMessageBytes) bytes.")
            }
            if opcode != .continuation {
                messageOpcode = opcode
                message = []
                message.reserveCapacity(min(Int(declaredLength), Self.maxReservation))
                utf8.reset()
            }
        } else {
            control.removeAll(keepingCapacity: true)
        }
        payloadLeft = Int(declaredLength)
        maskingKey = 0
        maskingKeyBytes = 0
        maskOffset = 0
        state = .maskingKey
        return nil
    }

    /// Unmasks a piece of payload into the message or control buffer; text is validated as it arrives.
    private mutating func readPayload(_ chunk: UnsafeRawBufferPointer) -> Failure? {
        let key = maskingKey
        let offset = maskOffset
        payloadLeft -= chunk.count
        maskOffset = (maskOffset + chunk.count) & 3
        if opcode.isControl {
            let start = control.count
            control.append(contentsOf: chunk)
            control.withUnsafeMutableBytes {
                Self.unmask(UnsafeMutableRawBufferPointer(rebasing: $0[start...]), key: key, offset: offset)
            }
            return nil
        }
        let start = message.count
        message.append(contentsOf: chunk)
        var valid = true
        let isText = messageOpcode == .text
        var validator = utf8
        message.withUnsafeMutableBytes {
            let appended = UnsafeMutableRawBufferPointer(rebasing: $0[start...])
            Self.unmask(appended, key: key, offset: offset)
            if isText { valid = validator.validate(UnsafeRawBufferPointer(appended)) }
        }
        utf8 = validator
        return valid
            ? nil : Failure(closeCode: WebSocketCloseCode.invalidPayload, reason: "The text is not valid UTF-8.")
    }

    /// Completes the frame just read: an event for a control frame or a message's last fragment, nil otherwise.
    private mutating func finishFrame() -> Event? {
        state = .frameStart
        switch opcode {
        case .ping:
            return .ping(control)
        case .pong:
            return .pong(control)
        case .close:
            return closeEvent()
        case .continuation, .text, .binary:
            guard fin else { return nil }
            let kind = messageOpcode
            let bytes = message
            message = []
            messageOpcode = nil
            if kind == .text {
                guard utf8.isComplete else {
                    return fail(
                        Failure(
                            closeCode: WebSocketCloseCode.invalidPayload,
                            reason: "The text ends inside a UTF-8 sequence."))
                }
                return .text(String(decoding: bytes, as: UTF8.self))
            }
            return .binary(bytes)
        }
    }

    /// §5.5.1: an empty body, or a 2-byte code that may be sent (§7.4) followed by a UTF-8 reason.
    private mutating func closeEvent() -> Event {
        if control.isEmpty { return .close(code: nil, reason: "") }
        guard control.count >= 2 else { return fail(.protocolError("A close payload of one byte has no code.")) }
        let code = UInt16(control[0]) << 8 | UInt16(control[1])
        guard WebSocketCloseCode.isValidOnWire(code) else {
            return fail(.protocolError("Close code \(code) may not be sent."))
        }
        var validator = UTF8Validator()
        let reason = control[2...]
        guard reason.withUnsafeBytes({ validator.validate($0) }), validator.isComplete else {
            return fail(.protocolError("The close reason is not valid UTF-8."))
        }
        return .close(code: code, reason: String(decoding: reason, as: UTF8.self))
    }

    /// XORs `buffer` with the masking key (§5.3), starting at key byte `offset`; eight bytes at a time where it can.
    static func unmask(_ buffer: UnsafeMutableRawBufferPointer, key: UInt32, offset: Int) {
        let count = buffer.count
        guard count > 0 else { return }
        @inline(__always) func keyByte(_ position: Int) -> UInt8 {
            UInt8(truncatingIfNeeded: key >> UInt32(8 * (position & 3)))
        }
        // The key repeats every 4 bytes, so one 8-byte pattern laid out in memory order fits every 8-byte step.
        var pattern: UInt64 = 0
        withUnsafeMutableBytes(of: &pattern) { bytes in
            for j in 0..<8 { bytes[j] = keyByte(offset + j) }
        }
        var index = 0
        while index + 8 <= count {
            let word = buffer.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ pattern
            buffer.storeBytes(of: word, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < count {
            buffer[index] ^= keyByte(offset + index)
            index += 1
        }
    }
}
