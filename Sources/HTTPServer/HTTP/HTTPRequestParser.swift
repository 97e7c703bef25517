/// What `HTTPRequestParser.parse(_:)` found in the bytes it was given.
public enum HTTPParseEvent: Sendable {
    /// Every byte given is accounted for (kept for the head, or consumed into the body); call again with more.
    case needMoreData
    /// The head is complete, the request has `Expect: 100-continue` and a body to come (RFC 9110 §10.1.1): the
    /// caller may send `100 Continue` (only once) and call parse again. The request's body is still empty.
    case expectsContinue(HTTPRequest)
    /// A complete request, body included.
    case request(HTTPRequest)
    /// The head of a request whose route streams its body (`streamedBodies`); its body follows as `bodyData`
    /// events unless the parser is no longer `isReadingBody`. With `expectsContinue` the client waits for
    /// `100 Continue` (RFC 9110 §10.1.1) before sending it.
    case streamedRequest(HTTPRequest, expectsContinue: Bool)
    /// Body bytes of a streamed request (transfer coding removed, possibly empty); `isLast` ends the body.
    case bodyData([UInt8], isLast: Bool)
    /// The connection must answer with `error.status` and close; the parser returns this error from now on.
    case error(HTTPParseError)
}

/// An incremental HTTP/1.1 request parser (RFC 9112) for a connection that owns its read buffer.
///
/// Heads are parsed in the style of picohttpparser: nothing of a head is consumed until its empty line has
/// arrived, the caller keeps the bytes, and the parser remembers how far it has searched, so a head sent one
/// byte at a time costs O(n). Bodies are consumed as they arrive into the parser's own buffer, so a body
/// larger than the read buffer streams through.
///
/// Deliberate strictness, each closing a request-smuggling or ambiguity vector:
/// - Lines must end in CRLF; a bare LF or bare CR is 400 (RFC 9112 §2.2 allows accepting bare LF, but a
///   proxy in front that disagrees about line ends could see a different message).
/// - Obsolete line folding and whitespace before a field's colon are 400 (RFC 9112 §5.1, §5.2).
/// - Field values with control characters other than HTAB (NUL, CR, DEL, ...) are 400 (RFC 9110 §5.5).
///   Other octets are allowed; a value that is valid UTF-8 becomes that string, otherwise each octet becomes
///   the ISO-8859-1 character of the same value (RFC 9110 §5.5: obs-text), so no value is lost or rejected.
/// - `Content-Length` with `Transfer-Encoding`, or `Transfer-Encoding` in HTTP/1.0, is 400 (RFC 9112 §6.1).
///   `Transfer-Encoding` must be exactly one `chunked`: a final coding other than chunked is 400
///   (RFC 9112 §6.3), chunked after another coding (`gzip, chunked`) is 501 because request bodies are never
///   decompressed (RFC 9112 §6.1).
/// - Repeated `Content-Length` values (`5, 5` or two fields) are accepted when identical, as RFC 9110 §8.6
///   allows, since every reader sees the same length; different values are 400.
/// - Request targets are origin-form, `*` for OPTIONS, or absolute-form (RFC 9112 §3.2.2 requires servers to
///   accept it): an absolute target is reduced to its path and query, and its authority replaces the value
///   of the `Host` field so the handler sees one consistent host.
public struct HTTPRequestParser: Sendable {
    private enum Phase: Sendable {
        case head
        /// Receiving the body of the request whose head is stored here.
        case body(HTTPRequest)
        /// Receiving a streamed body: bytes are handed out as they arrive.
        case streamingBody
        case failed(HTTPParseError)
    }

    /// How far the search for the end of a head has progressed in the caller's unread bytes, which keep the
    /// same offsets between calls because nothing is consumed until the head is complete.
    private struct HeadScan: Sendable {
        /// Bytes already searched.
        var scanned = 0
        /// Start of the line being searched.
        var lineStart = 0
        /// Start of the request line, after any empty lines before it (RFC 9112 §2.2).
        var requestLineStart = 0
        /// Index of the CR ending the request line, or -1 until it arrives.
        var requestLineEnd = -1
        var fieldCount = 0
    }

    private let limits: HTTPLimits
    private let streamedBodies: (@Sendable (HTTPRequest) -> Int?)?
    private var phase = Phase.head
    private var scan = HeadScan()
    /// Body received so far; separate from `phase` so appending never copies it.
    private var body: [UInt8] = []
    /// Body bytes still to come under `Content-Length` framing.
    private var remainingLength = 0
    private var isChunked = false
    private var chunkedDecoder = ChunkedDecoder()
    /// Largest body of the current request: `maxBodyBytes`, or the route's limit for a streamed body.
    private var bodyLimit = 0
    /// Total bytes the head search has examined, so tests can prove a slow client costs O(n).
    private(set) var headBytesExamined = 0

