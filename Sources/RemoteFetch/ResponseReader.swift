/// Reads an HTTP/1.1 response (RFC 9112) from a ``FetchConnection``: the head, then the body by its framing
/// (chunked, Content-Length, or until the connection closes), in pieces handed to a sink.
struct ResponseReader {
    struct Head {
        var status: Int
        var reason: String
        /// Names lowercased, in order.
        var headers: [(name: String, value: String)]

        func value(_ name: String) -> String? { headers.last { $0.name == name }?.value }
        func values(_ name: String) -> [String] { headers.filter { $0.name == name }.map(\.value) }
    }

    static let maxHeadBytes = 32 * 1024
    static let maxHeaders = 100

    private let connection: FetchConnection
    private var buffer: [UInt8] = []
    private var start = 0
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)

    init(_ connection: FetchConnection) {
        self.connection = connection
    }

    /// Reads the head of the final response, skipping any 1xx interim ones (RFC 9110 §15.2).
    mutating func readHead() throws(FetchError) -> Head {
        // One budget for the final head and any interim ones before it: a remote sending 1xx heads forever runs
        // out of it (and of the deadline).
        var budget = Self.maxHeadBytes
        while true {
            let statusLine = try readLine(budget: &budget)
            let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3,
                let status = Int(parts[1]), (100...599).contains(status)
            else { throw .badResponse("status line \(statusLine.prefix(64))") }
            var head = Head(status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: [])
            while true {
                let line = try readLine(budget: &budget)
                if line.isEmpty { break }
                guard head.headers.count < Self.maxHeaders else { throw .badResponse("too many header fields") }
                guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                    line[..<colon].utf8.allSatisfy(Self.isTokenByte)
                else { throw .badResponse("header line \(line.prefix(64))") }
                let value = line[line.index(after: colon)...].trimmingSpacesAndTabs
                head.headers.append((line[..<colon].lowercased(), value))
            }
            if status >= 200 || status == 101 { return head }
        }
    }

    /// Hands the body to `sink` piece by piece; throws ``FetchError/tooLarge(_:)`` past `limit` bytes.
    mutating func readBody(
        _ head: Head, limit: Int64, into sink: ([UInt8]) throws -> Void
    ) throws -> Int64 {
        if head.status == 204 || head.status == 304 { return 0 }
        let encodings = head.values("content-encoding").joined(separator: ",").split(separator: ",")
            .map { $0.trimmingSpacesAndTabs.lowercased() }
        if let encoding = encodings.first(where: { $0 != "identity" && !$0.isEmpty }) {
            throw FetchError.badResponse("Content-Encoding \(encoding.prefix(32)) is not supported")
        }
        let transferCodings = head.values("transfer-encoding").joined(separator: ",")
            .split(separator: ",").map { $0.trimmingSpacesAndTabs.lowercased() }
        if let last = transferCodings.last {
            // RFC 9112 §6.3: chunked last means chunks; any other coding means the body ends with the connection.
            return last == "chunked"
                ? try readChunked(limit: limit, into: sink) : try readUntilClose(limit: limit, into: sink)
        }
        let lengths = Set(
            head.values("content-length").flatMap { $0.split(separator: ",") }.map(\.trimmingSpacesAndTabs))
        if let text = lengths.first {
            guard lengths.count == 1, !text.isEmpty, text.count <= 18, text.allSatisfy(\.isNumber),
                let length = Int64(text)
            else { throw FetchError.badResponse("Content-Length \(text.prefix(32))") }
            guard length <= limit else { throw FetchError.tooLarge(limit) }
            try readExactly(length, into: sink)
            return length
        }
        return try readUntilClose(limit: limit, into: sink)
    }

    private mutating func readChunked(limit: Int64, into sink: ([UInt8]) throws -> Void) throws -> Int64 {
        var total: Int64 = 0
        while true {
            var budget = 256  // a size and short extensions; long ones would multiply the bytes read per byte kept
            let line = try readLine(budget: &budget)
            let sizeText = line.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
                .trimmingSpacesAndTabs
            guard !sizeText.isEmpty, sizeText.count <= 15, sizeText.allSatisfy(\.isHexDigit),
                let size = Int64(sizeText, radix: 16)
            else { throw FetchError.badResponse("chunk size \(line.prefix(32))") }
            if size == 0 { break }
            total += size
            guard total <= limit else { throw FetchError.tooLarge(limit) }
            try readExactly(size, into: sink)
            guard try readLine(budget: &budget).isEmpty else {
                throw FetchError.badResponse("chunk not followed by CRLF")
            }
        }
        var budget = Self.maxHeadBytes
        while try !readLine(budget: &budget).isEmpty {}  // trailer fields: not used
        return total
    }

    private mutating func readExactly(_ count: Int64, into sink: ([UInt8]) throws -> Void) throws {
        var left = count
        while left > 0 {
            if start == buffer.count, try !fill() { throw FetchError.badResponse("the body ended early") }
            let take = Int(min(Int64(buffer.count - start), left))
            try sink(Array(buffer[start..<start + take]))
            start += take
            left -= Int64(take)
        }
    }

    private mutating func readUntilClose(limit: Int64, into sink: ([UInt8]) throws -> Void) throws -> Int64 {
        var total: Int64 = 0
        while true {
            if start == buffer.count, try !fill() {
                // Only the end of the stream delimits this body: over TLS it must be a real close_notify.
                guard !connection.endedUncleanly else {
                    throw FetchError.badResponse("the TLS connection ended without close_notify; the body may be cut")
                }
                return total
            }
            total += Int64(buffer.count - start)
            guard total <= limit else { throw FetchError.tooLarge(limit) }
            try sink(Array(buffer[start...]))
            start = buffer.count
        }
    }

    /// A line without its CRLF (a bare LF is tolerated, RFC 9112 §2.2), counted against `budget`.
    private mutating func readLine(budget: inout Int) throws(FetchError) -> String {
        var scanned = start
        while true {
            if let newline = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                guard newline + 1 - start <= budget else { throw .badResponse("a line longer than \(budget) bytes") }
                var end = newline
                if end > start, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = String(decoding: buffer[start..<end], as: UTF8.self)
                budget -= newline + 1 - start
                start = newline + 1
                return line
            }
            guard buffer.count - start < budget else { throw .badResponse("a line longer than \(budget) bytes") }
            scanned = buffer.count
            let consumed = start  // fill() drops these from the front
            guard try fill() else { throw .badResponse("the connection closed mid-response") }
            scanned -= consumed
        }
    }

    /// Appends what the connection has (compacting consumed bytes first); false at the end of the stream.
    private mutating func fill() throws(FetchError) -> Bool {
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        let count = try connection.read(into: &scratch)
        if count == 0 { return false }
        buffer.append(contentsOf: scratch[0..<count])
        return true
    }
}

extension ResponseReader {
    /// RFC 9110 §5.6.2 `tchar`: what a field name is made of.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (HTTP's OWS, RFC 9110 §5.6.3).
    var trimmingSpacesAndTabs: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
