/// A resolved, non-empty byte range of a representation: `length` bytes starting at `offset` (RFC 9110 §14.1.2).
public struct ByteRange: Sendable, Hashable {
    public var offset: Int
    public var length: Int

    public init(offset: Int, length: Int) {
        self.offset = offset
        self.length = length
    }

    /// The position of the range's last byte, inclusive, as `Content-Range` writes it.
    public var lastPosition: Int { offset + length - 1 }

    /// The `Content-Range` value of a 206 response: `bytes first-last/complete` (RFC 9110 §14.4).
    public func contentRange(completeLength: Int) -> String {
        "bytes \(offset)-\(lastPosition)/\(completeLength)"
    }

    /// The `Content-Range` value of a 416 response: `bytes */complete` (RFC 9110 §14.4, §15.5.17).
    public static func unsatisfiedContentRange(completeLength: Int) -> String {
        "bytes */\(completeLength)"
    }
}

/// One `range-spec` of a `bytes` range set, before it is applied to a representation (RFC 9110 §14.1.2).
public enum ByteRangeSpec: Sendable, Hashable {
    /// `first-last`, both inclusive.
    case closed(first: Int, last: Int)
    /// `first-`: from `first` to the end.
    case from(first: Int)
    /// `-length`: the last `length` bytes.
    case suffix(length: Int)

    /// Parses a `Range` field value into its range specs; nil when the unit is not `bytes` or the value is not a
    /// valid `ranges-specifier` (both of which RFC 9110 §14.2 says to ignore).
    ///
    /// Positions too large for `Int` saturate to `Int.max` rather than failing: such a first position is simply
    /// unsatisfiable and such a last position or suffix simply reaches the end of any real file.
    public static func parseSet(_ value: String) -> [ByteRangeSpec]? {
        let trimmed = value.trimmingSpaces
        guard let equals = trimmed.firstIndex(of: "="),
            HTTPHeaders.namesEqual(trimmed[..<equals], "bytes")  // range units are case-insensitive (§14.1)
        else { return nil }
        var specs: [ByteRangeSpec] = []
        // `1#range-spec`: a comma list whose empty elements recipients must skip (§5.6.1).
        for element in trimmed[trimmed.index(after: equals)...].split(separator: ",", omittingEmptySubsequences: false)
        {
            let item = element.trimmingSpaces
            if item.isEmpty { continue }
            guard let spec = parseSpec(item) else { return nil }
            specs.append(spec)
        }
        return specs.isEmpty ? nil : specs
    }

    private static func parseSpec(_ item: Substring) -> ByteRangeSpec? {
        guard let dash = item.firstIndex(of: "-") else { return nil }
        let firstText = item[..<dash]
        let lastText = item[item.index(after: dash)...]
        if firstText.isEmpty {
            guard let length = parsePosition(lastText) else { return nil }
            return .suffix(length: length)
        }
        guard let first = parsePosition(firstText) else { return nil }
        if lastText.isEmpty { return .from(first: first) }
        // A last position below the first makes the whole range set invalid (§14.1.1).
        guard let last = parsePosition(lastText), last >= first else { return nil }
        return .closed(first: first, last: last)
    }

    /// `1*DIGIT`, saturating at `Int.max`.
    private static func parsePosition(_ text: Substring) -> Int? {
        guard !text.isEmpty else { return nil }
        var value = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            value = overflow1 || overflow2 ? Int.max : sum
        }
        return value
    }

    /// The bytes this spec selects of a representation `completeLength` long, or nil when it is unsatisfiable:
    /// an int-range whose first position is at or past the end, or a zero-length suffix (§14.1.2).
    /// A satisfiable suffix of an empty representation selects zero bytes.
    func resolve(completeLength: Int) -> ByteRange? {
        switch self {
        case .closed(let first, let last):
            guard first < completeLength else { return nil }
            return ByteRange(offset: first, length: min(last, completeLength - 1) - first + 1)
        case .from(let first):
            guard first < completeLength else { return nil }
            return ByteRange(offset: first, length: completeLength - first)
        case .suffix(let length):
            guard length > 0 else { return nil }
            let taken = min(length, completeLength)
            return ByteRange(offset: completeLength - taken, length: taken)
        }
    }
}

/// What a GET should send for a `Range` header (RFC 9110 §14.2).
public enum RangeSelection: Sendable, Hashable {
    /// Ignore the header and send the whole representation with 200: no or malformed header, a unit other than
    /// `bytes`, or ranges that cannot be sent as one part.
    case full
    /// Send this one range with 206 and `Content-Range`.
    case partial(ByteRange)
    /// No range overlaps the representation: send 416 with `Content-Range: bytes */length`.
    case unsatisfiable

    /// Decides how to answer `Range: value` for a representation `completeLength` bytes long.
    ///
    /// Only single-part responses are produced. Several ranges are merged when they overlap or touch, which §14.2
    /// allows; when they still form more than one part the header is ignored and the whole representation is
    /// sent, which §14.2 also allows (a server MAY ignore Range) and which spares every client a multipart/byteranges
    /// parser. A satisfiable request on an empty representation also gets the full (empty) 200, because a 206
    /// cannot describe a zero-length range.
    public init(header value: String?, completeLength: Int) {
        guard let value, let specs = ByteRangeSpec.parseSet(value) else {
            self = .full
            return
        }
        var ranges = specs.compactMap { $0.resolve(completeLength: completeLength) }
        if ranges.isEmpty {
            self = .unsatisfiable
            return
        }
        if completeLength == 0 {
            self = .full
            return
        }
        if ranges.count > 1 {
            ranges.sort { $0.offset < $1.offset }
        }
        var merged = ranges[0]
        for range in ranges.dropFirst() {
            // Ranges are within the representation, so these sums cannot overflow.
            guard range.offset <= merged.offset + merged.length else {
                self = .full
                return
            }
            let end = max(merged.offset + merged.length, range.offset + range.length)
            merged.length = end - merged.offset
        }
        self = .partial(merged)
    }
}