    /// `streamedBodies` picks the requests whose bodies are streamed, and their size limit, as in
    /// `HTTPServerConfiguration.streamedBodies`.
    public init(limits: HTTPLimits = HTTPLimits(), streamedBodies: (@Sendable (HTTPRequest) -> Int?)? = nil) {
        self.limits = limits
        self.streamedBodies = streamedBodies
    }

    /// True while a request head has been parsed and its body is still being received.
    public var isReadingBody: Bool {
        switch phase {
        case .body, .streamingBody: true
        case .head, .failed: false
        }
    }

    /// True while a streamed body is being received.
    public var isStreamingBody: Bool {
        if case .streamingBody = phase { return true }
        return false
    }

    /// Body bytes still to come under `Content-Length` framing; nil for chunked bodies or outside a body.
    public var remainingBodyLength: Int? {
        guard isReadingBody, !isChunked else { return nil }
        return remainingLength
    }

    /// Whether any bytes of a next request have been seen (for idle vs. slow-header timeouts).
    public var hasPartialRequest: Bool {
        switch phase {
        case .head: scan.scanned > 0
        case .body, .streamingBody: true
        case .failed: false
        }
    }

    /// Parses from the unread bytes. `consumed` bytes must be dropped by the caller before the next call, and
    /// the rest passed again, followed by whatever arrived since; the parser keeps any partial state (e.g. a
    /// partially received chunked body) itself. After `.request` or `.expectsContinue`, call again: more
    /// pipelined requests may already be in the buffer.
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) -> (consumed: Int, event: HTTPParseEvent) {
        bytes.withMemoryRebound(to: UInt8.self) { parse(buffer: $0) }
    }

    private mutating func parse(buffer: UnsafeBufferPointer<UInt8>) -> (consumed: Int, event: HTTPParseEvent) {
        switch phase {
        case .failed(let error): return (0, .error(error))
        case .body(let head): return readBody(buffer, from: 0, head: head)
        case .streamingBody: return readStreamedBody(buffer, from: 0)
        case .head: break
        }
        let headEnd: Int
        switch scanHead(buffer) {
        case .incomplete: return (0, .needMoreData)
        case .failed(let error): return fail(error)
        case .complete(let end): headEnd = end
        }
        let head: Head
        do throws(HTTPParseError) {
            head = try parseHead(buffer, headEnd: headEnd)
        } catch {
            return fail(error)
        }
        scan = HeadScan()
        let streamLimit = streamedBodies?(head.request)
        bodyLimit = streamLimit ?? limits.maxBodyBytes
        switch head.framing {
        case .none:
            if streamLimit != nil { return (headEnd, .streamedRequest(head.request, expectsContinue: false)) }
            return (headEnd, .request(head.request))
        case .length(let length):
            if length > bodyLimit { return fail(.bodyTooLarge) }
            isChunked = false
            remainingLength = length
            // Bounded so heads that announce large bodies and never send them cannot pin memory.
            if streamLimit == nil { body.reserveCapacity(min(length, 1 << 16)) }
        case .chunked:
            isChunked = true
            chunkedDecoder = ChunkedDecoder()
        }
        if streamLimit != nil {
            phase = .streamingBody
            return (headEnd, .streamedRequest(head.request, expectsContinue: head.expectsContinue))
        }
        phase = .body(head.request)
        if head.expectsContinue { return (headEnd, .expectsContinue(head.request)) }
        return readBody(buffer, from: headEnd, head: head.request)
    }

    private mutating func fail(_ error: HTTPParseError) -> (consumed: Int, event: HTTPParseEvent) {
        phase = .failed(error)
        body = []
        return (0, .error(error))
    }

    // MARK: Head

    private enum ScanResult {
        case incomplete
        case complete(headEnd: Int)
        case failed(HTTPParseError)
    }

    /// Searches for the empty line ending the head (RFC 9112 §2.1), resuming where the last call stopped and
    /// enforcing the size limits at the first byte that breaks them, so the outcome is the same however the
    /// bytes were split.
    private mutating func scanHead(_ buffer: UnsafeBufferPointer<UInt8>) -> ScanResult {
        let count = buffer.count
        // A caller that dropped unconsumed bytes broke the contract; searching again is still safe.
        if scan.scanned > count { scan = HeadScan() }
        var index = scan.scanned
        headBytesExamined += count - index
        while true {
            // A valid head's last LF is at index maxHeaderBytes - 1 at the latest, and the request line's LF at
            // requestLineStart + maxRequestLineBytes + 1; any byte past those proves a limit is broken.
            let headLimit = limits.maxHeaderBytes
            var lineLimit = Int.max
            if scan.requestLineEnd < 0 && limits.maxRequestLineBytes < count {
                lineLimit = scan.requestLineStart + limits.maxRequestLineBytes + 2
            }
            let stop = min(count, headLimit, lineLimit)
            while index < stop && buffer[index] != .lf { index += 1 }
            if index == stop {
                scan.scanned = index
                if index == count { return .incomplete }
                return .failed(index >= lineLimit ? .requestLineTooLong : .headTooLarge)
            }
            guard index > 0, buffer[index - 1] == .cr else { return .failed(.bareLineFeed) }
            let crIndex = index - 1
            if crIndex == scan.lineStart {
                if scan.requestLineEnd >= 0 {
                    scan.scanned = index + 1
                    return .complete(headEnd: index + 1)
                }
                // RFC 9112 §2.2: ignore empty lines before the request line (clients add them after bodies).
                scan.requestLineStart = index + 1
            } else if scan.requestLineEnd < 0 {
                scan.requestLineEnd = crIndex
            } else {
                scan.fieldCount += 1
                if scan.fieldCount > limits.maxHeaderCount { return .failed(.tooManyFields) }
            }
            index += 1
            scan.lineStart = index
        }
    }

    private struct Head {
        var request: HTTPRequest
        var framing: BodyFraming
        var expectsContinue: Bool
    }

    /// Parses a complete head whose line boundaries `scanHead` has already checked.
    private func parseHead(_ buffer: UnsafeBufferPointer<UInt8>, headEnd: Int) throws(HTTPParseError) -> Head {
        // Request line (RFC 9112 §3): method SP request-target SP HTTP-version, single spaces only.
        let lineStart = scan.requestLineStart
        let lineEnd = scan.requestLineEnd
        var index = lineStart
        while index < lineEnd && buffer[index] != .space { index += 1 }
        let methodEnd = index
        guard methodEnd > lineStart, methodEnd < lineEnd else { throw .malformedRequestLine }
        let targetStart = methodEnd + 1
        index = targetStart
        while index < lineEnd && buffer[index] != .space { index += 1 }
        let targetEnd = index
        guard targetEnd > targetStart, targetEnd < lineEnd else { throw .malformedRequestLine }
        for position in lineStart..<methodEnd where !buffer[position].isToken { throw .invalidMethod }
        let version = try parseVersion(buffer, from: targetEnd + 1, to: lineEnd)
        // Methods are case-sensitive (RFC 9110 §9.1); a valid token we do not implement is 501 (RFC 9110 §15.6.2).
        guard let method = HTTPMethod(rawValue: buffer.string(lineStart, methodEnd)) else {
            throw .unsupportedMethod
        }
        let target = try parseTarget(buffer, from: targetStart, to: targetEnd, method: method)

        var fields = FieldScan(version: version, limits: limits)
        var headers = HTTPHeaders()
        var lineBegin = lineEnd + 2
        let fieldsEnd = headEnd - 2
        while lineBegin < fieldsEnd {
            var lf = lineBegin
            while lf < fieldsEnd && buffer[lf] != .lf { lf += 1 }
            let (name, value) = try fields.parseLine(buffer, from: lineBegin, to: lf - 1)
            if fields.lastWasHost, let authority = target.authority {
                // RFC 9112 §3.2.2: with an absolute-form target the Host field is replaced by its authority.
                headers.add(name, authority)
            } else {
                headers.add(name, value)
            }
            lineBegin = lf + 1
        }
        let (framing, expectsContinue) = try fields.finish()
        if fields.hostCount == 0, let authority = target.authority {
            // An HTTP/1.0 request may omit Host; the absolute target still names the host.
            headers.add("Host", authority)
        }
        let request = HTTPRequest(
            method: method, target: target.target, path: target.path, query: target.query, version: version,
            headers: headers)
        return Head(request: request, framing: framing, expectsContinue: expectsContinue)
    }

    /// `HTTP/` DIGIT `.` DIGIT (RFC 9112 §2.3; the name is case-sensitive); versions other than 1.0 and 1.1 are
    /// well-formed but unsupported.
    private func parseVersion(
        _ buffer: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int
    ) throws(HTTPParseError) -> HTTPVersion {
        guard end - start == 8, buffer.matches(start, "HTTP/"), buffer[start + 6] == UInt8(ascii: "."),
            let major = buffer[start + 5].decimalDigit, let minor = buffer[start + 7].decimalDigit
        else { throw .invalidVersion }
        guard major == 1, minor <= 1 else { throw .versionNotSupported }
        return minor == 0 ? .http1_0 : .http1_1
    }

    private struct Target {
        var target: String
        var path: String
        var query: String?
        /// The authority of an absolute-form target.
        var authority: String?
    }

    /// The request-target (RFC 9112 §3.2). Bytes must be visible ASCII other than `"`, `#`, `<` and `>`: the
    /// characters every URL serializer percent-encodes, while RFC 3986-unsafe ones such as `|`, `^` or `{` are
    /// sent raw by browsers in queries and must pass. Every `%` must start a `%XX` escape.
    private func parseTarget(
        _ buffer: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, method: HTTPMethod
    ) throws(HTTPParseError) -> Target {
        let first = buffer[start]
        if first == UInt8(ascii: "/") {
            let queryStart = try Self.validatePathAndQuery(buffer, from: start, to: end)
            return Self.splitTarget(buffer, from: start, queryStart: queryStart, to: end)
        }
        if first == UInt8(ascii: "*") && end - start == 1 {
            // asterisk-form is only for server-wide OPTIONS (RFC 9112 §3.2.4).
            guard method == .OPTIONS else { throw .invalidTarget }
            return Target(target: "*", path: "*", query: nil, authority: nil)
        }
        let schemeLength: Int
        if buffer.hasPrefixIgnoringCase(start, "http://", end: end) {
            schemeLength = 7
        } else if buffer.hasPrefixIgnoringCase(start, "https://", end: end) {
            schemeLength = 8
        } else {
            throw .invalidTarget
        }
        let authorityStart = start + schemeLength
        let authorityEnd =
            buffer[authorityStart..<end].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? end
        // RFC 9110 §4.2.1: an http(s) URI with an empty host is invalid; userinfo is rejected by the grammar
        // check because RFC 9110 §4.2.4 deprecates it as a phishing vector.
        guard authorityEnd > authorityStart,
            buffer.isValidAuthority(authorityStart, authorityEnd, allowsEmptyHost: false)
        else { throw .invalidTarget }
        let authority = buffer.string(authorityStart, authorityEnd)
        let queryStart = try Self.validatePathAndQuery(buffer, from: authorityEnd, to: end)
        var target: Target
        if authorityEnd == end || buffer[authorityEnd] == UInt8(ascii: "?") {
            // An empty path means "/" (RFC 9110 §4.2.3).
            let query = queryStart.map { buffer.string($0 + 1, end) }
            target = Target(target: "/" + buffer.string(authorityEnd, end), path: "/", query: query, authority: nil)
        } else {
            target = Self.splitTarget(buffer, from: authorityEnd, queryStart: queryStart, to: end)
        }
        target.authority = authority
        return target
    }

    /// Checks path and query bytes and returns the index of the first `?`, if any.
    private static func validatePathAndQuery(
        _ buffer: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int
    ) throws(HTTPParseError) -> Int? {
        var queryStart: Int?
        var index = start
        while index < end {
            let byte = buffer[index]
            if byte == UInt8(ascii: "%") {
                guard buffer.isPercentEscape(index, end: end) else { throw .invalidTarget }
                index += 3
                continue
            }
            guard byte.isTargetCharacter else { throw .invalidTarget }
            if byte == UInt8(ascii: "?") && queryStart == nil { queryStart = index }
            index += 1
        }
        return queryStart
    }

    private static func splitTarget(
        _ buffer: UnsafeBufferPointer<UInt8>, from start: Int, queryStart: Int?, to end: Int
    ) -> Target {
        let target = buffer.string(start, end)
        guard let queryStart else { return Target(target: target, path: target, query: nil, authority: nil) }
        return Target(
            target: target, path: buffer.string(start, queryStart), query: buffer.string(queryStart + 1, end),
            authority: nil)
    }

    // MARK: Body

    private mutating func readBody(
        _ buffer: UnsafeBufferPointer<UInt8>, from start: Int, head: HTTPRequest
    ) -> (consumed: Int, event: HTTPParseEvent) {
        if !isChunked {
            let available = min(remainingLength, buffer.count - start)
            if available > 0 {
                body.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<start + available]))
                remainingLength -= available
            }
            guard remainingLength == 0 else { return (start + available, .needMoreData) }
            return (start + available, .request(finish(head)))
        }
        switch chunkedDecoder.decode(buffer, from: start, into: &body, limit: bodyLimit, limits: limits) {
        case .needMoreData(let consumed): return (consumed, .needMoreData)
        case .complete(let consumed): return (consumed, .request(finish(head)))
        case .failed(let error): return fail(error)
        }
    }

    /// Hands out what arrived of a streamed body. Every byte given is consumed unless it belongs to the next
    /// request.
    private mutating func readStreamedBody(
        _ buffer: UnsafeBufferPointer<UInt8>, from start: Int
    ) -> (consumed: Int, event: HTTPParseEvent) {
        if !isChunked {
            let available = min(remainingLength, buffer.count - start)
            remainingLength -= available
            let data = Array(UnsafeBufferPointer(rebasing: buffer[start..<start + available]))
            if remainingLength == 0 { phase = .head }
            if data.isEmpty && remainingLength > 0 { return (start, .needMoreData) }
            return (start + available, .bodyData(data, isLast: remainingLength == 0))
        }
        var data: [UInt8] = []
        switch chunkedDecoder.decode(buffer, from: start, into: &data, limit: bodyLimit, limits: limits) {
        case .needMoreData(let consumed):
            if data.isEmpty { return (consumed, .needMoreData) }
            return (consumed, .bodyData(data, isLast: false))
        case .complete(let consumed):
            phase = .head
            return (consumed, .bodyData(data, isLast: true))
        case .failed(let error):
            return fail(error)
        }
    }

    private mutating func finish(_ head: HTTPRequest) -> HTTPRequest {
        var request = head
        request.body = body
        body = []
        phase = .head
        return request
    }
}

