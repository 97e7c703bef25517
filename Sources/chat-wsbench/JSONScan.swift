/// Just enough JSON reading for a load generator: find one key's value in an object without building anything.
/// The server's envelopes put `data` before `type` (sorted keys), so the top level is walked key by key and
/// nested values are skipped, strings and escapes included, rather than searched for a substring that a
/// message's content could also hold.
enum JSONScan {
    /// The byte range of the value of `key` in the object at the top of `json` (for a string: without quotes).
    static func value(of key: [UInt8], in json: UnsafeRawBufferPointer) -> Range<Int>? {
        let end = json.count
        var i = skipSpace(json, 0)
        guard i < end, json[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        while true {
            i = skipSpace(json, i)
            guard i < end, json[i] == UInt8(ascii: "\"") else { return nil }
            let keyStart = i + 1
            guard let afterKey = skipString(json, i) else { return nil }
            let keyEnd = afterKey - 1
            i = skipSpace(json, afterKey)
            guard i < end, json[i] == UInt8(ascii: ":") else { return nil }
            i = skipSpace(json, i + 1)
            guard i < end else { return nil }
            if keyEnd - keyStart == key.count, equal(json, keyStart, key) {
                if json[i] == UInt8(ascii: "\"") {
                    guard let after = skipString(json, i) else { return nil }
                    return (i + 1)..<(after - 1)
                }
                guard let after = skipValue(json, i) else { return nil }
                return i..<after
            }
            guard let after = skipValue(json, i) else { return nil }
            i = skipSpace(json, after)
            guard i < end, json[i] == UInt8(ascii: ",") else { return nil }
            i += 1
        }
    }

    /// `json[range]` equals `text`.
    static func equal(_ json: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: [UInt8]) -> Bool {
        range.count == text.count && equal(json, range.lowerBound, text)
    }

    /// `json[range]` as an integer, if it is one.
    static func integer(_ json: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.count < 19 else { return nil }
        var value = 0
        for i in range {
            let digit = Int(json[i]) - 48
            guard digit >= 0, digit <= 9 else { return nil }
            value = value * 10 + digit
        }
        return value
    }

    /// `json[range]` as text.
    static func string(_ json: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: json[range]), as: UTF8.self)
    }

    /// The first index of `needle` in `json` at or after `from`.
    static func find(_ needle: [UInt8], in json: UnsafeRawBufferPointer, from: Int = 0) -> Int? {
        guard let first = needle.first, json.count >= needle.count else { return nil }
        var i = from
        let last = json.count - needle.count
        while i <= last {
            if json[i] == first, equal(json, i, needle) { return i }
            i += 1
        }
        return nil
    }

    private static func equal(_ json: UnsafeRawBufferPointer, _ start: Int, _ text: [UInt8]) -> Bool {
        guard start + text.count <= json.count else { return false }
        for (offset, byte) in text.enumerated() where json[start + offset] != byte { return false }
        return true
    }

    private static func skipSpace(_ json: UnsafeRawBufferPointer, _ start: Int) -> Int {
        var i = start
        while i < json.count {
            switch json[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return i
            }
        }
        return i
    }

    /// `json[start]` is a quote: the index after the closing quote.
    private static func skipString(_ json: UnsafeRawBufferPointer, _ start: Int) -> Int? {
        var i = start + 1
        while i < json.count {
            switch json[i] {
            case UInt8(ascii: "\\"): i += 2
            case UInt8(ascii: "\""): return i + 1
            default: i += 1
            }
        }
        return nil
    }

    /// The index after the value starting at `start`.
    private static func skipValue(_ json: UnsafeRawBufferPointer, _ start: Int) -> Int? {
        let first = json[start]
        if first == UInt8(ascii: "\"") { return skipString(json, start) }
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            var depth = 0
            var i = start
            while i < json.count {
                switch json[i] {
                case UInt8(ascii: "\""):
                    guard let after = skipString(json, i) else { return nil }
                    i = after
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default: break
                }
                i += 1
            }
            return nil
        }
        var i = start
        while i < json.count {
            switch json[i] {
            case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D: return i
            default: i += 1
            }
        }
        return i
    }
}
