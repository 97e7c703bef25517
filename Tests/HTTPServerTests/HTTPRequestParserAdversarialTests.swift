import Testing

@testable import HTTPServer

/// An input that must be refused with `status` and `code`.
struct ParserRejectCase: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var status: Int
    var code: String
    var limits: HTTPLimits
    var testDescription: String { "\(name) → \(status)" }

    init(_ name: String, _ bytes: [UInt8], _ status: Int, _ code: String, limits: HTTPLimits = HTTPLimits()) {
        self.name = name
        self.bytes = bytes
        self.status = status
        self.code = code
        self.limits = limits
    }
}

/// A complete valid head with `fields` after the request line.
private func head(_ requestLine: String = "GET / HTTP/1.1", _ fields: String...) -> [UInt8] {
    Array(([requestLine] + fields + ["", ""]).joined(separator: "\r\n").utf8)
}

/// A complete `POST / HTTP/1.1` head with `Host: h` and `fields`.
private func post(_ fields: String...) -> [UInt8] {
    Array((["POST / HTTP/1.1", "Host: h"] + fields + ["", ""]).joined(separator: "\r\n").utf8)
}

/// A chunked POST whose body section is `chunkedBody` as sent.
private func chunked(_ chunkedBody: String) -> [UInt8] {
    post("Transfer-Encoding: chunked") + Array(chunkedBody.utf8)
}

/// `text` repeated `count` times.
private func many(_ text: String, _ count: Int) -> String {
    String(repeating: text, count: count)
}

/// The bytes of `text` as sent, for inputs `head` cannot build (bare CR or LF, NUL).
private func raw(_ text: String) -> [UInt8] {
    Array(text.utf8)
}

private let smallLimits = HTTPLimits(maxRequestLineBytes: 32, maxHeaderBytes: 64, maxHeaderCount: 3, maxBodyBytes: 10)