// MARK: - Field lines

/// Validates field lines one at a time and collects what decides the framing: Host, Content-Length,
/// Transfer-Encoding and Expect.
private struct FieldScan {
    let version: HTTPVersion
    let limits: HTTPLimits
    var lastWasHost = false
    var hostCount = 0
    var contentLength: Int?
    var hasTransferEncoding = false
    var codingCount = 0
    var chunkedCount = 0
    var finalCodingIsChunked = false
    var expectsContinue = false
    var hasOtherExpectation = false

    init(version: HTTPVersion, limits: HTTPLimits) {
        self.version = version
        self.limits = limits
    }

    /// Parses `name ":" OWS value OWS` (RFC 9112 §5) from `start` up to the line's CR at `end`.
    mutating func parseLine(
        _ buffer: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int
    ) throws(HTTPParseError) -> (name: String, value: String) {
        let first = buffer[start]
        // A line starting with whitespace is obs-fold, or whitespace after the start line (RFC 9112 §2.2, §5.2).
        guard !first.isWhitespace else { throw .obsoleteLineFolding }
        var index = start
        while index < end && buffer[index].isToken { index += 1 }
        let nameEnd = index
        guard nameEnd < end, buffer[nameEnd] == UInt8(ascii: ":"), nameEnd > start else {
            throw nameEnd > start && nameEnd < end && buffer[nameEnd].isWhitespace
                ? .whitespaceBeforeColon : .invalidFieldName
        }
        var valueStart = nameEnd + 1
        while valueStart < end && buffer[valueStart].isWhitespace { valueStart += 1 }
        var valueEnd = end
        while valueEnd > valueStart && buffer[valueEnd - 1].isWhitespace { valueEnd -= 1 }
        var isASCII = true
        for position in valueStart..<valueEnd {
            let byte = buffer[position]
            guard byte.isFieldValueCharacter else {
                throw byte == .cr ? .bareCarriageReturn : .invalidFieldValue
            }
            if byte >= 0x80 { isASCII = false }
        }
        lastWasHost = false
        try inspect(buffer, name: start, nameEnd, value: valueStart, valueEnd)
        let name = buffer.string(start, nameEnd)
        let value: String
        if isASCII || PercentDecoding.isValidUTF8(UnsafeBufferPointer(rebasing: buffer[valueStart..<valueEnd])) {
            value = buffer.string(valueStart, valueEnd)
        } else {
            var latin1 = String.UnicodeScalarView()
            for position in valueStart..<valueEnd { latin1.append(Unicode.Scalar(buffer[position])) }
            value = String(latin1)
        }
        return (name, value)
    }

