import Testing

@testable import HTTPServer

// MARK: - Harness

/// The parts of a parsed request a test compares.
struct ParsedRequest: Equatable, Sendable, CustomStringConvertible {
    var method: HTTPMethod
    var target: String
    var path: String
    var query: String?
    var version: HTTPVersion
    var headers: [HTTPHeaders.Field]
    var body: [UInt8]

    init(_ request: HTTPRequest) {
        method = request.method
        target = request.target
        path = request.path
        query = request.query
        version = request.version
        headers = request.headers.fields
        body = request.body
    }

    /// The expected request; `path` and `query` are the target split at its first `?`.
    init(
        _ method: HTTPMethod, _ target: String, _ version: HTTPVersion = .http1_1,
        headers: KeyValuePairs<String, String> = ["Host": "example.com"], body: String = ""
    ) {
        self.method = method
        self.target = target
        if let mark = target.firstIndex(of: "?") {
            path = String(target[..<mark])
            query = String(target[target.index(after: mark)...])
        } else {
            path = target
            query = nil
        }
        self.version = version
        self.headers = headers.map { HTTPHeaders.Field(name: $0.key, value: $0.value) }
        self.body = Array(body.utf8)
    }

    var description: String {
        "\(method) \(target) \(version) \(headers.map { "\($0.name): \($0.value)" }) body=\(body.count)B"
    }
}

/// What the simulated connection saw, in order.
enum ParserOutcome: Equatable, Sendable {
    case request(ParsedRequest)
    case expectsContinue(ParsedRequest)
    case error(HTTPParseError)
}

/// Plays the connection the parser is written for: keeps the unconsumed bytes, appends what arrives, and calls
/// `parse` until it needs more data or fails.
struct ParserConnection {
    var parser: HTTPRequestParser
    private(set) var buffer: [UInt8] = []
    private(set) var outcomes: [ParserOutcome] = []
    private(set) var failed = false

    init(limits: HTTPLimits = HTTPLimits()) {
        parser = HTTPRequestParser(limits: limits)
    }

    mutating func receive(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
        while !failed {
            let unread = buffer
            let (consumed, event) = unread.withUnsafeBytes { parser.parse($0) }
            #expect((0...unread.count).contains(consumed), "consumed \(consumed) of \(unread.count)")
            buffer.removeFirst(min(max(consumed, 0), unread.count))
            switch event {
            case .needMoreData:
                return
            case .request(let request):
                #expect(consumed > 0, "a request consumed nothing")
                outcomes.append(.request(ParsedRequest(request)))
            case .expectsContinue(let request):
                #expect(consumed > 0, "a head consumed nothing")
                outcomes.append(.expectsContinue(ParsedRequest(request)))
            case .error(let error):
                outcomes.append(.error(error))
                failed = true
            case .streamedRequest, .bodyData:
                Issue.record("a parser without streamed routes streamed a body")
                failed = true
            }
        }
    }
}

/// Outcomes of `bytes` arriving in pieces that start at `cuts` (sorted offsets).
func parserOutcomes(_ bytes: [UInt8], cuts: [Int] = [], limits: HTTPLimits = HTTPLimits()) -> [ParserOutcome] {
    var connection = ParserConnection(limits: limits)
    var start = 0
    for cut in cuts + [bytes.count] where cut >= start {
        connection.receive(bytes[start..<cut])
        start = cut
    }
    return connection.outcomes
}

/// Outcomes of `bytes` arriving one byte at a time.
func parserOutcomesByteByByte(_ bytes: [UInt8], limits: HTTPLimits = HTTPLimits()) -> [ParserOutcome] {
    var connection = ParserConnection(limits: limits)
    for byte in bytes { connection.receive(CollectionOfOne(byte)) }
    return connection.outcomes
}

/// Joins `lines` with CRLF, so heads in tests read like the wire format.
private func crlf(_ lines: String...) -> [UInt8] {
    Array(lines.joined(separator: "\r\n").utf8)
}

/// A labelled input for argument tables.
struct ParserRequestCase: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var expected: [ParserOutcome]
    var testDescription: String { name }

    init(_ name: String, _ bytes: [UInt8], _ expected: [ParserOutcome]) {
        self.name = name
        self.bytes = bytes
        self.expected = expected
    }
}

