import Testing

@testable import HTTPServer

/// Builds client frames and drives the parser the way a connection does.
enum WebSocketWire {
    static let rfcMask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]

    enum LengthForm {
        case minimal
        case sixteenBit
        case sixtyFourBit
    }

    /// A client frame: masked unless `mask` is nil, FIN per `fin`, extra first-byte bits in `rsv`.
    static func frame(
        _ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, mask: [UInt8]? = rfcMask, rsv: UInt8 = 0,
        length: LengthForm = .minimal
    ) -> [UInt8] {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | rsv | opcode]
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        let count = payload.count
        switch length {
        case .minimal where count <= 125:
            bytes.append(maskBit | UInt8(count))
        case .minimal where count <= 0xFFFF, .sixteenBit:
            bytes += [maskBit | 126, UInt8(count >> 8), UInt8(count & 0xFF)]
        default:
            bytes.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) {
                bytes.append(UInt8((UInt64(count) >> UInt64(shift)) & 0xFF))
            }
        }
        if let mask {
            bytes += mask
            bytes += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        } else {
            bytes += payload
        }
        return bytes
    }

    static func text(_ text: String, fin: Bool = true) -> [UInt8] { frame(0x1, Array(text.utf8), fin: fin) }

    /// Feeds `chunks` in order and collects every event but `.needMoreData`, checking the consumed counts.
    static func events(
        _ chunks: [[UInt8]], maxMessageBytes: Int = 1 << 20, sourceLocation: SourceLocation = #_sourceLocation
    ) -> [WebSocketFrameParser.Event] {
        var parser = WebSocketFrameParser(maxMessageBytes: maxMessageBytes)
        var events: [WebSocketFrameParser.Event] = []
        for chunk in chunks {
            chunk.withUnsafeBytes { buffer in
                var rest = buffer
                while true {
                    let (consumed, event) = parser.parse(rest)
                    #expect(consumed >= 0 && consumed <= rest.count, sourceLocation: sourceLocation)
                    rest = UnsafeRawBufferPointer(rebasing: rest[consumed...])
                    if event == .needMoreData {
                        #expect(rest.isEmpty, "needMoreData left input unconsumed", sourceLocation: sourceLocation)
                        break
                    }
                    events.append(event)
                }
            }
        }
        return events
    }

    static func events(_ bytes: [UInt8], maxMessageBytes: Int = 1 << 20) -> [WebSocketFrameParser.Event] {
        events([bytes], maxMessageBytes: maxMessageBytes)
    }

    /// The single event a whole input produces, and how many bytes the parser took to produce it.
    static func firstEvent(_ bytes: [UInt8], maxMessageBytes: Int = 1 << 20) -> (
        consumed: Int, event: WebSocketFrameParser.Event
    ) {
        var parser = WebSocketFrameParser(maxMessageBytes: maxMessageBytes)
        return bytes.withUnsafeBytes { parser.parse($0) }
    }

    static func protocolErrorCode(_ events: [WebSocketFrameParser.Event]) -> UInt16? {
        guard case .protocolError(let code, _)? = events.last else { return nil }
        return code
    }
}

@Suite("WebSocket frame parser")
struct WebSocketFrameParserTests {
    // MARK: RFC 6455 §5.7 examples

    @Test func rfcMaskedHello() {
        let bytes: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        let (consumed, event) = WebSocketWire.firstEvent(bytes)
        #expect(consumed == bytes.count)
        #expect(event == .text("Hello"))
        #expect(WebSocketWire.text("Hello") == bytes)
    }