let rejectedParserRequests: [ParserRejectCase] = [
    // Line endings (RFC 9112 §2.2).
    ParserRejectCase("bare LF ending the request line", raw("GET / HTTP/1.1\nHost: h\r\n\r\n"), 400, "bare_line_feed"),
    ParserRejectCase("bare LF ending the head", raw("GET / HTTP/1.1\r\nHost: h\n\n"), 400, "bare_line_feed"),
    ParserRejectCase("LF as the very first byte", raw("\nGET / HTTP/1.1\r\n\r\n"), 400, "bare_line_feed"),
    ParserRejectCase(
        "bare CR inside a header value", head("GET / HTTP/1.1", "Host: h", "X: a\rb"), 400, "bare_carriage_return"),
    ParserRejectCase("bare CR inside the request line", head("GET / HTTP/1.1\rx", "Host: h"), 400, "invalid_version"),

    // Request line (RFC 9112 §3).
    ParserRejectCase("request line over the limit", head("GET /\(many("a", 8300)) HTTP/1.1"), 414, "uri_too_long"),
    ParserRejectCase(
        "request line over the limit before its CRLF", raw("GET /\(many("a", 9000))"), 414, "uri_too_long"),
    ParserRejectCase(
        "small limit: 33-byte request line", head("GET /\(many("a", 19)) HTTP/1.1", "Host: h"), 414, "uri_too_long",
        limits: smallLimits),
    ParserRejectCase(
        "small limit: 35 bytes with no LF yet", raw("GET /\(many("a", 30))"), 414, "uri_too_long", limits: smallLimits),
    ParserRejectCase(
        "blank request line after the leading empty ones", raw("\r\n \r\n\r\n"), 400, "malformed_request_line"),
    ParserRejectCase("leading space", head(" GET / HTTP/1.1", "Host: h"), 400, "malformed_request_line"),
    ParserRejectCase("two spaces after the method", head("GET  / HTTP/1.1", "Host: h"), 400, "malformed_request_line"),
    ParserRejectCase("HTTP/0.9 style line", head("GET /", "Host: h"), 400, "malformed_request_line"),
    ParserRejectCase("trailing space after the version", head("GET / HTTP/1.1 ", "Host: h"), 400, "invalid_version"),
    ParserRejectCase("tab as separator", head("GET\t/ HTTP/1.1", "Host: h"), 400, "malformed_request_line"),
    ParserRejectCase("method with a delimiter", head("GE(T / HTTP/1.1", "Host: h"), 400, "invalid_method"),
    ParserRejectCase("method with NUL", raw("G\0T / HTTP/1.1\r\nHost: h\r\n\r\n"), 400, "invalid_method"),
    ParserRejectCase("unknown method token", head("BREW /pot HTTP/1.1", "Host: h"), 501, "not_implemented"),
    ParserRejectCase("methods are case-sensitive", head("get / HTTP/1.1", "Host: h"), 501, "not_implemented"),
    ParserRejectCase(
        "CONNECT with authority-form", head("CONNECT example.com:443 HTTP/1.1", "Host: example.com:443"), 501,
        "not_implemented"),
    ParserRejectCase("HTTP/2.0", head("GET / HTTP/2.0", "Host: h"), 505, "version_not_supported"),
    ParserRejectCase("HTTP/1.2", head("GET / HTTP/1.2", "Host: h"), 505, "version_not_supported"),
    ParserRejectCase("HTTP/0.9", head("GET / HTTP/0.9"), 505, "version_not_supported"),
    ParserRejectCase("lower-case protocol name", head("GET / http/1.1", "Host: h"), 400, "invalid_version"),
    ParserRejectCase("two-digit minor version", head("GET / HTTP/1.10", "Host: h"), 400, "invalid_version"),
    ParserRejectCase("version without minor", head("GET / HTTP/2", "Host: h"), 400, "invalid_version"),
    ParserRejectCase("garbage version", head("GET / SPDY/3.1", "Host: h"), 400, "invalid_version"),

    // Request target (RFC 9112 §3.2, RFC 3986).
    ParserRejectCase("NUL in the path", raw("GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n"), 400, "invalid_target"),
    ParserRejectCase("DEL in the query", raw("GET /?a=\u{7F} HTTP/1.1\r\nHost: h\r\n\r\n"), 400, "invalid_target"),
    ParserRejectCase("raw UTF-8 in the path", head("GET /caf\u{e9} HTTP/1.1", "Host: h"), 400, "invalid_target"),
    ParserRejectCase("fragment", head("GET /a#b HTTP/1.1", "Host: h"), 400, "invalid_target"),
    ParserRejectCase("double quote", head("GET /\"x\" HTTP/1.1", "Host: h"), 400, "invalid_target"),
    ParserRejectCase("angle bracket", head("GET /<script> HTTP/1.1", "Host: h"), 400, "invalid_target"),
    ParserRejectCase("bad escape %zz", head("GET /a%zz HTTP/1.1", "Host: h"), 400, "invalid_target"),
    ParserRejectCase("escape with one hex digit", head("GET /a%2 HTTP/1.1", "Host: h"), 400, "invalid_target"),
    ParserRejectCase("escape with no digits", head("GET /% HTTP/1.1", "Host: h"), 400, "invalid_target"),
    ParserRejectCase("bad escape in the query", head("GET /?q=%G1 HTTP/1.1", "Host: h"), 400, "invalid_target"),
    ParserRejectCase("relative target", head("GET index.html HTTP/1.1", "Host: h"), 400, "invalid_target"),
    ParserRejectCase("asterisk-form on GET", head("GET * HTTP/1.1", "Host: h"), 400, "invalid_target"),
    ParserRejectCase(
        "absolute-form with an unknown scheme", head("GET ftp://h/ HTTP/1.1", "Host: h"), 400, "invalid_target"),
    ParserRejectCase(
        "absolute-form with an empty host", head("GET http:///a HTTP/1.1", "Host: h"), 400, "invalid_target"),
    ParserRejectCase(
        "absolute-form with userinfo", head("GET http://user@h/ HTTP/1.1", "Host: h"), 400, "invalid_target"),
    ParserRejectCase(
        "absolute-form with a bad port", head("GET http://h:8x/ HTTP/1.1", "Host: h"), 400, "invalid_target"),

    // Head size limits (RFC 6585 §5).
    ParserRejectCase(
        "one huge header", head("GET / HTTP/1.1", "Host: h", "X: \(many("v", 40000))"), 431, "headers_too_large"),
    ParserRejectCase(
        "head over the limit before its end", raw("GET / HTTP/1.1\r\nX: \(many("v", 40000))"), 431, "headers_too_large"),
    ParserRejectCase(
        "101 header fields", head("GET / HTTP/1.1", (0...100).map { "X-\($0): v" }.joined(separator: "\r\n")), 431,
        "too_many_headers"),
    ParserRejectCase(
        "small limit: 65-byte head", head("GET / HTTP/1.1", "Host: h", "X: \(many("v", 33))"), 431, "headers_too_large",
        limits: smallLimits),
    ParserRejectCase(
        "small limit: 65 bytes and no end yet", raw("GET / HTTP/1.1\r\nHost: h\r\nX: \(many("v", 37))"), 431,
        "headers_too_large", limits: smallLimits),
    ParserRejectCase(
        "small limit: four fields", head("GET / HTTP/1.1", "Host: h", "A: 1", "B: 2", "C: 3"), 431, "too_many_headers",
        limits: smallLimits),
    ParserRejectCase("a flood of empty lines", Array(many("\r\n", 20000).utf8), 431, "headers_too_large"),

    // Field lines (RFC 9112 §5, RFC 9110 §5.5).
    ParserRejectCase("obs-fold", head("GET / HTTP/1.1", "Host: h", "X: a", " continued"), 400, "obsolete_line_folding"),
    ParserRejectCase(
        "obs-fold with tab", head("GET / HTTP/1.1", "Host: h", "X: a", "\tcontinued"), 400, "obsolete_line_folding"),
    ParserRejectCase(
        "whitespace before the first field", head("GET / HTTP/1.1", " Host: h"), 400, "obsolete_line_folding"),
    ParserRejectCase("space before the colon", head("GET / HTTP/1.1", "Host : h"), 400, "invalid_header"),
    ParserRejectCase(
        "tab before the colon", head("GET / HTTP/1.1", "Host: h", "Content-Length\t: 1"), 400, "invalid_header"),
    ParserRejectCase("no colon", head("GET / HTTP/1.1", "Host: h", "NoColon"), 400, "invalid_header"),
    ParserRejectCase("empty name", head("GET / HTTP/1.1", "Host: h", ": v"), 400, "invalid_header"),
    ParserRejectCase("separator in the name", head("GET / HTTP/1.1", "Host: h", "X(y): v"), 400, "invalid_header"),
    ParserRejectCase("NUL in a name", raw("GET / HTTP/1.1\r\nHost: h\r\nX\0: v\r\n\r\n"), 400, "invalid_header"),
    ParserRejectCase("NUL in a value", raw("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"), 400, "invalid_header"),
    ParserRejectCase(
        "escape control in a value", raw("GET / HTTP/1.1\r\nHost: h\r\nX: \u{1B}[31m\r\n\r\n"), 400, "invalid_header"),
    ParserRejectCase("DEL in a value", raw("GET / HTTP/1.1\r\nHost: h\r\nX: \u{7F}\r\n\r\n"), 400, "invalid_header"),
    ParserRejectCase("missing Host in HTTP/1.1", head("GET / HTTP/1.1", "Accept: */*"), 400, "missing_host"),
    ParserRejectCase("two Hosts", head("GET / HTTP/1.1", "Host: a", "host: b"), 400, "duplicate_host"),
    ParserRejectCase("two Hosts in HTTP/1.0", head("GET / HTTP/1.0", "Host: a", "Host: a"), 400, "duplicate_host"),
    ParserRejectCase("Host with a space", head("GET / HTTP/1.1", "Host: a b"), 400, "invalid_host"),
    ParserRejectCase("Host with userinfo", head("GET / HTTP/1.1", "Host: u@a"), 400, "invalid_host"),
    ParserRejectCase("Host with a path", head("GET / HTTP/1.1", "Host: a/b"), 400, "invalid_host"),
    ParserRejectCase("unsupported expectation", post("Content-Length: 1", "Expect: 200-ok"), 417, "expectation_failed"),

    // Body framing (RFC 9112 §6).
    ParserRejectCase(
        "Content-Length and Transfer-Encoding", post("Content-Length: 3", "Transfer-Encoding: chunked"), 400,
        "ambiguous_framing"),
    ParserRejectCase(
        "Transfer-Encoding and Content-Length", post("Transfer-Encoding: chunked", "Content-Length: 3"), 400,
        "ambiguous_framing"),
    ParserRejectCase(
        "Transfer-Encoding in HTTP/1.0", head("POST / HTTP/1.0", "Transfer-Encoding: chunked"), 400, "ambiguous_framing"
    ),
    ParserRejectCase("chunked, gzip", post("Transfer-Encoding: chunked, gzip"), 400, "invalid_transfer_encoding"),
    ParserRejectCase("gzip alone", post("Transfer-Encoding: gzip"), 400, "invalid_transfer_encoding"),
    ParserRejectCase("xchunked", post("Transfer-Encoding: xchunked"), 400, "invalid_transfer_encoding"),
    ParserRejectCase(
        "chunked with a parameter", post("Transfer-Encoding: chunked;q=1"), 400, "invalid_transfer_encoding"),
    ParserRejectCase(
        "chunked twice in one field", post("Transfer-Encoding: chunked, chunked"), 400, "invalid_transfer_encoding"),
    ParserRejectCase(
        "chunked twice in two fields", post("Transfer-Encoding: chunked", "Transfer-Encoding: chunked"), 400,
        "invalid_transfer_encoding"),
    ParserRejectCase("empty Transfer-Encoding", post("Transfer-Encoding: "), 400, "invalid_transfer_encoding"),
    ParserRejectCase("gzip, chunked", post("Transfer-Encoding: gzip, chunked"), 501, "unsupported_transfer_coding"),
    ParserRejectCase(
        "two different Content-Length fields", post("Content-Length: 5", "Content-Length: 6"), 400,
        "invalid_content_length"),
    ParserRejectCase("Content-Length list 5, 6", post("Content-Length: 5, 6"), 400, "invalid_content_length"),
    ParserRejectCase("Content-Length +5", post("Content-Length: +5"), 400, "invalid_content_length"),
    ParserRejectCase("Content-Length -1", post("Content-Length: -1"), 400, "invalid_content_length"),
    ParserRejectCase("Content-Length 0x10", post("Content-Length: 0x10"), 400, "invalid_content_length"),
    ParserRejectCase("Content-Length 1 2", post("Content-Length: 1 2"), 400, "invalid_content_length"),
    ParserRejectCase("Content-Length 5.0", post("Content-Length: 5.0"), 400, "invalid_content_length"),
    ParserRejectCase("empty Content-Length", post("Content-Length:"), 400, "invalid_content_length"),
    ParserRejectCase(
        "Content-Length with an empty list element", post("Content-Length: 5,"), 400, "invalid_content_length"),
    ParserRejectCase("Content-Length over the limit", post("Content-Length: 1048577"), 413, "body_too_large"),
    ParserRejectCase(
        "Content-Length beyond Int", post("Content-Length: 99999999999999999999999999"), 413, "body_too_large"),
    ParserRejectCase(
        "huge Content-Length with Expect gets 413, not 100", post("Expect: 100-continue", "Content-Length: 2000000"),
        413, "body_too_large"),
    ParserRejectCase(
        "small limit: Content-Length 11", post("Content-Length: 11"), 413, "body_too_large", limits: smallLimits),

    // Chunked body (RFC 9112 §7.1).
    ParserRejectCase("chunk size zz", chunked("zz\r\n"), 400, "invalid_chunk"),
    ParserRejectCase("chunk size -1", chunked("-1\r\n"), 400, "invalid_chunk"),
    ParserRejectCase("chunk size 0x10", chunked("0x10\r\n"), 400, "invalid_chunk"),
    ParserRejectCase("empty chunk size line", chunked("\r\n"), 400, "invalid_chunk"),
    ParserRejectCase("space before the chunk size", chunked(" 5\r\nhello\r\n0\r\n\r\n"), 400, "invalid_chunk"),
    ParserRejectCase(
        "space after the chunk size without extension", chunked("5 \r\nhello\r\n0\r\n\r\n"), 400, "invalid_chunk"),
    ParserRejectCase("huge hex chunk size", chunked("FFFFFFFFFFFFFFFFFF\r\n"), 413, "body_too_large"),
    ParserRejectCase("chunk size just over the limit", chunked("100001\r\n"), 413, "body_too_large"),
    ParserRejectCase(
        "small limit: chunks adding up to 11", chunked("6\r\nabcdef\r\n5\r\n"), 413, "body_too_large",
        limits: smallLimits),
    ParserRejectCase("chunk data not followed by CRLF", chunked("5\r\nhelloX\r\n0\r\n\r\n"), 400, "invalid_chunk"),
    ParserRejectCase("chunk data longer than its size", chunked("3\r\nhello\r\n0\r\n\r\n"), 400, "invalid_chunk"),
    ParserRejectCase("chunk data followed by a bare LF", chunked("5\r\nhello\n0\r\n\r\n"), 400, "invalid_chunk"),
    ParserRejectCase("chunk size line ending in a bare LF", chunked("5\nhello\r\n0\r\n\r\n"), 400, "bare_line_feed"),
    ParserRejectCase("chunk size line with a bare CR", chunked("5\rhello\r\n0\r\n\r\n"), 400, "bare_carriage_return"),
    ParserRejectCase("NUL in a chunk extension", chunked("5;a=\0\r\nhello\r\n0\r\n\r\n"), 400, "invalid_chunk"),
    ParserRejectCase("chunk extension over the line limit", chunked("5;\(many("x", 1100))\r\n"), 400, "invalid_chunk"),
    ParserRejectCase("trailer with obs-fold", chunked("0\r\nA: 1\r\n folded\r\n\r\n"), 400, "invalid_trailer"),
    ParserRejectCase("trailer without a colon", chunked("0\r\nNoColon\r\n\r\n"), 400, "invalid_trailer"),
    ParserRejectCase("trailer with space before the colon", chunked("0\r\nA : 1\r\n\r\n"), 400, "invalid_trailer"),
    ParserRejectCase("trailer with NUL", chunked("0\r\nA: \0\r\n\r\n"), 400, "invalid_trailer"),
    ParserRejectCase("last chunk followed by a bare LF", chunked("0\r\n\n"), 400, "bare_line_feed"),
    ParserRejectCase(
        "small limit: four trailer fields", chunked("0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"), 431,
        "too_many_headers", limits: smallLimits),
    ParserRejectCase(
        "oversized trailer section", chunked("0\r\nX: \(many("v", 40000))\r\n\r\n"), 431, "headers_too_large"),
]

