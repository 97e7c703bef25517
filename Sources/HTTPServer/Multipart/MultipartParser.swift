/// An incremental `multipart/form-data` parser (RFC 7578 over the syntax of RFC 2046 §5.1.1).
///
/// Feed the body in pieces of any size; each call returns the events those bytes completed. Part content is
/// emitted as it arrives: the parser holds back only a tail that could begin a delimiter (at most the
/// boundary's length plus 3 bytes) and a part's header section (at most `maxHeaderBytes`), so a file part of
/// any size passes through in bounded memory.
///
/// The body is read as if it began with CRLF, so a first boundary at the very start and one after a preamble
/// look alike; the preamble and the epilogue are ignored. Strictness: a delimiter must be followed by
/// transport padding and CRLF, or by `--` (RFC 2046 §5.1.1; a boundary never occurs inside content), header
/// lines end in CRLF and are not folded, and every part needs `Content-Disposition: form-data` with a `name`
/// (RFC 7578 §4.2).
public struct MultipartParser: Sendable {
    private enum State: Sendable {
        case preamble
        /// Just after a delimiter: `--`, or padding and CRLF.
        case afterDelimiter
        case headers
        case body
        case epilogue
        case failed(MultipartError)
    }

    /// CRLF "--" boundary (RFC 2046 §5.1.1 `delimiter`).
    private let delimiter: [UInt8]
    private let limits: MultipartLimits
    private let boundaryIsValid: Bool
    private var state = State.preamble
    /// Unprocessed bytes kept between calls: a possible delimiter prefix, or a partial line or header section.
    private var pending: [UInt8] = Array("\r\n".utf8)
    private var parts = 0

    /// `boundary` as sent in the `Content-Type` (see `boundary(fromContentType:)`); an invalid one makes the
    /// first `feed` throw.
    public init(boundary: String, limits: MultipartLimits = MultipartLimits()) {
        delimiter = Array("\r\n--".utf8) + Array(boundary.utf8)
        self.limits = limits
        boundaryIsValid = Self.isValidBoundary(boundary)
    }

    /// Whether the closing boundary has been seen.
    public var isFinished: Bool {
        if case .epilogue = state { return true }
        return false
    }

    /// Parses the next bytes of the body and returns the events they complete.
    public mutating func feed(_ bytes: [UInt8]) throws(MultipartError) -> [MultipartEvent] {
        try feed(contentsOf: bytes)
    }