    /// Records the fields that affect framing. Names are compared without making strings.
    private mutating func inspect(
        _ buffer: UnsafeBufferPointer<UInt8>, name nameStart: Int, _ nameEnd: Int, value start: Int, _ end: Int
    ) throws(HTTPParseError) {
        switch nameEnd - nameStart {
        case 4 where buffer.equalsIgnoringCase(nameStart, nameEnd, "host"):
            // RFC 9112 §3.2: exactly one Host, with a valid authority as its value.
            hostCount += 1
            guard hostCount == 1 else { throw .duplicateHost }
            guard buffer.isValidAuthority(start, end, allowsEmptyHost: true) else { throw .invalidHost }
            lastWasHost = true
        case 14 where buffer.equalsIgnoringCase(nameStart, nameEnd, "content-length"):
            try buffer.forEachListElement(start, end, skippingEmpty: false) { (from, to) throws(HTTPParseError) in
                let length = try Self.parseContentLength(buffer, from: from, to: to)
                guard contentLength == nil || contentLength == length else { throw .conflictingContentLength }
                contentLength = length
            }
        case 17 where buffer.equalsIgnoringCase(nameStart, nameEnd, "transfer-encoding"):
            hasTransferEncoding = true
            // Empty list elements are ignored (RFC 9110 §5.6.1).
            try buffer.forEachListElement(start, end, skippingEmpty: true) { (from, to) throws(HTTPParseError) in
                var tokenEnd = from
                while tokenEnd < to && buffer[tokenEnd].isToken { tokenEnd += 1 }
                guard tokenEnd > from else { throw .invalidTransferEncoding }
                codingCount += 1
                finalCodingIsChunked = tokenEnd == to && buffer.equalsIgnoringCase(from, to, "chunked")
                if finalCodingIsChunked { chunkedCount += 1 }
            }
        case 6 where buffer.equalsIgnoringCase(nameStart, nameEnd, "expect"):
            buffer.forEachListElement(start, end, skippingEmpty: true) { from, to in
                if buffer.equalsIgnoringCase(from, to, "100-continue") {
                    expectsContinue = true
                } else {
                    hasOtherExpectation = true
                }
            }
        default:
            break
        }
    }