@Test(arguments: rejectedParserRequests)
func rejectsMalformedRequest(_ testCase: ParserRejectCase) throws {
    let result = parserOutcomes(testCase.bytes, limits: testCase.limits)
    let last = try #require(result.last, "no outcome at all")
    guard case .error(let error) = last else {
        Issue.record("expected \(testCase.status) \(testCase.code), got \(result)")
        return
    }
    #expect(error.status.code == testCase.status)
    #expect(error.code == testCase.code)
    #expect(error.httpError.status == error.status)
    // A refused head never offers 100 Continue.
    #expect(!result.contains { if case .expectsContinue = $0 { true } else { false } })
}

/// Limits are enforced at the first byte that breaks them, so the error cannot depend on how bytes arrive.
@Test(arguments: rejectedParserRequests)
func rejectionDoesNotDependOnHowBytesArrive(_ testCase: ParserRejectCase) {
    let whole = parserOutcomes(testCase.bytes, limits: testCase.limits)
    #expect(parserOutcomesByteByByte(testCase.bytes, limits: testCase.limits) == whole)
    // Every split point for short inputs; a sample for the long ones to keep the test fast.
    let stride = max(1, testCase.bytes.count / 200)
    for cut in Swift.stride(from: 0, through: testCase.bytes.count, by: stride) {
        #expect(parserOutcomes(testCase.bytes, cuts: [cut], limits: testCase.limits) == whole, "split at \(cut)")
    }
}

