import Testing

@testable import HTTPServer

@Suite("WebSocket frame writer")
struct WebSocketFrameWriterTests {
    /// Masks a server frame as a client would send it, so the parser can read it back.
    static func asClientFrame(_ frame: [UInt8]) -> [UInt8] {
        var reader = frame[...]
        var bytes = [reader.removeFirst()]
        let length = reader.removeFirst()
        bytes.append(length | 0x80)
        let extra = length == 126 ? 2 : length == 127 ? 8 : 0
        bytes += reader.prefix(extra)
        reader = reader.dropFirst(extra)
        let mask: [UInt8] = [0xA1, 0xB2, 0xC3, 0xD4]
        bytes += mask
        bytes += reader.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        return bytes
    }

    @Test func rfcUnmaskedHello() {
        // RFC 6455 §5.7: "A single-frame unmasked text message".
        #expect(WebSocketFrameWriter.text("Hello") == [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
    }

    @Test func rfcUnmaskedPing() {
        #expect(WebSocketFrameWriter.ping(Array("Hello".utf8)) == [0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        #expect(WebSocketFrameWriter.pong(Array("Hello".utf8)) == [0x8A, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        #expect(WebSocketFrameWriter.ping() == [0x89, 0x00])
    }

    @Test func minimalLengthEncoding() {
        let cases: [(Int, [UInt8])] = [
            (0, [0x82, 0x00]),
            (125, [0x82, 0x7D]),
            (126, [0x82, 0x7E, 0x00, 0x7E]),
            (256, [0x82, 0x7E, 0x01, 0x00]),
            (65535, [0x82, 0x7E, 0xFF, 0xFF]),
            (65536, [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]),
        ]
        for (length, header) in cases {
            let payload = [UInt8](repeating: 0xAB, count: length)
            let frame = WebSocketFrameWriter.binary(payload)
            #expect(Array(frame.prefix(header.count)) == header, "length \(length)")
            #expect(frame.count == header.count + length)
            #expect(WebSocketFrameWriter.headerSize(payloadLength: length) == header.count)
            #expect(Array(frame.suffix(length)) == payload)
        }
    }

    @Test func appendHeaderForAFragment() {
        var bytes: [UInt8] = []
        WebSocketFrameWriter.appendHeader(opcode: .text, fin: false, payloadLength: 3, to: &bytes)
        WebSocketFrameWriter.appendHeader(opcode: .continuation, fin: true, payloadLength: 300, to: &bytes)
        #expect(bytes == [0x01, 0x03, 0x80, 0x7E, 0x01, 0x2C])
    }

    @Test func closeFrames() {
        #expect(WebSocketFrameWriter.close(code: nil) == [0x88, 0x00])
        #expect(WebSocketFrameWriter.close(code: 1000) == [0x88, 0x02, 0x03, 0xE8])
        #expect(WebSocketFrameWriter.close(code: 1001, reason: "bye") == [0x88, 0x05, 0x03, 0xE9, 0x62, 0x79, 0x65])
    }

    @Test func longCloseReasonsAreCutAtACharacterBoundary() {
        let frame = WebSocketFrameWriter.close(code: 1008, reason: String(repeating: "é", count: 100))
        // 2 code bytes + 61 "é" (122 bytes): a 62nd would need 124 > 123.
        #expect(frame[1] == 124)
        let parsed = WebSocketWire.events(Self.asClientFrame(frame))
        #expect(parsed == [.close(code: 1008, reason: String(repeating: "é", count: 61))])
        let ascii = WebSocketFrameWriter.close(code: 1000, reason: String(repeating: "x", count: 500))
        #expect(ascii.count == 2 + 125)
    }

    @Test func framesReadBackThroughTheParser() {
        let binary = (0..<70000).map { UInt8(truncatingIfNeeded: $0) }
        let frames = [
            WebSocketFrameWriter.text("κόσμε"), WebSocketFrameWriter.binary(binary), WebSocketFrameWriter.ping([1]),
            WebSocketFrameWriter.pong([]), WebSocketFrameWriter.close(code: 4000, reason: "done"),
        ]
        let events = WebSocketWire.events(frames.map(Self.asClientFrame).reduce([], +))
        #expect(events == [.text("κόσμε"), .binary(binary), .ping([1]), .pong([]), .close(code: 4000, reason: "done")])
    }

    @Test func serverFramesAreNeverMasked() {
        for frame in [WebSocketFrameWriter.text("x"), WebSocketFrameWriter.binary([UInt8](repeating: 0, count: 200))] {
            #expect(frame[1] & 0x80 == 0)
        }
    }
}