    /// Parses the next bytes of the body and returns the events they complete.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(MultipartError) -> [MultipartEvent] {
        try feed(contentsOf: bytes)
    }

    private mutating func feed(contentsOf bytes: some Collection<UInt8>) throws(MultipartError) -> [MultipartEvent] {
        if case .failed(let error) = state { throw error }
        guard boundaryIsValid else { throw fail(.invalidBoundary) }
        if case .epilogue = state { return [] }
        var work = pending
        work.append(contentsOf: bytes)
        pending = []
        var events: [MultipartEvent] = []
        do throws(MultipartError) {
            try work.withUnsafeBufferPointer { (buffer) throws(MultipartError) in
                try process(buffer, into: &events)
            }
        } catch {
            throw fail(error)
        }
        return events
    }

    /// Declares the end of the body: throws unless the closing boundary was seen.
    public mutating func finish() throws(MultipartError) {
        switch state {
        case .epilogue: return
        case .failed(let error): throw error
        default: throw fail(boundaryIsValid ? .truncated : .invalidBoundary)
        }
    }

    private mutating func fail(_ error: MultipartError) -> MultipartError {
        state = .failed(error)
        pending = []
        return error
    }

    private mutating func process(
        _ buffer: UnsafeBufferPointer<UInt8>, into events: inout [MultipartEvent]
    ) throws(MultipartError) {
        let count = buffer.count
        var index = 0
        while true {
            switch state {
            case .failed, .epilogue:
                return
            case .preamble, .body:
                let isBody: Bool
                if case .body = state { isBody = true } else { isBody = false }
                if let match = firstDelimiter(in: buffer, from: index) {
                    if isBody {
                        if match > index { events.append(.partData(Array(buffer[index..<match]))) }
                        events.append(.partEnd)
                    }
                    index = match + delimiter.count
                    state = .afterDelimiter
                } else {
                    let held = heldBack(buffer, from: index)
                    if isBody && count - held > index { events.append(.partData(Array(buffer[index..<count - held]))) }
                    pending = Array(buffer[(count - held)...])
                    return
                }
            case .afterDelimiter:
                guard let next = try afterDelimiter(buffer, from: index, events: &events) else {
                    pending = Array(buffer[index...])
                    return
                }
                index = next
            case .headers:
                guard let next = try headerSection(buffer, from: index, events: &events) else {
                    pending = Array(buffer[index...])
                    return
                }
                index = next
            }
        }
    }

    /// After a delimiter: `--` ends the body; otherwise transport padding and CRLF start a part. Returns where
    /// parsing continues, or nil when more bytes are needed.
    private mutating func afterDelimiter(
        _ buffer: UnsafeBufferPointer<UInt8>, from start: Int, events: inout [MultipartEvent]
    ) throws(MultipartError) -> Int? {
        let count = buffer.count
        guard start < count else { return nil }
        if buffer[start] == .dash {
            guard start + 1 < count else { return nil }
            guard buffer[start + 1] == .dash else { throw .malformedDelimiter }
            state = .epilogue
            events.append(.end)
            return count
        }
        var index = start
        while index < count && (buffer[index] == .space || buffer[index] == .tab) { index += 1 }
        if index - start > limits.maxHeaderBytes { throw .malformedDelimiter }
        guard index < count else { return nil }
        guard buffer[index] == .cr else { throw .malformedDelimiter }
        guard index + 1 < count else { return nil }
        guard buffer[index + 1] == .lf else { throw .malformedDelimiter }
        state = .headers
        return index + 2
    }

    /// A part's header section up to its empty line (RFC 2046 §5.1.1 `MIME-part-headers`). Returns where its
    /// content starts, or nil when more bytes are needed.
    private mutating func headerSection(
        _ buffer: UnsafeBufferPointer<UInt8>, from start: Int, events: inout [MultipartEvent]
    ) throws(MultipartError) -> Int? {
        let count = buffer.count
        var end: Int?
        if count - start >= 2 && buffer[start] == .cr && buffer[start + 1] == .lf {
            end = start + 2  // no header fields at all
        } else {
            var index = start
            while index + 3 < count {
                if buffer[index] == .cr && buffer[index + 1] == .lf && buffer[index + 2] == .cr
                    && buffer[index + 3] == .lf
                {
                    end = index + 4
                    break
                }
                index += 1
            }
        }
        guard let end else {
            if count - start >= limits.maxHeaderBytes { throw .headersTooLarge }
            return nil
        }
        guard end - start <= limits.maxHeaderBytes else { throw .headersTooLarge }
        parts += 1
        guard parts <= limits.maxParts else { throw .tooManyParts }
        events.append(.partStart(try Self.parseHeaders(buffer, from: start, to: end - 2)))
        state = .body
        return end
    }

    /// The first complete delimiter at or after `start`.
    private func firstDelimiter(in buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        let length = delimiter.count
        var index = start
        while index + length <= buffer.count {
            if buffer[index] == .cr {
                var matched = 1
                while matched < length && buffer[index + matched] == delimiter[matched] { matched += 1 }
                if matched == length { return index }
            }
            index += 1
        }
        return nil
    }

    /// How many bytes at the end of `buffer` (after `start`) could begin a delimiter: they wait for the next
    /// call instead of being emitted.
    private func heldBack(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let available = buffer.count - start
        var length = min(delimiter.count - 1, available)
        while length > 0 {
            let from = buffer.count - length
            if buffer[from] == .cr {
                var offset = 1
                while offset < length && buffer[from + offset] == delimiter[offset] { offset += 1 }
                if offset == length { return length }
            }
            length -= 1
        }
        return 0
    }

    // MARK: Headers

    /// Field lines `name ":" OWS value OWS CRLF` (RFC 2046 §5.1, RFC 5322 §2.2 without folding) in
    /// `start..<end`, where `end` is just past the last line's CRLF.
    private static func parseHeaders(
        _ buffer: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int
    ) throws(MultipartError) -> MultipartPartHeaders {
        var headers = HTTPHeaders()
        var lineStart = start
        while lineStart < end {
            var lineEnd = lineStart
            while lineEnd < end && buffer[lineEnd] != .cr && buffer[lineEnd] != .lf { lineEnd += 1 }
            // Every line ends in CRLF: the section was cut at an empty line, so the CR is in range.
            guard lineEnd + 1 < end, buffer[lineEnd] == .cr, buffer[lineEnd + 1] == .lf else {
                throw .malformedHeaders
            }
            var colon = lineStart
            while colon < lineEnd && buffer[colon].isToken { colon += 1 }
            guard colon > lineStart, colon < lineEnd, buffer[colon] == .colon else { throw .malformedHeaders }
            var valueStart = colon + 1
            var valueEnd = lineEnd
            while valueStart < valueEnd && buffer[valueStart].isWhitespace { valueStart += 1 }
            while valueEnd > valueStart && buffer[valueEnd - 1].isWhitespace { valueEnd -= 1 }
            for position in valueStart..<valueEnd {
                let byte = buffer[position]
                guard byte == .tab || (byte >= 0x20 && byte != 0x7F) else { throw .malformedHeaders }
            }
            let name = String(decoding: UnsafeBufferPointer(rebasing: buffer[lineStart..<colon]), as: UTF8.self)
            headers.add(name, Self.text(UnsafeBufferPointer(rebasing: buffer[valueStart..<valueEnd])))
            lineStart = lineEnd + 2
        }
        guard let disposition = headers["Content-Disposition"],
            let parsed = HeaderParameters(disposition),
            parsed.value.lowercased() == "form-data",
            let name = parsed["name"]
        else { throw .missingName }
        return MultipartPartHeaders(
            name: name, filename: parsed["filename"], contentType: headers["Content-Type"], headers: headers)
    }

    /// UTF-8 as such (browsers send file names raw, RFC 7578 §5.1.3), any other octets as ISO-8859-1.
    private static func text(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        if PercentDecoding.isValidUTF8(bytes) { return String(decoding: bytes, as: UTF8.self) }
        var latin1 = String.UnicodeScalarView()
        for byte in bytes { latin1.append(Unicode.Scalar(byte)) }
        return String(latin1)
    }

    // MARK: Boundary

    /// The `boundary` parameter of a `multipart/*` media type (RFC 2046 §5.1.1, RFC 7578 §4.1), quoted or not;
    /// nil for other types and for boundaries that break RFC 2046's grammar (1–70 `bchars`, no trailing space).
    public static func boundary(fromContentType contentType: String) -> String? {
        guard let parsed = HeaderParameters(contentType),
            parsed.value.lowercased().hasPrefix("multipart/"),
            let boundary = parsed["boundary"],
            isValidBoundary(boundary)
        else { return nil }
        return boundary
    }

    private static func isValidBoundary(_ boundary: String) -> Bool {
        let bytes = Array(boundary.utf8)
        guard (1...70).contains(bytes.count), bytes.last != .space else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "A")...UInt8(ascii: "Z"):
                true
            case UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "+"), UInt8(ascii: "_"),
                UInt8(ascii: ","), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: ":"),
                UInt8(ascii: "="), UInt8(ascii: "?"), UInt8(ascii: " "):
                true
            default:
                false
            }
        }
    }
}