// MARK: - Limits exactly at the boundary are accepted

@Test func requestLineOfExactlyTheLimitIsAccepted() {
    // "GET /" + 18 + " HTTP/1.1" = 32 bytes.
    let line = "GET /\(many("a", 18)) HTTP/1.1"
    #expect(line.utf8.count == 32)
    let limits = HTTPLimits(maxRequestLineBytes: 32)
    let result = parserOutcomes(head(line, "Host: h"), limits: limits)
    guard case .request = result.first else {
        Issue.record("expected a request, got \(result)")
        return
    }
    // 33 bytes without LF could still be 32 and a CR: wait for more.
    #expect(parserOutcomes(Array("GET /\(many("a", 28))".utf8), limits: limits).isEmpty)
}

@Test func headOfExactlyTheLimitIsAccepted() {
    let bytes = head("GET / HTTP/1.1", "Host: h", "X: \(many("v", 32))")
    #expect(bytes.count == 64)
    let result = parserOutcomes(bytes, limits: HTTPLimits(maxHeaderBytes: 64))
    guard case .request = result.first else {
        Issue.record("expected a request, got \(result)")
        return
    }
}

@Test func exactlyMaxHeaderCountFieldsAreAccepted() {
    let fields = ["Host: h"] + (1..<100).map { "X-\($0): v" }
    let bytes = Array((["GET / HTTP/1.1"] + fields + ["", ""]).joined(separator: "\r\n").utf8)
    let result = parserOutcomes(bytes)
    guard case .request(let request) = result.first else {
        Issue.record("expected a request, got \(result)")
        return
    }
    #expect(request.headers.count == 100)
}