    /// `1*DIGIT` (RFC 9110 §8.6), saturating instead of overflowing: any value that large is over the limit.
    private static func parseContentLength(
        _ buffer: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int
    ) throws(HTTPParseError) -> Int {
        guard start < end else { throw .invalidContentLength }
        var value = 0
        for position in start..<end {
            guard let digit = buffer[position].decimalDigit else { throw .invalidContentLength }
            value = value <= (Int.max - 9) / 10 ? value * 10 + Int(digit) : Int.max
        }
        return value
    }

    /// Decides the body framing once every field is seen (RFC 9112 §6.3) and whether to offer 100 Continue.
    func finish() throws(HTTPParseError) -> (framing: BodyFraming, expectsContinue: Bool) {
        if version == .http1_1 && hostCount == 0 { throw .missingHost }
        var framing = BodyFraming.none
        if hasTransferEncoding {
            guard version == .http1_1 else { throw .transferEncodingOnHTTP10 }
            guard contentLength == nil else { throw .contentLengthWithTransferEncoding }
            // RFC 9112 §6.3: chunked must be the final coding, and it is never applied twice (RFC 9112 §7).
            guard finalCodingIsChunked, chunkedCount == 1 else { throw .invalidTransferEncoding }
            guard codingCount == 1 else { throw .unsupportedTransferCoding }
            framing = .chunked
        } else if let contentLength, contentLength > 0 {
            framing = .length(contentLength)
        }
        // RFC 9110 §10.1.1: other expectations may be refused with 417.
        if hasOtherExpectation { throw .unsupportedExpectation }
        // A 100-continue in HTTP/1.0 must be ignored (RFC 9110 §10.1.1), and there is nothing to wait for
        // without a body.
        let wantsContinue: Bool
        if case .none = framing {
            wantsContinue = false
        } else {
            wantsContinue = expectsContinue && version == .http1_1
        }
        return (framing, wantsContinue)
    }
}

