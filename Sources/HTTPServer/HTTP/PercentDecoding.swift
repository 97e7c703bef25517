/// Percent-decoding of request paths (RFC 3986 §2.1) and of query strings in the
/// `application/x-www-form-urlencoded` format (WHATWG URL Standard §5.1), without Foundation.
public enum PercentDecoding {
    /// `s` with every `%XX` replaced by its octet. `+` stays `+` (it only means space in form encoding).
    /// Returns nil when a `%` is not followed by two hex digits or the octets are not valid UTF-8, so a path can
    /// never decode to two different strings.
    public static func decode(_ s: String) -> String? {
        let utf8 = s.utf8
        // Most paths carry no escape; returning the string itself avoids a copy.
        guard utf8.contains(UInt8(ascii: "%")) else { return s }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            index = utf8.index(after: index)
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                continue
            }
            guard index != utf8.endIndex, let high = hexValue(utf8[index]) else { return nil }
            index = utf8.index(after: index)
            guard index != utf8.endIndex, let low = hexValue(utf8[index]) else { return nil }
            index = utf8.index(after: index)
            out.append(high << 4 | low)
        }
        return isValidUTF8(out) ? String(decoding: out, as: UTF8.self) : nil
    }

    /// The name/value pairs of a query string, in order, parsed as `application/x-www-form-urlencoded`
    /// (WHATWG URL Standard §5.1): pairs are split on `&` and empty pieces skipped; the first `=` separates name
    /// from value (no `=` means an empty value); `+` is a space. Like browsers' `URLSearchParams`, a `%` that does
    /// not start a valid escape is kept as it is and invalid UTF-8 becomes U+FFFD, so a form body or query never
    /// fails to parse as a whole.
    public static func queryItems(_ q: String) -> [(name: String, value: String)] {
        var items: [(name: String, value: String)] = []
        for piece in q.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            if let equals = piece.firstIndex(of: UInt8(ascii: "=")) {
                let value = piece[piece.index(after: equals)...]
                items.append((formDecode(piece[..<equals]), formDecode(value)))
            } else {
                items.append((formDecode(piece), ""))
            }
        }
        return items
    }

    /// One form-encoded name or value: `+` to space, valid `%XX` to its octet, then lossy UTF-8.
    private static func formDecode(_ bytes: Substring.UTF8View) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            index = bytes.index(after: index)
            switch byte {
            case UInt8(ascii: "+"):
                out.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                let second = index != bytes.endIndex ? bytes.index(after: index) : index
                if second != bytes.endIndex, let high = hexValue(bytes[index]), let low = hexValue(bytes[second]) {
                    out.append(high << 4 | low)
                    index = bytes.index(after: second)
                } else {
                    out.append(byte)
                }
            default:
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The value of an ASCII hex digit, either case.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte &- UInt8(ascii: "A") &+ 10
        default: nil
        }
    }

    /// Whether `bytes` is well-formed UTF-8 (no overlong forms, surrogates or truncated sequences). Uses the
    /// standard library's strict decoder because `String(validating:as:)` is not available on every platform
    /// the package declares.
    static func isValidUTF8<C: Collection<UInt8>>(_ bytes: C) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = Unicode.UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