@Test func bodyOfExactlyTheLimitIsAccepted() {
    let limits = HTTPLimits(maxBodyBytes: 10)
    let viaLength = parserOutcomes(
        post("Content-Length: 10") + Array("0123456789".utf8), limits: limits)
    let viaChunks = parserOutcomes(chunked("6\r\n012345\r\n4\r\n6789\r\n0\r\n\r\n"), limits: limits)
    for result in [viaLength, viaChunks] {
        guard case .request(let request) = result.first else {
            Issue.record("expected a request, got \(result)")
            continue
        }
        #expect(request.body == Array("0123456789".utf8))
    }
}

@Test func contentLengthAtTheDefaultLimitWaitsForTheBody() {
    var parser = HTTPRequestParser(limits: HTTPLimits())
    let bytes = post("Content-Length: 1048576")
    let (consumed, event) = bytes.withUnsafeBytes { parser.parse($0) }
    guard case .needMoreData = event else {
        Issue.record("expected needMoreData, got \(event)")
        return
    }
    #expect(consumed == bytes.count)
    #expect(parser.isReadingBody)
}

/// A large chunked body streams through a small read buffer: every call consumes what it was given.
@Test func largeChunkedBodyStreamsThroughTheParser() {
    var parser = HTTPRequestParser(limits: HTTPLimits())
    let headBytes = post("Transfer-Encoding: chunked")
    var (consumed, event) = headBytes.withUnsafeBytes { parser.parse($0) }
    #expect(consumed == headBytes.count)
    let chunk = Array("8000\r\n".utf8) + [UInt8](repeating: 0x61, count: 0x8000) + Array("\r\n".utf8)
    var wire: [UInt8] = []
    for _ in 0..<16 { wire += chunk }
    wire += Array("0\r\n\r\n".utf8)
    var offset = 0
    while offset < wire.count {
        let piece = wire[offset..<min(offset + 4096, wire.count)]
        (consumed, event) = piece.withUnsafeBytes { parser.parse($0) }
        offset += consumed
        if case .needMoreData = event {
            #expect(consumed == piece.count)
            continue
        }
        break
    }
    guard case .request(let request) = event else {
        Issue.record("expected a request, got \(event)")
        return
    }
    #expect(request.body.count == 16 * 0x8000)
    #expect(offset == wire.count)
}

