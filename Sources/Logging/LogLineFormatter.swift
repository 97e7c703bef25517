/// Renders one event into UTF-8 bytes, newline included. Pure: the caller supplies the timestamp.
enum LogLineFormatter {
    /// Field names written before the caller's fields; a caller field with one of these names gets a `_` prefix
    /// so it can neither be mistaken for nor (in JSON) silently replace the real one.
    static let reservedKeys: Set<String> = ["ts", "level", "component", "msg"]

    static func format(
        _ format: LogFormat,
        time: WallClockTime,
        level: LogLevel,
        component: String,
        message: String,
        fields: KeyValuePairs<String, String>,
        into out: inout [UInt8]
    ) {
        switch format {
        case .logfmt:
            out.append(contentsOf: "ts=".utf8)
            time.appendISO8601(into: &out)
            out.append(contentsOf: " level=".utf8)
            out.append(contentsOf: level.description.utf8)
            out.append(contentsOf: " component=".utf8)
            appendLogfmtValue(component, into: &out)
            out.append(contentsOf: " msg=".utf8)
            appendLogfmtValue(message, into: &out)
            for (key, value) in fields {
                out.append(ASCII.space)
                appendLogfmtKey(fieldKey(key), into: &out)
                out.append(ASCII.equals)
                appendLogfmtValue(value, into: &out)
            }
        case .json:
            out.append(contentsOf: #"{"ts":""#.utf8)
            time.appendISO8601(into: &out)
            out.append(contentsOf: #"","level":""#.utf8)
            out.append(contentsOf: level.description.utf8)
            out.append(contentsOf: #"","component":"#.utf8)
            appendJSONString(component, into: &out)
            out.append(contentsOf: #","msg":"#.utf8)
            appendJSONString(message, into: &out)
            for (key, value) in fields {
                out.append(ASCII.comma)
                appendJSONString(fieldKey(key), into: &out)
                out.append(ASCII.colon)
                appendJSONString(value, into: &out)
            }
            out.append(ASCII.closeBrace)
        }
        out.append(ASCII.newline)
    }

    private static func fieldKey(_ key: String) -> String {
        reservedKeys.contains(key) ? "_" + key : key
    }

    /// Quotes only when needed (empty, space or other control byte, `=`, `"`), as go-logfmt does, so
    /// ordinary values stay readable and any logfmt parser splits the line the same way.
    static func appendLogfmtValue(_ value: String, into out: inout [UInt8]) {
        var needsQuotes = value.isEmpty
        for byte in value.utf8
        where byte <= ASCII.space || byte == ASCII.delete || byte == ASCII.equals
            || byte == ASCII.quote
        {
            needsQuotes = true
            break
        }
        guard needsQuotes else {
            out.append(contentsOf: value.utf8)
            return
        }
        out.append(ASCII.quote)
        for byte in value.utf8 {
            appendEscaped(byte, into: &out)
        }
        out.append(ASCII.quote)
    }

    /// Keys cannot be quoted in logfmt, so bytes that would break the `key=value` split become `_`.
    static func appendLogfmtKey(_ key: String, into out: inout [UInt8]) {
        if key.isEmpty {
            out.append(ASCII.underscore)
            return
        }
        for byte in key.utf8 {
            let breaksSplit =
                byte <= ASCII.space || byte == ASCII.delete || byte == ASCII.equals || byte == ASCII.quote
            out.append(breaksSplit ? ASCII.underscore : byte)
        }
    }

    static func appendJSONString(_ value: String, into out: inout [UInt8]) {
        out.append(ASCII.quote)
        for byte in value.utf8 {
            appendEscaped(byte, into: &out)
        }
        out.append(ASCII.quote)
    }

    /// The escapes shared by quoted logfmt values and JSON strings. Bytes >= 0x80 pass through: Swift strings
    /// are valid UTF-8, and both formats carry UTF-8 as is.
    private static func appendEscaped(_ byte: UInt8, into out: inout [UInt8]) {
        switch byte {
        case ASCII.quote: out.append(contentsOf: [ASCII.backslash, ASCII.quote])
        case ASCII.backslash: out.append(contentsOf: [ASCII.backslash, ASCII.backslash])
        case ASCII.newline: out.append(contentsOf: [ASCII.backslash, UInt8(ascii: "n")])
        case ASCII.carriageReturn: out.append(contentsOf: [ASCII.backslash, UInt8(ascii: "r")])
        case ASCII.tab: out.append(contentsOf: [ASCII.backslash, UInt8(ascii: "t")])
        case 0..<ASCII.space, ASCII.delete:
            out.append(contentsOf: [ASCII.backslash, UInt8(ascii: "u"), ASCII.zero, ASCII.zero])
            out.append(hexDigit(byte >> 4))
            out.append(hexDigit(byte & 0x0F))
        default: out.append(byte)
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? ASCII.zero + nibble : UInt8(ascii: "a") + nibble - 10
    }
}

/// Byte constants used by the formatter.
enum ASCII {
    static let tab = UInt8(ascii: "\t")
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " ")
    static let quote = UInt8(ascii: "\"")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")
    static let equals = UInt8(ascii: "=")
    static let backslash = UInt8(ascii: "\\")
    static let underscore = UInt8(ascii: "_")
    static let closeBrace = UInt8(ascii: "}")
    static let zero = UInt8(ascii: "0")
    static let delete: UInt8 = 0x7F
}
