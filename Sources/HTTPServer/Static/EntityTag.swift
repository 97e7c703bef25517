/// Entity-tag comparison for conditional requests (RFC 9110 §8.8.3).
enum EntityTag {
    /// Whether an `If-Match` / `If-None-Match` field (`"*" / #entity-tag`, RFC 9110 §13.1.1–§13.1.2) matches the
    /// current tag of an existing representation. `current` is the strong tag as sent, quotes included.
    ///
    /// Weak comparison ignores `W/` on either side; strong comparison needs both tags strong (§8.8.3.2).
    /// A malformed list matches nothing: for `If-None-Match` that means a normal 200, for `If-Match` a 412, so
    /// garbage never turns into a cache hit or a satisfied precondition.
    static func listMatches(_ fieldValues: [String], current: String, weakComparison: Bool) -> Bool {
        let currentBytes = Array(current.utf8)
        var matched = false
        for value in fieldValues {
            let bytes = Array(value.utf8)
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                // List syntax (§5.6.1): skip OWS and empty elements.
                if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if byte == UInt8(ascii: "*") {
                    // `*` matches any current representation, and this one exists.
                    matched = true
                    index += 1
                } else {
                    guard let (tag, isWeak, end) = parse(bytes, from: index) else { return false }
                    if tag.elementsEqual(currentBytes) && (weakComparison || !isWeak) { matched = true }
                    index = end
                }
                while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") {
                    index += 1
                }
                guard index == bytes.count || bytes[index] == UInt8(ascii: ",") else { return false }
            }
        }
        return matched
    }

    /// Whether an `If-Range` entity-tag strongly matches `current` (§13.1.5: a weak tag never matches).
    static func strongMatch(_ fieldValue: Substring, current: String) -> Bool {
        let bytes = Array(fieldValue.utf8)
        guard let (tag, isWeak, end) = parse(bytes, from: 0), end == bytes.count else { return false }
        return !isWeak && tag.elementsEqual(current.utf8)
    }

    /// Whether an `If-Range` value is an entity-tag rather than an HTTP-date: §13.1.5 says to tell them apart
    /// by the leading `"` or `W/`.
    static func looksLikeEntityTag(_ fieldValue: Substring) -> Bool {
        fieldValue.hasPrefix("\"") || fieldValue.hasPrefix("W/")
    }

    /// `entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE` at `start`: the opaque tag with its quotes, whether it is weak,
    /// and the index after it.
    private static func parse(_ bytes: [UInt8], from start: Int) -> (tag: ArraySlice<UInt8>, isWeak: Bool, end: Int)? {
        var index = start
        var isWeak = false
        if bytes.count - index >= 2, bytes[index] == UInt8(ascii: "W"), bytes[index + 1] == UInt8(ascii: "/") {
            isWeak = true
            index += 2
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        var close = index + 1
        while close < bytes.count {
            let byte = bytes[close]
            if byte == UInt8(ascii: "\"") { break }
            // etagc = %x21 / %x23-7E / obs-text: no controls, spaces or DEL inside the quotes.
            guard byte >= 0x21, byte != 0x7F else { return nil }
            close += 1
        }
        guard close < bytes.count else { return nil }
        return (bytes[index...close], isWeak, close + 1)
    }
}