// MARK: - Error state

@Test(arguments: rejectedParserRequests.prefix(20))
func errorStateIsSticky(_ testCase: ParserRejectCase) throws {
    var parser = HTTPRequestParser(limits: testCase.limits)
    let (_, first) = testCase.bytes.withUnsafeBytes { parser.parse($0) }
    guard case .error(let error) = first else {
        Issue.record("expected an error, got \(first)")
        return
    }
    #expect(!parser.isReadingBody)
    #expect(!parser.hasPartialRequest)
    // Whatever comes next, even a perfectly valid request, gets the same error and consumes nothing.
    for next in [[], head("GET / HTTP/1.1", "Host: h"), testCase.bytes] {
        let (consumed, event) = next.withUnsafeBytes { parser.parse($0) }
        #expect(consumed == 0)
        guard case .error(let again) = event else {
            Issue.record("expected the same error, got \(event)")
            return
        }
        #expect(again == error)
    }
}

@Test func errorInsideABodyIsSticky() {
    var parser = HTTPRequestParser(limits: HTTPLimits())
    let bytes = chunked("5\r\nhello\r\nzz\r\n")
    let (_, event) = bytes.withUnsafeBytes { parser.parse($0) }
    guard case .error(let error) = event else {
        Issue.record("expected an error, got \(event)")
        return
    }
    #expect(error.code == "invalid_chunk")
    let (consumed, again) = Array("0\r\n\r\n".utf8).withUnsafeBytes { parser.parse($0) }
    #expect(consumed == 0)
    guard case .error(let same) = again else {
        Issue.record("expected the same error, got \(again)")
        return
    }
    #expect(same == error)
    #expect(!parser.isReadingBody)
}