// MARK: - Valid requests

let validParserRequests: [ParserRequestCase] = [
    ParserRequestCase(
        "simple GET", crlf("GET / HTTP/1.1", "Host: example.com", "", ""),
        [.request(ParsedRequest(.GET, "/"))]),
    ParserRequestCase(
        "GET with query and several headers",
        crlf("GET /search?q=swift&page=2 HTTP/1.1", "Host: example.com", "Accept: */*", "User-Agent: t/1", "", ""),
        [
            .request(
                ParsedRequest(
                    .GET, "/search?q=swift&page=2",
                    headers: ["Host": "example.com", "Accept": "*/*", "User-Agent": "t/1"]))
        ]),
    ParserRequestCase(
        "HEAD", crlf("HEAD /file.txt HTTP/1.1", "Host: example.com", "", ""),
        [.request(ParsedRequest(.HEAD, "/file.txt"))]),
    ParserRequestCase(
        "POST with Content-Length",
        crlf("POST /api/messages HTTP/1.1", "Host: example.com", "Content-Length: 13", "", "{\"text\":\"hi\"}"),
        [
            .request(
                ParsedRequest(
                    .POST, "/api/messages", headers: ["Host": "example.com", "Content-Length": "13"],
                    body: "{\"text\":\"hi\"}"))
        ]),
    ParserRequestCase(
        "PUT with chunked body, extension and trailer",
        crlf(
            "PUT /upload HTTP/1.1", "Host: example.com", "Transfer-Encoding: chunked", "", "5;name=value", "hello",
            "7", ", world", "0", "Checksum: abc", "", ""),
        [
            .request(
                ParsedRequest(
                    .PUT, "/upload", headers: ["Host": "example.com", "Transfer-Encoding": "chunked"],
                    body: "hello, world"))
        ]),
    ParserRequestCase(
        "chunked with upper-case hex, leading zeros and whitespace before an extension",
        crlf(
            "PATCH /p HTTP/1.1", "Host: example.com", "Transfer-Encoding: Chunked", "", "0A \t;x", "0123456789",
            "000", "", ""),
        [
            .request(
                ParsedRequest(
                    .PATCH, "/p", headers: ["Host": "example.com", "Transfer-Encoding": "Chunked"],
                    body: "0123456789"))
        ]),
    ParserRequestCase(
        "HTTP/1.0 without Host", crlf("GET /old HTTP/1.0", "", ""),
        [.request(ParsedRequest(.GET, "/old", .http1_0, headers: [:]))]),
    ParserRequestCase(
        "DELETE with empty header value and OWS around values",
        crlf("DELETE /x/1 HTTP/1.1", "Host:example.com", "X-Empty:", "X-Pad: \t padded \t ", "", ""),
        [
            .request(
                ParsedRequest(.DELETE, "/x/1", headers: ["Host": "example.com", "X-Empty": "", "X-Pad": "padded"]))
        ]),
    ParserRequestCase(
        "OPTIONS *", crlf("OPTIONS * HTTP/1.1", "Host: example.com", "", ""),
        [.request(ParsedRequest(.OPTIONS, "*"))]),
    ParserRequestCase(
        "repeated headers stay separate and in order",
        crlf("GET / HTTP/1.1", "Host: example.com", "Cookie: a=1", "Accept: x", "Cookie: b=2", "", ""),
        [
            .request(
                ParsedRequest(
                    .GET, "/", headers: ["Host": "example.com", "Cookie": "a=1", "Accept": "x", "Cookie": "b=2"]))
        ]),
    ParserRequestCase(
        "identical Content-Length values are one length",
        crlf("POST / HTTP/1.1", "Host: example.com", "Content-Length: 3, 3", "content-length: 003", "", "abc"),
        [
            .request(
                ParsedRequest(
                    .POST, "/", headers: ["Host": "example.com", "Content-Length": "3, 3", "content-length": "003"],
                    body: "abc"))
        ]),
    ParserRequestCase(
        "empty lines before the request line are ignored", crlf("", "", "GET / HTTP/1.1", "Host: example.com", "", ""),
        [.request(ParsedRequest(.GET, "/"))]),
    ParserRequestCase(
        "Content-Length: 0 and Expect give an empty body and no 100 Continue",
        crlf("POST /e HTTP/1.1", "Host: example.com", "Content-Length: 0", "Expect: 100-continue", "", ""),
        [
            .request(
                ParsedRequest(
                    .POST, "/e",
                    headers: ["Host": "example.com", "Content-Length": "0", "Expect": "100-continue"]))
        ]),
    ParserRequestCase(
        "Expect: 100-continue with a body",
        crlf("PUT /e HTTP/1.1", "Host: example.com", "Expect: 100-Continue", "Content-Length: 2", "", "ok"),
        [
            .expectsContinue(
                ParsedRequest(
                    .PUT, "/e", headers: ["Host": "example.com", "Expect": "100-Continue", "Content-Length": "2"])),
            .request(
                ParsedRequest(
                    .PUT, "/e", headers: ["Host": "example.com", "Expect": "100-Continue", "Content-Length": "2"],
                    body: "ok")),
        ]),
    ParserRequestCase(
        "Expect: 100-continue is ignored in HTTP/1.0",
        crlf("POST /e HTTP/1.0", "Expect: 100-continue", "Content-Length: 1", "", "x"),
        [
            .request(
                ParsedRequest(
                    .POST, "/e", .http1_0, headers: ["Expect": "100-continue", "Content-Length": "1"], body: "x"))
        ]),
    ParserRequestCase(
        "absolute-form becomes origin-form and its authority replaces Host",
        crlf("GET http://Chat.Example:8080/a/b?c=d HTTP/1.1", "Host: other.example", "", ""),
        [.request(ParsedRequest(.GET, "/a/b?c=d", headers: ["Host": "Chat.Example:8080"]))]),
    ParserRequestCase(
        "absolute-form with an empty path", crlf("GET https://example.com?x HTTP/1.0", "", ""),
        [.request(ParsedRequest(.GET, "/?x", .http1_0, headers: ["Host": "example.com"]))]),
    ParserRequestCase(
        "target characters browsers send raw, and escapes",
        crlf("GET /a%2Fb;c=d/~_.-!$&'()*+,=:@|^{}[]`\\?x=%7B%7d&y=/?|^ HTTP/1.1", "Host: [::1]:80", "", ""),
        [
            .request(
                ParsedRequest(
                    .GET, "/a%2Fb;c=d/~_.-!$&'()*+,=:@|^{}[]`\\?x=%7B%7d&y=/?|^", headers: ["Host": "[::1]:80"]))
        ]),
    ParserRequestCase(
        "non-ASCII header values: UTF-8 kept, other octets read as ISO-8859-1",
        [UInt8]("GET / HTTP/1.1\r\nHost: example.com\r\nX-Utf8: caf\u{e9}\r\nX-Latin1: caf".utf8) + [0xE9]
            + Array("\r\n\r\n".utf8),
        [.request(ParsedRequest(.GET, "/", headers: ["Host": "example.com", "X-Utf8": "café", "X-Latin1": "café"]))]),
]