    @Test func rfcUnmaskedHelloFromAClientIsAProtocolError() {
        let (consumed, event) = WebSocketWire.firstEvent([0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        #expect(consumed == 2, "fails on the length byte, before the payload")
        #expect(event == .protocolError(closeCode: 1002, reason: "Client frames must be masked."))
    }

    @Test func rfcFragmentedHello() {
        let stream = WebSocketWire.text("Hel", fin: false) + WebSocketWire.frame(0x0, Array("lo".utf8))
        #expect(WebSocketWire.events(stream) == [.text("Hello")])
    }

    @Test func rfcPingAndPong() {
        let hello = Array("Hello".utf8)
        let ping = WebSocketWire.frame(0x9, hello)
        #expect(Array(ping.prefix(2)) == [0x89, 0x85])
        #expect(WebSocketWire.events(ping + WebSocketWire.frame(0xA, hello)) == [.ping(hello), .pong(hello)])
    }

    @Test func rfc256ByteBinaryUsesTheSixteenBitLength() {
        let payload = (0..<256).map { UInt8($0) }
        let frame = WebSocketWire.frame(0x2, payload)
        #expect(Array(frame.prefix(4)) == [0x82, 0xFE, 0x01, 0x00])
        #expect(WebSocketWire.events(frame) == [.binary(payload)])
    }

    @Test func rfc64KiBBinaryUsesTheSixtyFourBitLength() {
        let payload = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let frame = WebSocketWire.frame(0x2, payload)
        #expect(Array(frame.prefix(10)) == [0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0])
        #expect(WebSocketWire.events(frame) == [.binary(payload)])
        // Byte by byte exercises the unmasking at every key offset.
        #expect(WebSocketWire.events(frame.map { [$0] }) == [.binary(payload)])
    }

    @Test func lengthBoundariesRoundTrip() {
        for count in [0, 1, 125, 126, 127, 65535, 65536, 70000] {
            let payload = [UInt8](repeating: 0x5A, count: count)
            #expect(WebSocketWire.events(WebSocketWire.frame(0x2, payload)) == [.binary(payload)], "length \(count)")
        }
    }

    // MARK: Splitting

    /// A conversation with fragments, an interleaved control frame, each length form and a close.
    static let conversation: [UInt8] =
        WebSocketWire.text("Hello")
        + WebSocketWire.frame(0x1, Array("κόσ".utf8), fin: false, mask: [1, 2, 3, 4])
        + WebSocketWire.frame(0x9, [7, 8, 9], mask: [9, 9, 9, 9])
        + WebSocketWire.frame(0x0, [], fin: false)
        + WebSocketWire.frame(0x0, Array("με".utf8), mask: [0xFF, 0, 0xFF, 0])
        + WebSocketWire.frame(0x2, (0..<300).map { UInt8(truncatingIfNeeded: $0) })
        + WebSocketWire.frame(0xA, [])
        + WebSocketWire.frame(0x1, [])
        + WebSocketWire.frame(0x8, [0x03, 0xE8] + Array("bye".utf8))

    static let conversationEvents: [WebSocketFrameParser.Event] = [
        .text("Hello"), .ping([7, 8, 9]), .text("κόσμε"), .binary((0..<300).map { UInt8(truncatingIfNeeded: $0) }),
        .pong([]), .text(""), .close(code: 1000, reason: "bye"),
    ]

    @Test func wholeConversation() {
        #expect(WebSocketWire.events(Self.conversation) == Self.conversationEvents)
    }

    @Test func everySplitPointGivesTheSameEvents() {
        let bytes = Self.conversation
        for split in 0...bytes.count {
            let events = WebSocketWire.events([Array(bytes[..<split]), Array(bytes[split...])])
            #expect(events == Self.conversationEvents, "split at \(split)")
        }
    }

    @Test func oneByteAtATimeGivesTheSameEvents() {
        #expect(WebSocketWire.events(Self.conversation.map { [$0] }) == Self.conversationEvents)
    }

    @Test func everyPairOfSplitPointsInASmallStream() {
        let bytes =
            WebSocketWire.text("Hel", fin: false) + WebSocketWire.frame(0x9, [1])
            + WebSocketWire.frame(0x0, Array("lo€".utf8))
        let expected: [WebSocketFrameParser.Event] = [.ping([1]), .text("Hello€")]
        for first in 0...bytes.count {
            for second in first...bytes.count {
                let chunks = [Array(bytes[..<first]), Array(bytes[first..<second]), Array(bytes[second...])]
                #expect(WebSocketWire.events(chunks) == expected, "splits at \(first), \(second)")
            }
        }
    }

    @Test func errorsSurviveEverySplit() {
        // Valid text, then a fragment whose second byte breaks UTF-8.
        let bytes = WebSocketWire.text("ok") + WebSocketWire.frame(0x1, [0x61, 0xC0, 0x80, 0x61], fin: false)
        for split in 0...bytes.count {
            let events = WebSocketWire.events([Array(bytes[..<split]), Array(bytes[split...])])
            #expect(events.count == 2 && events[0] == .text("ok"), "split at \(split)")
            #expect(WebSocketWire.protocolErrorCode(events) == 1007, "split at \(split)")
        }
    }

    // MARK: Header rules (§5.2)

    @Test(arguments: [UInt8(0x40), 0x20, 0x10, 0x70])
    func reservedBitsAreAProtocolError(rsv: UInt8) {
        let (consumed, event) = WebSocketWire.firstEvent(WebSocketWire.frame(0x1, Array("x".utf8), rsv: rsv))
        #expect(consumed == 1, "fails on the first byte")
        #expect(event == .protocolError(closeCode: 1002, reason: "A reserved bit is set but no extension was agreed."))
    }

    @Test(arguments: [UInt8(3), 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
    func reservedOpcodesAreAProtocolError(opcode: UInt8) {
        let (consumed, event) = WebSocketWire.firstEvent(WebSocketWire.frame(opcode, []))
        #expect(consumed == 1)
        #expect(event == .protocolError(closeCode: 1002, reason: "Opcode \(opcode) is reserved."))
    }

    @Test func unmaskedFramesAreAProtocolErrorForEveryOpcode() {
        for opcode: UInt8 in [0x1, 0x2, 0x8, 0x9, 0xA] {
            let events = WebSocketWire.events(WebSocketWire.frame(opcode, [], mask: nil))
            #expect(WebSocketWire.protocolErrorCode(events) == 1002, "opcode \(opcode)")
        }
    }

    @Test func sixtyFourBitLengthWithTheHighBitSetIsAProtocolError() {
        let bytes: [UInt8] = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1]
        let (consumed, event) = WebSocketWire.firstEvent(bytes)
        #expect(consumed == 10)
        #expect(
            event == .protocolError(closeCode: 1002, reason: "The most significant bit of a 64-bit length must be 0."))
    }

    @Test func nonMinimalLengthsAreAProtocolError() {
        // §5.2: "the minimal number of bytes MUST be used to encode the length".
        let sixteen = WebSocketWire.frame(0x2, [1, 2, 3], length: .sixteenBit)
        #expect(WebSocketWire.protocolErrorCode(WebSocketWire.events(sixteen)) == 1002)
        let sixtyFour = WebSocketWire.frame(0x2, [UInt8](repeating: 0, count: 65535), length: .sixtyFourBit)
        #expect(WebSocketWire.protocolErrorCode(WebSocketWire.events(sixtyFour)) == 1002)
        // The smallest lengths each form may carry are accepted.
        let smallest16 = [UInt8](repeating: 1, count: 126)
        #expect(
            WebSocketWire.events(WebSocketWire.frame(0x2, smallest16, length: .sixteenBit)) == [.binary(smallest16)])
        let smallest64 = [UInt8](repeating: 1, count: 65536)
        #expect(
            WebSocketWire.events(WebSocketWire.frame(0x2, smallest64, length: .sixtyFourBit)) == [.binary(smallest64)])
    }