/// How the end of a request body is found (RFC 9112 §6.3).
private enum BodyFraming {
    case none
    case length(Int)
    case chunked
}

// MARK: - Chunked transfer coding

/// Decodes the chunked transfer coding (RFC 9112 §7.1) byte by byte for the framing and in bulk for chunk
/// data, consuming everything it is given, so nothing is ever searched twice.
private struct ChunkedDecoder: Sendable {
    private enum State {
        /// At the first hex digit of a chunk-size.
        case sizeStart
        case size
        /// After whitespace following the size: only more whitespace or `;` may follow (BWS, RFC 9112 §7.1.1).
        case sizeWhitespace
        /// Inside chunk extensions, which are ignored.
        case extensions
        case sizeLF
        case data
        case dataCR
        case dataLF
        /// At the start of a trailer field line or of the final empty line (RFC 9112 §7.1.2).
        case trailerLineStart
        case trailerName
        case trailerValue
        case trailerLF
        case finalLF
    }

    enum Result {
        case needMoreData(consumed: Int)
        case complete(consumed: Int)
        case failed(HTTPParseError)
    }

    private var state = State.sizeStart
    /// The chunk-size being read, then the bytes of its data still to come.
    private var chunkSize = 0
    private var lineBytes = 0
    private var trailerBytes = 0
    private var trailerCount = 0
    /// Data bytes decoded so far, for the body limit.
    private var decodedBytes = 0