@Test(arguments: validParserRequests)
func parsesValidRequestInOnePiece(_ testCase: ParserRequestCase) {
    #expect(parserOutcomes(testCase.bytes) == testCase.expected)
}

@Test(arguments: validParserRequests)
func everySplitPointGivesTheSameResult(_ testCase: ParserRequestCase) {
    for cut in 0...testCase.bytes.count {
        let result = parserOutcomes(testCase.bytes, cuts: [cut])
        #expect(result == testCase.expected, "split at \(cut)")
        if result != testCase.expected { return }
    }
}

@Test(arguments: validParserRequests)
func byteByByteGivesTheSameResult(_ testCase: ParserRequestCase) {
    #expect(parserOutcomesByteByByte(testCase.bytes) == testCase.expected)
}

@Test func pipelinedRequestsInOneBufferComeOutInOrder() throws {
    let first = crlf("GET /1 HTTP/1.1", "Host: example.com", "", "")
    let second = crlf("POST /2 HTTP/1.1", "Host: example.com", "Content-Length: 3", "", "abc")
    let third = crlf("PUT /3 HTTP/1.1", "Host: example.com", "Transfer-Encoding: chunked", "", "2", "hi", "0", "", "")
    let all = first + second + third
    var parser = HTTPRequestParser(limits: HTTPLimits())
    var offset = 0
    var paths: [String] = []
    for expectedLength in [first.count, second.count, third.count] {
        let (consumed, event) = all[offset...].withUnsafeBytes { parser.parse($0) }
        guard case .request(let request) = event else {
            Issue.record("expected a request, got \(event)")
            return
        }
        // `consumed` must stop exactly at the end of each request so the next one parses from the same buffer.
        #expect(consumed == expectedLength)
        paths.append(request.path)
        offset += consumed
    }
    #expect(paths == ["/1", "/2", "/3"])
    #expect(offset == all.count)
    let (consumed, event) = all[offset...].withUnsafeBytes { parser.parse($0) }
    #expect(consumed == 0)
    guard case .needMoreData = event else {
        Issue.record("expected needMoreData, got \(event)")
        return
    }
    #expect(!parser.hasPartialRequest)
}

