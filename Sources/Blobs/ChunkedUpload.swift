/// A `Content-Range: bytes <first>-<last>/<total>` request header of a chunked upload (inclusive byte
/// positions, RFC 9110 §14.4 syntax, as the SDKs send it).
public struct ContentRange: Sendable, Equatable, CustomStringConvertible {
    public var first: Int64
    public var last: Int64
    public var total: Int64

    public init(first: Int64, last: Int64, total: Int64) {
        self.first = first
        self.last = last
        self.total = total
    }

    /// Parses the header value; nil unless it is exactly `bytes a-b/total` with `a <= b < total` (decimal
    /// digits, no signs, no spaces inside, an unknown total `*` not accepted: the SDKs always know it).
    public init?(header: some StringProtocol) {
        let text = header.utf8
        guard text.starts(with: "bytes ".utf8) else { return nil }
        let rest = text.dropFirst(6)
        guard let dash = rest.firstIndex(of: UInt8(ascii: "-")), let slash = rest.firstIndex(of: UInt8(ascii: "/")),
            dash < slash,
            let first = Self.number(rest[rest.startIndex..<dash]),
            let last = Self.number(rest[rest.index(after: dash)..<slash]),
            let total = Self.number(rest[rest.index(after: slash)...]),
            first <= last, last < total
        else { return nil }
        self.init(first: first, last: last, total: total)
    }

    private static func number(_ digits: some Collection<UInt8>) -> Int64? {
        // At most 18 digits: never overflows Int64.
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        var value: Int64 = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(digit - UInt8(ascii: "0"))
        }
        return value
    }

    /// Bytes in this chunk.
    public var length: Int64 { last - first + 1 }

    /// Whether this chunk ends the upload.
    public var isLast: Bool { last == total - 1 }

    public var description: String { "bytes \(first)-\(last)/\(total)" }
}

/// Why a chunk was refused. The description is the message of the 400 answer.
public enum ChunkedUploadError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidContentRange
    case invalidUploadID
    /// The chunk's total differs from the upload's.
    case totalMismatch(expected: Int64, got: Int64)
    /// The chunk starts past the next expected byte: a chunk is missing.
    case gap(expected: Int64, got: Int64)
    /// The chunk starts before the next expected byte: it repeats bytes already received.
    case overlap(expected: Int64, got: Int64)
    /// The body does not hold as many bytes as the range says.
    case lengthMismatch(expected: Int64, got: Int64)
    /// The upload is bigger than allowed.
    case tooLarge(limit: Int64)

    public var description: String {
        switch self {
        case .invalidContentRange: return "Invalid Content-Range header, expected 'bytes <first>-<last>/<total>'"
        case .invalidUploadID: return "Invalid X-Unique-Upload-Id header"
        case .totalMismatch(let expected, let got):
            return "Content-Range total \(got) differs from the upload's total \(expected)"
        case .gap(let expected, let got): return "Chunk starts at byte \(got), expected \(expected): a chunk is missing"
        case .overlap(let expected, let got):
            return "Chunk starts at byte \(got), expected \(expected): it overlaps bytes already received"
        case .lengthMismatch(let expected, let got):
            return "Chunk has \(got) bytes, Content-Range says \(expected)"
        case .tooLarge(let limit): return "File size too large. Maximum is \(limit) bytes"
        }
    }
}

/// The rules of chunked uploads (the SDKs' `upload_large`), without any I/O.
///
/// What the Python SDK 1.46.3 (`cloudinary.uploader.upload_large`) sends, and what this accepts:
/// - one `X-Unique-Upload-Id` per upload (16 random `a-z0-9`, `utils.random_public_id()`), the same on
///   every chunk;
/// - chunks strictly in order, one request each (a full `upload` POST, signed anew with a fresh
///   `timestamp`), each with `Content-Range: bytes <first>-<last>/<total>`, `first` of each chunk = `last`
///   of the previous + 1, the last chunk ending at `total - 1`; the default chunk size is 20,000,000 bytes
///   (`chunk_size`), the last one may be shorter; a file smaller than one chunk is a single chunk
///   `bytes 0-<n-1>/<n>`; an empty file sends nothing;
/// - from the second chunk on, the `public_id` parameter is the one the server answered for the first
///   chunk (the SDK copies `result["public_id"]` into its options), so the server fixes the public id on
///   the first chunk;
/// - without an explicit `resource_type`, `upload_large` posts to `/raw/upload` (it sets `raw` after building
///   the parameters);
/// - only a retry after an expired OAuth token repeats a chunk, and only one that was refused (401).
///
/// Anything else (a gap, an overlap, a changed total, a body of the wrong length) is refused; the upload
/// may continue with the right chunk.
public enum ChunkedUpload {
    /// Whether an `X-Unique-Upload-Id` is acceptable: 1 to 64 of `A-Z a-z 0-9 - _`. It names a file.
    public static func isValidUploadID(_ id: some StringProtocol) -> Bool {
        let bytes = id.utf8
        return !bytes.isEmpty && bytes.count <= 64
            && bytes.allSatisfy {
                ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z"))
                    || ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z"))
                    || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "-")
                    || $0 == UInt8(ascii: "_")
            }
    }

    /// What to do with an accepted chunk.
    public enum Outcome: Sendable, Equatable {
        /// Store it; the upload continues at `nextOffset` (answer `{"done": false, "bytes": nextOffset, …}`).
        case partial(nextOffset: Int64)
        /// Store it; the upload is complete with `total` bytes: stage, publish and answer in full.
        case complete(total: Int64)
    }

    /// Checks a chunk against the upload's state before its body is read. `nextOffset` and `total` are the
    /// session's (nil: no session yet, so this must be the first chunk, starting at 0). `limit`: the most
    /// bytes an upload may have.
    public static func check(
        _ range: ContentRange, nextOffset: Int64?, total: Int64?, limit: Int64? = nil
    ) throws(ChunkedUploadError) -> Outcome {
        if let limit, range.total > limit { throw .tooLarge(limit: limit) }
        if let total, total != range.total { throw .totalMismatch(expected: total, got: range.total) }
        let expected = nextOffset ?? 0
        if range.first > expected { throw .gap(expected: expected, got: range.first) }
        if range.first < expected { throw .overlap(expected: expected, got: range.first) }
        return range.isLast ? .complete(total: range.total) : .partial(nextOffset: range.last + 1)
    }

    /// Checks the body's length once read against the range.
    public static func checkLength(_ range: ContentRange, bodyBytes: Int64) throws(ChunkedUploadError) {
        if bodyBytes != range.length { throw .lengthMismatch(expected: range.length, got: bodyBytes) }
    }
}