    // MARK: Control frames (§5.5)

    @Test func fragmentedControlFramesAreAProtocolError() {
        for opcode: UInt8 in [0x8, 0x9, 0xA] {
            let (consumed, event) = WebSocketWire.firstEvent(WebSocketWire.frame(opcode, [], fin: false))
            #expect(consumed == 1, "opcode \(opcode)")
            #expect(event == .protocolError(closeCode: 1002, reason: "Control frames must not be fragmented."))
        }
    }

    @Test func controlPayloadsOver125BytesAreAProtocolError() {
        let ok = [UInt8](repeating: 0x2A, count: 125)
        #expect(WebSocketWire.events(WebSocketWire.frame(0x9, ok)) == [.ping(ok)])
        for opcode: UInt8 in [0x8, 0x9, 0xA] {
            let (consumed, event) = WebSocketWire.firstEvent(
                WebSocketWire.frame(opcode, [UInt8](repeating: 0, count: 126)))
            #expect(consumed == 2, "fails on the 7-bit length, before the extended length")
            #expect(
                event == .protocolError(closeCode: 1002, reason: "Control frame payloads are limited to 125 bytes."))
        }
    }

    @Test func controlFramesInterleaveWithFragments() {
        let stream =
            WebSocketWire.frame(0x2, [1, 2], fin: false) + WebSocketWire.frame(0x9, Array("a".utf8))
            + WebSocketWire.frame(0x0, [3], fin: false) + WebSocketWire.frame(0xA, [])
            + WebSocketWire.frame(0x0, [4])
        #expect(WebSocketWire.events(stream) == [.ping([0x61]), .pong([]), .binary([1, 2, 3, 4])])
    }

    // MARK: Fragmentation (§5.4)

    @Test func continuationWithoutAMessageIsAProtocolError() {
        for fin in [true, false] {
            let (consumed, event) = WebSocketWire.firstEvent(WebSocketWire.frame(0x0, [1], fin: fin))
            #expect(consumed == 1)
            #expect(
                event == .protocolError(closeCode: 1002, reason: "A continuation frame has no message to continue."))
        }
        // Also right after a message has ended.
        let afterEnd = WebSocketWire.text("done") + WebSocketWire.frame(0x0, [1])
        let events = WebSocketWire.events(afterEnd)
        #expect(events.first == .text("done"))
        #expect(WebSocketWire.protocolErrorCode(events) == 1002)
    }

    @Test func aNewDataFrameDuringAFragmentedMessageIsAProtocolError() {
        for opcode: UInt8 in [0x1, 0x2] {
            let stream = WebSocketWire.text("a", fin: false) + WebSocketWire.frame(opcode, [0x62])
            let events = WebSocketWire.events(stream)
            #expect(
                events == [
                    .protocolError(closeCode: 1002, reason: "A new message started before the fragmented one ended.")
                ])
        }
    }

    @Test func emptyFragmentsAndEmptyMessages() {
        let stream =
            WebSocketWire.text("", fin: false) + WebSocketWire.frame(0x0, [], fin: false) + WebSocketWire.frame(0x0, [])
            + WebSocketWire.frame(0x2, [])
        #expect(WebSocketWire.events(stream) == [.text(""), .binary([])])
    }

    // MARK: Message size (§7.4.1, 1009)

    @Test func messageAtTheLimitIsAccepted() {
        let payload = [UInt8](repeating: 7, count: 100)
        #expect(WebSocketWire.events(WebSocketWire.frame(0x2, payload), maxMessageBytes: 100) == [.binary(payload)])
    }

    @Test func declaredLengthOverTheLimitFailsBeforeThePayload() {
        let frame = WebSocketWire.frame(0x2, [UInt8](repeating: 7, count: 101))
        // Only the 2 header bytes are fed: the declared length alone decides.
        let (consumed, event) = WebSocketWire.firstEvent(Array(frame.prefix(2)), maxMessageBytes: 100)
        #expect(consumed == 2)
        #expect(event == .protocolError(closeCode: 1009, reason: "Messages are limited to 100 bytes."))
        // A huge 64-bit length fails the same way, without allocating.
        let huge: [UInt8] = [0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(WebSocketWire.protocolErrorCode(WebSocketWire.events(huge)) == 1009)
    }

    @Test func fragmentsAddUpTowardsTheLimit() {
        let first = WebSocketWire.frame(0x1, [UInt8](repeating: 0x61, count: 60), fin: false)
        let second = WebSocketWire.frame(0x0, [UInt8](repeating: 0x61, count: 41))
        let events = WebSocketWire.events([first, Array(second.prefix(2))], maxMessageBytes: 100)
        #expect(events == [.protocolError(closeCode: 1009, reason: "Messages are limited to 100 bytes.")])
        let fits = WebSocketWire.frame(0x0, [UInt8](repeating: 0x61, count: 40))
        #expect(WebSocketWire.events(first + fits, maxMessageBytes: 100) == [.text(String(repeating: "a", count: 100))])
    }

    @Test func controlFramesDoNotCountTowardsTheMessageLimit() {
        let stream =
            WebSocketWire.frame(0x2, [UInt8](repeating: 1, count: 10), fin: false)
            + WebSocketWire.frame(0x9, [UInt8](repeating: 2, count: 125)) + WebSocketWire.frame(0x0, [3])
        #expect(
            WebSocketWire.events(stream, maxMessageBytes: 11) == [
                .ping([UInt8](repeating: 2, count: 125)), .binary([UInt8](repeating: 1, count: 10) + [3]),
            ])
    }

    // MARK: UTF-8 (§5.6, §8.1, 1007)

    @Test func invalidUTF8InTheFirstFragmentFailsWithoutWaitingForTheRest() {
        // Autobahn 6.4.1: "κόσμε" then F4 90 80 80 (past U+10FFFF) in fragment 1 of 3.
        let bad: [UInt8] = [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xF4, 0x90, 0x80, 0x80]
        let events = WebSocketWire.events(WebSocketWire.frame(0x1, bad, fin: false))
        #expect(events == [.protocolError(closeCode: 1007, reason: "The text is not valid UTF-8.")])
    }

    @Test func invalidUTF8FailsInsideAFrameBeforeItEnds() {
        // Autobahn 6.4.3/6.4.4: the bad byte arrives, the rest of the frame does not.
        let payload = Array("κόσμε".utf8) + [0xF4, 0x90, 0x80, 0x80] + Array("edited".utf8)
        let frame = WebSocketWire.frame(0x1, payload)
        let badByteEnd = 2 + 4 + 10 + 2  // header, mask, "κόσμε", F4 90
        let (consumed, event) = WebSocketWire.firstEvent(Array(frame.prefix(badByteEnd)))
        #expect(consumed == badByteEnd)
        #expect(event == .protocolError(closeCode: 1007, reason: "The text is not valid UTF-8."))
    }

    @Test func invalidUTF8InALaterFragmentFails() {
        let stream = WebSocketWire.text("ok ", fin: false) + WebSocketWire.frame(0x0, [0xED, 0xA0, 0x80], fin: false)
        #expect(WebSocketWire.protocolErrorCode(WebSocketWire.events(stream)) == 1007)
    }

    @Test func textEndingInsideASequenceFails() {
        let stream = WebSocketWire.text("a", fin: false) + WebSocketWire.frame(0x0, [0xE2, 0x82])
        #expect(
            WebSocketWire.events(stream) == [
                .protocolError(closeCode: 1007, reason: "The text ends inside a UTF-8 sequence.")
            ])
    }

    @Test func multibyteCharactersSplitAcrossFragmentsAreAccepted() {
        let text = "a€𝄞κ"
        let bytes = Array(text.utf8)
        for split in 0...bytes.count {
            let stream =
                WebSocketWire.frame(0x1, Array(bytes[..<split]), fin: false)
                + WebSocketWire.frame(0x0, Array(bytes[split...]))
            #expect(WebSocketWire.events(stream) == [.text(text)], "split at \(split)")
        }
        // One byte per fragment.
        var stream = WebSocketWire.frame(0x1, [bytes[0]], fin: false)
        for (offset, byte) in bytes.enumerated().dropFirst() {
            stream += WebSocketWire.frame(0x0, [byte], fin: offset == bytes.count - 1)
        }
        #expect(WebSocketWire.events(stream) == [.text(text)])
    }

    @Test func binaryMessagesAreNotValidated() {
        #expect(
            WebSocketWire.events(WebSocketWire.frame(0x2, [0xFF, 0xC0, 0xED, 0xA0])) == [
                .binary([0xFF, 0xC0, 0xED, 0xA0])
            ])
    }

    // MARK: Close frames (§5.5.1, §7.4)

    @Test func emptyCloseHasNoCode() {
        #expect(WebSocketWire.events(WebSocketWire.frame(0x8, [])) == [.close(code: nil, reason: "")])
    }

    @Test func oneByteCloseIsAProtocolError() {
        #expect(
            WebSocketWire.events(WebSocketWire.frame(0x8, [0x03])) == [
                .protocolError(closeCode: 1002, reason: "A close payload of one byte has no code.")
            ])
    }

    static let validCloseCodes: [UInt16] = [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
    ]
    static let invalidCloseCodes: [UInt16] = [
        0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ]

    @Test(arguments: validCloseCodes)
    func validCloseCodeIsAccepted(code: UInt16) {
        #expect(WebSocketCloseCode.isValidOnWire(code))
        let frame = WebSocketWire.frame(0x8, [UInt8(code >> 8), UInt8(code & 0xFF)])
        #expect(WebSocketWire.events(frame) == [.close(code: code, reason: "")])
    }

    @Test(arguments: invalidCloseCodes)
    func invalidCloseCodeIsAProtocolError(code: UInt16) {
        #expect(!WebSocketCloseCode.isValidOnWire(code))
        let frame = WebSocketWire.frame(0x8, [UInt8(code >> 8), UInt8(code & 0xFF)])
        #expect(
            WebSocketWire.events(frame) == [
                .protocolError(closeCode: 1002, reason: "Close code \(code) may not be sent.")
            ])
    }

    @Test func closeCodeTableAgreesWithTheRangesEverywhere() {
        for code in 0...UInt16.max {
            let expected = (1000...1003).contains(code) || (1007...1014).contains(code) || (3000...4999).contains(code)
            if WebSocketCloseCode.isValidOnWire(code) != expected { Issue.record("code \(code)") }
        }
    }

    @Test func closeReasonMustBeUTF8() {
        let good = WebSocketWire.frame(0x8, [0x03, 0xE8] + Array("κόσμε".utf8))
        #expect(WebSocketWire.events(good) == [.close(code: 1000, reason: "κόσμε")])
        // Autobahn 7.5.1: a surrogate in the reason.
        let bad = WebSocketWire.frame(0x8, [0x03, 0xE8, 0xCE, 0xBA, 0xED, 0xA0, 0x80, 0x65])
        #expect(
            WebSocketWire.events(bad) == [
                .protocolError(closeCode: 1002, reason: "The close reason is not valid UTF-8.")
            ])
        let truncated = WebSocketWire.frame(0x8, [0x03, 0xE8, 0xE2, 0x82])
        #expect(WebSocketWire.protocolErrorCode(WebSocketWire.events(truncated)) == 1002)
    }

    @Test func maximumCloseReasonIsAccepted() {
        let reason = String(repeating: "r", count: 123)
        let frame = WebSocketWire.frame(0x8, [0x0F, 0xA0] + Array(reason.utf8))
        #expect(WebSocketWire.events(frame) == [.close(code: 4000, reason: reason)])
    }

    // MARK: After a failure

    @Test func aFailedParserSwallowsEverythingAfterwards() {
        var parser = WebSocketFrameParser(maxMessageBytes: 1024)
        let bad = WebSocketWire.frame(0x1, [], rsv: 0x40) + WebSocketWire.text("ignored")
        let first = bad.withUnsafeBytes { parser.parse($0) }
        #expect(first.consumed == 1)
        #expect(parser.isFailed)
        let rest = Array(bad[1...])
        let second = rest.withUnsafeBytes { parser.parse($0) }
        #expect(second.consumed == rest.count)
        #expect(second.event == .needMoreData)
    }

    @Test func emptyInputNeedsMoreData() {
        var parser = WebSocketFrameParser(maxMessageBytes: 16)
        let result = [UInt8]().withUnsafeBytes { parser.parse($0) }
        #expect(result.consumed == 0)
        #expect(result.event == .needMoreData)
        #expect(!parser.isFailed)
    }

    @Test func manyMessagesInOneRead() {
        var stream: [UInt8] = []
        var expected: [WebSocketFrameParser.Event] = []
        for index in 0..<200 {
            stream += WebSocketWire.frame(0x1, Array("message \(index)".utf8), mask: [UInt8(index & 0xFF), 1, 2, 3])
            expected.append(.text("message \(index)"))
        }
        #expect(WebSocketWire.events(stream) == expected)
    }

    @Test func unmaskMatchesTheDefinitionAtEveryOffsetAndLength() {
        let key: UInt32 = 0x3D21_FA37  // wire order 37 FA 21 3D
        let keyBytes: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        for offset in 0..<4 {
            for length in 0..<40 {
                var data = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
                let expected = data.enumerated().map { $0.element ^ keyBytes[($0.offset + offset) % 4] }
                data.withUnsafeMutableBytes { WebSocketFrameParser.unmask($0, key: key, offset: offset) }
                #expect(data == expected, "offset \(offset), length \(length)")
            }
        }
    }
}