@Test func pipelinedRequestsGiveTheSameResultAtEverySplit() {
    let all =
        crlf("GET /1 HTTP/1.1", "Host: example.com", "", "")
        + crlf("POST /2 HTTP/1.1", "Host: example.com", "Content-Length: 3", "", "abc")
        + crlf("PUT /3 HTTP/1.1", "Host: example.com", "Transfer-Encoding: chunked", "", "2", "hi", "0", "", "")
    let whole = parserOutcomes(all)
    #expect(whole.count == 3)
    for cut in 0...all.count {
        #expect(parserOutcomes(all, cuts: [cut]) == whole, "split at \(cut)")
    }
    #expect(parserOutcomesByteByByte(all) == whole)
}

@Test func randomMultiPieceSplitsGiveTheSameResult() {
    var random = ParserFuzzRandom(seed: 0x5EED)
    for testCase in validParserRequests {
        for _ in 0..<50 {
            let cuts = (0..<Int.random(in: 1...6, using: &random)).map { _ in
                Int.random(in: 0...testCase.bytes.count, using: &random)
            }.sorted()
            #expect(parserOutcomes(testCase.bytes, cuts: cuts) == testCase.expected, "\(testCase.name) cuts \(cuts)")
        }
    }
}

// MARK: - Targets and headers

@Test(
    arguments: [
        ("/", "/", nil),
        ("/a/b", "/a/b", nil),
        ("/a?", "/a", ""),
        ("/a?b=c&d", "/a", "b=c&d"),
        ("/a?b?c", "/a", "b?c"),
        ("/%E2%9C%93?q=%20", "/%E2%9C%93", "q=%20"),
    ] as [(String, String, String?)])
func splitsTargetIntoEncodedPathAndQuery(target: String, path: String, query: String?) throws {
    let result = parserOutcomes(crlf("GET \(target) HTTP/1.1", "Host: h", "", ""))
    guard case .request(let request) = result.first else {
        Issue.record("no request: \(result)")
        return
    }
    #expect(request.target == target)
    #expect(request.path == path)
    #expect(request.query == query)
}

@Test func headerLookupIgnoresCase() throws {
    var parser = HTTPRequestParser(limits: HTTPLimits())
    let bytes = crlf("GET / HTTP/1.1", "HOST: example.com", "x-Custom-HEADER: one", "X-CUSTOM-header: two", "", "")
    let (_, event) = bytes.withUnsafeBytes { parser.parse($0) }
    guard case .request(let request) = event else {
        Issue.record("expected a request, got \(event)")
        return
    }
    #expect(request.headers["host"] == "example.com")
    #expect(request.headers["X-CUSTOM-HEADER"] == "one")
    #expect(request.headers.values("x-custom-header") == ["one", "two"])
    #expect(request.headers.fields.map(\.name) == ["HOST", "x-Custom-HEADER", "X-CUSTOM-header"])
}

// MARK: - Expect: 100-continue