/// A header value of the form `value *( OWS ";" OWS name "=" ( token / quoted-string ) )` (RFC 9110 §5.6.6),
/// as `Content-Type` and `Content-Disposition` (RFC 6266 §4.1) use it.
struct HeaderParameters {
    var value: String
    var parameters: [(name: String, value: String)] = []

    /// Parses `text`; nil when it is malformed.
    init?(_ text: String) {
        var scalars = Substring(text).unicodeScalars[...]
        func skipWhitespace() { while let c = scalars.first, c == " " || c == "\t" { scalars.removeFirst() } }
        func token() -> String {
            var result = String.UnicodeScalarView()
            while let c = scalars.first, c.isASCII, UInt8(c.value).isToken || c == "/" {
                result.append(c)
                scalars.removeFirst()
            }
            return String(result)
        }
        skipWhitespace()
        value = token()
        guard !value.isEmpty else { return nil }
        skipWhitespace()
        while let c = scalars.first {
            guard c == ";" else { return nil }
            scalars.removeFirst()
            skipWhitespace()
            if scalars.isEmpty { break }  // a trailing ";" is harmless
            let name = token()
            guard !name.isEmpty, scalars.first == "=" else { return nil }
            scalars.removeFirst()
            var parameterValue = String.UnicodeScalarView()
            if scalars.first == "\"" {
                // quoted-string with quoted-pair (RFC 9110 §5.6.4).
                scalars.removeFirst()
                var closed = false
                while let c = scalars.popFirst() {
                    if c == "\"" {
                        closed = true
                        break
                    }
                    if c == "\\" {
                        guard let escaped = scalars.popFirst() else { return nil }
                        parameterValue.append(escaped)
                    } else {
                        parameterValue.append(c)
                    }
                }
                guard closed else { return nil }
            } else {
                while let c = scalars.first, c.isASCII, UInt8(c.value).isToken {
                    parameterValue.append(c)
                    scalars.removeFirst()
                }
                guard !parameterValue.isEmpty else { return nil }
            }
            parameters.append((name.lowercased(), String(parameterValue)))
            skipWhitespace()
        }
    }

    /// The first value of parameter `name` (names ignore case).
    subscript(name: String) -> String? {
        let lowered = name.lowercased()
        return parameters.first { $0.name == lowered }?.value
    }
}

extension UInt8 {
    fileprivate static let cr = UInt8(ascii: "\r")
    fileprivate static let lf = UInt8(ascii: "\n")
    fileprivate static let dash = UInt8(ascii: "-")
    fileprivate static let space = UInt8(ascii: " ")
    fileprivate static let tab = UInt8(ascii: "\t")
    fileprivate static let colon = UInt8(ascii: ":")

    /// SP or HTAB.
    fileprivate var isWhitespace: Bool { self == .space || self == .tab }

    /// tchar (RFC 9110 §5.6.2).
    fileprivate var isToken: Bool {
        switch self {
        case 0x21, 0x23...0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x30...0x39, 0x41...0x5A, 0x5E...0x7A, 0x7C, 0x7E: true
        default: false
        }
    }
}