    mutating func decode(
        _ buffer: UnsafeBufferPointer<UInt8>, from start: Int, into body: inout [UInt8], limit: Int,
        limits: HTTPLimits
    ) -> Result {
        var index = start
        let count = buffer.count
        while index < count {
            if case .data = state {
                let available = min(chunkSize, count - index)
                body.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[index..<index + available]))
                decodedBytes += available
                chunkSize -= available
                index += available
                if chunkSize == 0 { state = .dataCR }
                continue
            }
            let byte = buffer[index]
            index += 1
            switch state {
            case .sizeStart, .size, .sizeWhitespace, .extensions:
                if byte != .cr {
                    lineBytes += 1
                    guard lineBytes <= limits.maxChunkLineBytes else { return .failed(.chunkLineTooLong) }
                }
            case .trailerLineStart, .trailerName, .trailerValue, .trailerLF, .finalLF:
                trailerBytes += 1
                guard trailerBytes <= limits.maxHeaderBytes else { return .failed(.trailerTooLarge) }
            case .sizeLF, .data, .dataCR, .dataLF:
                break
            }
            switch state {
            case .sizeStart:
                guard let digit = byte.hexDigit else { return .failed(.invalidChunkSize) }
                chunkSize = 0
                guard append(digit, limit: limit) else { return .failed(.bodyTooLarge) }
                state = .size
            case .size:
                if let digit = byte.hexDigit {
                    guard append(digit, limit: limit) else { return .failed(.bodyTooLarge) }
                } else if byte == UInt8(ascii: ";") {
                    state = .extensions
                } else if byte.isWhitespace {
                    state = .sizeWhitespace
                } else if byte == .cr {
                    state = .sizeLF
                } else {
                    return .failed(byte == .lf ? .bareLineFeed : .invalidChunkSize)
                }
            case .sizeWhitespace:
                if byte == UInt8(ascii: ";") {
                    state = .extensions
                } else if !byte.isWhitespace {
                    return .failed(.invalidChunkSize)
                }
            case .extensions:
                if byte == .cr {
                    state = .sizeLF
                } else if !byte.isFieldValueCharacter {
                    return .failed(.invalidChunkExtension)
                }
            case .sizeLF:
                guard byte == .lf else { return .failed(.bareCarriageReturn) }
                lineBytes = 0
                state = chunkSize == 0 ? .trailerLineStart : .data
            case .data:
                break
            case .dataCR:
                guard byte == .cr else { return .failed(.missingChunkTerminator) }
                state = .dataLF
            case .dataLF:
                guard byte == .lf else { return .failed(.missingChunkTerminator) }
                state = .sizeStart
            case .trailerLineStart:
                if byte == .cr {
                    state = .finalLF
                } else if byte == .lf {
                    return .failed(.bareLineFeed)
                } else if byte.isToken {
                    trailerCount += 1
                    guard trailerCount <= limits.maxHeaderCount else { return .failed(.tooManyFields) }
                    state = .trailerName
                } else {
                    // Includes obs-fold: a trailer line starting with whitespace.
                    return .failed(.invalidTrailer)
                }
            case .trailerName:
                if byte == UInt8(ascii: ":") {
                    state = .trailerValue
                } else if !byte.isToken {
                    return .failed(.invalidTrailer)
                }
            case .trailerValue:
                if byte == .cr {
                    state = .trailerLF
                } else if !byte.isFieldValueCharacter {
                    return .failed(.invalidTrailer)
                }
            case .trailerLF:
                guard byte == .lf else { return .failed(.bareCarriageReturn) }
                state = .trailerLineStart
            case .finalLF:
                guard byte == .lf else { return .failed(.bareCarriageReturn) }
                // Trailer fields are dropped: nothing in this server reads them (RFC 9110 §6.5.1 allows it).
                return .complete(consumed: index)
            }
        }
        return .needMoreData(consumed: index)
    }

    /// Appends a hex digit to the chunk-size unless the decoded body would exceed `limit`, checked before it
    /// can overflow however many digits are sent.
    private mutating func append(_ digit: UInt8, limit: Int) -> Bool {
        let budget = limit - decodedBytes - Int(digit)
        guard budget >= 0, chunkSize <= budget / 16 else { return false }
        chunkSize = chunkSize * 16 + Int(digit)
        return true
    }
}

// MARK: - Bytes

extension UInt8 {
    fileprivate static let cr = UInt8(ascii: "\r")
    fileprivate static let lf = UInt8(ascii: "\n")
    fileprivate static let space = UInt8(ascii: " ")

    /// tchar (RFC 9110 §5.6.2).
    fileprivate var isToken: Bool {
        switch self {
        case 0x21, 0x23...0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x30...0x39, 0x41...0x5A, 0x5E...0x7A, 0x7C, 0x7E: true
        default: false
        }
    }

    /// SP or HTAB (RFC 9110 §5.6.3).
    fileprivate var isWhitespace: Bool { self == 0x20 || self == 0x09 }

    /// field-vchar, SP or HTAB (RFC 9110 §5.5): every octet except controls and DEL.
    fileprivate var isFieldValueCharacter: Bool { self == 0x09 || (self >= 0x20 && self != 0x7F) }