@Test func expectContinueIsOfferedOnceThenTheBodyIsRead() throws {
    var parser = HTTPRequestParser(limits: HTTPLimits())
    let head = crlf("POST /upload HTTP/1.1", "Host: example.com", "Content-Length: 10", "Expect: 100-continue", "", "")
    var (consumed, event) = head.withUnsafeBytes { parser.parse($0) }
    guard case .expectsContinue(let early) = event else {
        Issue.record("expected expectsContinue, got \(event)")
        return
    }
    #expect(consumed == head.count)
    #expect(early.body.isEmpty)
    #expect(early.path == "/upload")
    #expect(parser.isReadingBody)

    // No bytes yet, then part of the body: never a second expectsContinue.
    (consumed, event) = [UInt8]().withUnsafeBytes { parser.parse($0) }
    guard case .needMoreData = event else {
        Issue.record("expected needMoreData, got \(event)")
        return
    }
    (consumed, event) = Array("01234".utf8).withUnsafeBytes { parser.parse($0) }
    #expect(consumed == 5)
    guard case .needMoreData = event else {
        Issue.record("expected needMoreData, got \(event)")
        return
    }
    #expect(parser.isReadingBody)

    // The rest of the body plus the start of the next request: consumption stops at the body's end.
    let rest = Array("56789GET".utf8)
    (consumed, event) = rest.withUnsafeBytes { parser.parse($0) }
    guard case .request(let request) = event else {
        Issue.record("expected a request, got \(event)")
        return
    }
    #expect(consumed == 5)
    #expect(request.body == Array("0123456789".utf8))
    #expect(!parser.isReadingBody)
}

@Test func expectContinueComesFirstEvenWhenTheBodyIsAlreadyBuffered() {
    let bytes = crlf(
        "POST / HTTP/1.1", "Host: example.com", "Transfer-Encoding: chunked", "Expect: 100-continue", "", "1", "x", "0",
        "", "")
    let result = parserOutcomes(bytes)
    #expect(result.count == 2)
    guard case .expectsContinue(let head) = result.first, case .request(let request) = result.last else {
        Issue.record("unexpected outcomes \(result)")
        return
    }
    #expect(head.body.isEmpty)
    #expect(request.body == Array("x".utf8))
}

// MARK: - State queries

@Test func reportsPartialRequestsAndBodyReading() throws {
    var parser = HTTPRequestParser(limits: HTTPLimits())
    #expect(!parser.hasPartialRequest)
    #expect(!parser.isReadingBody)
    _ = [UInt8]().withUnsafeBytes { parser.parse($0) }
    #expect(!parser.hasPartialRequest)

    let partialHead = Array("POST / HT".utf8)
    _ = partialHead.withUnsafeBytes { parser.parse($0) }
    #expect(parser.hasPartialRequest)
    #expect(!parser.isReadingBody)

    let head = crlf("POST / HTTP/1.1", "Host: example.com", "Content-Length: 4", "", "ab")
    let (consumed, _) = head.withUnsafeBytes { parser.parse($0) }
    #expect(consumed == head.count)
    #expect(parser.isReadingBody)
    #expect(parser.hasPartialRequest)

    _ = Array("cd".utf8).withUnsafeBytes { parser.parse($0) }
    #expect(!parser.isReadingBody)
    #expect(!parser.hasPartialRequest)
}

/// A head trickling in one byte at a time must be searched once, not once per arrival.
@Test func slowHeadIsScannedInLinearTime() {
    var head = Array("GET / HTTP/1.1\r\nHost: example.com\r\n".utf8)
    for index in 0..<500 { head += Array("X-Filler-\(index): \(String(repeating: "v", count: 40))\r\n".utf8) }
    head += Array("\r\n".utf8)
    var parser = HTTPRequestParser(limits: HTTPLimits(maxHeaderBytes: 1 << 20, maxHeaderCount: 1000))
    var buffer: [UInt8] = []
    var requests = 0
    for byte in head {
        buffer.append(byte)
        let (consumed, event) = buffer.withUnsafeBytes { parser.parse($0) }
        buffer.removeFirst(consumed)
        if case .request = event { requests += 1 }
    }
    #expect(requests == 1)
    #expect(parser.headBytesExamined == head.count)
}

// MARK: - Helpers

/// SplitMix64: a fixed seed gives the same inputs on every run, so failures reproduce.
struct ParserFuzzRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
