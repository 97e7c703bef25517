import Foundation
import Security

/// Cloudinary's token-based access (`?__cld_token__=exp=…~hmac=…`, the SDKs' `auth_token` option): a delivery URL
/// that is valid until a time, signed with HMAC-SHA-256 under a hex key. Chat attachments use it so that a link
/// seen in a room stops working after `blobs.attachment_url_ttl`, unlike an `s--SIG--` URL, which never expires.
///
/// Token fields, `~`-separated, in this order: `ip=` (optional), `st=` start (optional), `exp=` expiry (unix
/// seconds), `acl=` (optional, `!`-separated path patterns with `*`), `hmac=`. The HMAC covers the fields before
/// it and, without an `acl`, `url=<the URL's path>`; paths and patterns are escaped as the SDK's
/// `_escape_to_lower` does (``escape(_:)``).
public enum CloudinaryAuthToken {
    public static let queryName = "__cld_token__"

    /// Why a token is refused.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case malformed
        case expired
        case notYetValid
        case wrongAddress
        case outsideACL
        case badSignature

        public var description: String {
            switch self {
            case .malformed: "Malformed token"
            case .expired: "Token expired"
            case .notYetValid: "Token not valid yet"
            case .wrongAddress: "Token issued for another address"
            case .outsideACL: "Token does not cover this path"
            case .badSignature: "Invalid token"
            }
        }
    }

    /// The query item (`__cld_token__=exp=…~hmac=…`) for `path`, valid until `expiration`.
    public static func make(path: String, expiration: Int64, key: [UInt8]) -> String {
        let fields = "exp=\(expiration)"
        return queryName + "=" + fields + "~hmac=" + hmac(fields + "~url=" + escape(path), key: key)
    }

    /// Checks `token` (the value after `__cld_token__=`) for a request of `path` from `clientIP` at `now`.
    public static func verify(
        _ token: String, path: String, clientIP: String, now: Int64, key: [UInt8]
    ) throws(Failure) {
        var fields: [(name: Substring, value: Substring)] = []
        for part in token.split(separator: "~", omittingEmptySubsequences: false) {
            guard let equals = part.firstIndex(of: "=") else { throw .malformed }
            fields.append((part[..<equals], part[part.index(after: equals)...]))
        }
        guard let last = fields.last, last.name == "hmac", last.value.utf8.count == 64,
            let expiration = fields.first(where: { $0.name == "exp" }).flatMap({ Int64($0.value) })
        else { throw .malformed }
        let signed = fields.dropLast()
        guard Set(signed.map(\.name)).count == signed.count, signed.allSatisfy({ Self.fieldOrder.contains($0.name) })
        else { throw .malformed }
        var message = signed.map { "\($0.name)=\($0.value)" }.joined(separator: "~")
        let acl = signed.first { $0.name == "acl" }?.value
        if acl == nil { message += "~url=" + escape(path) }
        guard constantTimeEqual(Array(hmac(message, key: key).utf8), Array(last.value.lowercased().utf8)) else {
            throw .badSignature
        }
        guard now < expiration else { throw .expired }
        if let start = signed.first(where: { $0.name == "st" }) {
            guard let value = Int64(start.value) else { throw .malformed }
            guard value <= now else { throw .notYetValid }
        }
        if let ip = signed.first(where: { $0.name == "ip" }), ip.value != clientIP { throw .wrongAddress }
        if let acl {
            let escapedPath = escape(path)
            guard acl.split(separator: "!").contains(where: { matches(escapedPath, pattern: $0) }) else {
                throw .outsideACL
            }
        }
    }

    /// The SDK's `_escape_to_lower`: `smart_escape` with `AUTH_TOKEN_UNSAFE_RE` (space and
    /// `"#%&'/:;<=>?@[\]^`{|}~` are percent-encoded), then every `%XX` in lowercase hex. It is applied to the
    /// path as it appears in the URL (already percent-encoded), so `%20` becomes `%2520`.
    public static func escape(_ text: String) -> String {
        let unsafe = Set(" \"#%&'/:;<=>?@[\\]^`{|}~".utf8)
        let digits = Array("0123456789abcdef".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 2)
        for byte in text.utf8 {
            if unsafe.contains(byte) {
                output += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]
            } else {
                output.append(byte)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The key's bytes from its hex form; nil unless it is an even number (≥ 32) of hex digits.
    public static func key(hex: String) -> [UInt8]? {
        let bytes = Array(hex.utf8)
        guard bytes.count >= 32, bytes.count.isMultiple(of: 2) else { return nil }
        var key: [UInt8] = []
        for index in stride(from: 0, to: bytes.count, by: 2) {
            guard let high = hexValue(bytes[index]), let low = hexValue(bytes[index + 1]) else { return nil }
            key.append(high << 4 | low)
        }
        return key
    }

    private static let fieldOrder: Set<Substring> = ["ip", "st", "exp", "acl"]

    private static func hmac(_ message: String, key: [UInt8]) -> String {
        CloudinarySignature.hex(Digest.hmacSHA256(key: key, message: Array(message.utf8)))
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Glob match with `*` for any run of characters (Akamai-style ACLs), on escaped forms.
    private static func matches(_ text: String, pattern: Substring) -> Bool {
        let pieces = pattern.split(separator: "*", omittingEmptySubsequences: false)
        guard pieces.count > 1 else { return text == pattern }
        var rest = Substring(text)
        guard let first = pieces.first, rest.hasPrefix(first) else { return false }
        rest = rest.dropFirst(first.count)
        for piece in pieces.dropFirst().dropLast() {
            guard let range = rest.range(of: piece) else { return false }
            rest = rest[range.upperBound...]
        }
        return pieces.last.map { rest.hasSuffix($0) } ?? true
    }
}