    /// A request-target byte other than `%` (see `parseTarget`).
    fileprivate var isTargetCharacter: Bool {
        switch self {
        case UInt8(ascii: "\""), UInt8(ascii: "#"), UInt8(ascii: "%"), UInt8(ascii: "<"), UInt8(ascii: ">"): false
        case 0x21...0x7E: true
        default: false
        }
    }

    /// unreserved or sub-delims (RFC 3986 §2.2, §2.3): a reg-name byte other than `%`.
    fileprivate var isRegNameCharacter: Bool {
        switch self {
        case 0x21, 0x24, 0x26...0x2E, 0x30...0x39, 0x3B, 0x3D, 0x41...0x5A, 0x5F, 0x61...0x7A, 0x7E: true
        default: false
        }
    }

    fileprivate var decimalDigit: UInt8? {
        let value = self &- UInt8(ascii: "0")
        return value < 10 ? value : nil
    }

    fileprivate var hexDigit: UInt8? { PercentDecoding.hexValue(self) }

    fileprivate var lowercasedASCII: UInt8 { self &- UInt8(ascii: "A") < 26 ? self | 0x20 : self }
}

extension UnsafeBufferPointer<UInt8> {
    /// The bytes in `start..<end` as a string; callers pass validated ASCII or valid UTF-8.
    fileprivate func string(_ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: self[start..<end]), as: UTF8.self)
    }

    /// Whether the bytes at `start` are exactly `literal` (ASCII).
    fileprivate func matches(_ start: Int, _ literal: StaticString) -> Bool {
        literal.withUTF8Buffer { expected in
            guard start + expected.count <= count else { return false }
            for offset in 0..<expected.count where self[start + offset] != expected[offset] { return false }
            return true
        }
    }

    /// Whether the bytes from `start` (before `end`) begin with `lowercase`, ignoring ASCII case.
    fileprivate func hasPrefixIgnoringCase(_ start: Int, _ lowercase: StaticString, end: Int) -> Bool {
        lowercase.withUTF8Buffer { expected in
            guard start + expected.count <= end else { return false }
            for offset in 0..<expected.count where self[start + offset].lowercasedASCII != expected[offset] {
                return false
            }
            return true
        }
    }

    /// Whether `start..<end` is exactly `lowercase`, ignoring ASCII case.
    fileprivate func equalsIgnoringCase(_ start: Int, _ end: Int, _ lowercase: StaticString) -> Bool {
        end - start == lowercase.utf8CodeUnitCount && hasPrefixIgnoringCase(start, lowercase, end: end)
    }

    /// Whether a `%` at `index` is followed by two hex digits before `end` (RFC 3986 §2.1).
    fileprivate func isPercentEscape(_ index: Int, end: Int) -> Bool {
        index + 2 < end && self[index + 1].hexDigit != nil && self[index + 2].hexDigit != nil
    }

    /// `uri-host [":" port]` (RFC 3986 §3.2.2, §3.2.3): a bracketed IP literal or a reg-name, then digits.
    fileprivate func isValidAuthority(_ start: Int, _ end: Int, allowsEmptyHost: Bool) -> Bool {
        var index = start
        if index < end && self[index] == UInt8(ascii: "[") {
            index += 1
            let literalStart = index
            while index < end && self[index] != UInt8(ascii: "]") {
                // IPv6 and IPvFuture use only unreserved, sub-delims and ':'.
                guard self[index].isRegNameCharacter || self[index] == UInt8(ascii: ":") else { return false }
                index += 1
            }
            guard index < end, index > literalStart else { return false }
            index += 1
        } else {
            let hostStart = index
            while index < end && self[index] != UInt8(ascii: ":") {
                if self[index] == UInt8(ascii: "%") {
                    guard isPercentEscape(index, end: end) else { return false }
                    index += 3
                } else {
                    guard self[index].isRegNameCharacter else { return false }
                    index += 1
                }
            }
            guard index > hostStart || allowsEmptyHost else { return false }
        }
        guard index < end else { return true }
        guard self[index] == UInt8(ascii: ":") else { return false }
        for position in (index + 1)..<end where self[position].decimalDigit == nil { return false }
        return true
    }

    /// Calls `body` with the bounds of each element of the comma-separated list in `start..<end`, without
    /// surrounding whitespace (RFC 9110 §5.6.1).
    fileprivate func forEachListElement<E: Error>(
        _ start: Int, _ end: Int, skippingEmpty: Bool, _ body: (Int, Int) throws(E) -> Void
    ) throws(E) {
        var elementStart = start
        for index in start...end where index == end || self[index] == UInt8(ascii: ",") {
            var from = elementStart
            var to = index
            while from < to && self[from].isWhitespace { from += 1 }
            while to > from && self[to - 1].isWhitespace { to -= 1 }
            elementStart = index + 1
            if from == to && skippingEmpty { continue }
            try body(from, to)
        }
    }
}
