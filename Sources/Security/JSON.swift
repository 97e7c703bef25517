/// A parsed JSON value (RFC 8259), as the JWT verifier sees it.
///
/// Integers that fit `Int` are kept exactly; every other number (fraction, exponent, out of range) is
/// only recorded as `.number`, because no JWT claim this module reads may be anything but an integer.
enum JSONValue: Equatable {
    case null
    case bool(Bool)
    case integer(Int)
    case number
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

/// A strict, small JSON parser for JOSE headers and JWT claim sets.
///
/// Used instead of `JSONDecoder` because the token format needs rules a general decoder does not
/// enforce: duplicate member names are rejected (RFC 7515 §5.2, RFC 7519 §4: two parsers picking
/// different duplicates is a known token-confusion vector, RFC 8725 §2.7), invalid UTF-8 and lone
/// surrogates are rejected, numbers must be exact, and nesting depth is bounded. It is also much
/// cheaper for the few hundred bytes of a token.
struct JSONParser {
    struct Invalid: Error {}

    /// Bounds recursion on attacker-supplied input (tokens are at most 8 KiB anyway).
    static let maximumDepth = 32

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Parses exactly one JSON value with optional surrounding whitespace.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(Invalid) -> JSONValue {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw Invalid() }
        return value
    }

    static func parse(_ bytes: [UInt8]) throws(Invalid) -> JSONValue {
        // withUnsafeBufferPointer only rethrows untyped errors: carry the typed one out in a Result.
        try bytes.withUnsafeBufferPointer { buffer in Result { () throws(Invalid) in try parse(buffer) } }.get()
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func peek() throws(Invalid) -> UInt8 {
        guard index < bytes.count else { throw Invalid() }
        return bytes[index]
    }

    private mutating func expect(_ literal: StaticString) throws(Invalid) {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw Invalid() }
        let start = literal.utf8Start
        for offset in 0..<count where bytes[index + offset] != start[offset] { throw Invalid() }
        index += count
    }

    private mutating func parseValue(depth: Int) throws(Invalid) -> JSONValue {
        switch try peek() {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expect("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expect("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expect("null")
            return .null
        default: return try parseNumber()
        }
    }

    private mutating func parseObject(depth: Int) throws(Invalid) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw Invalid() }
        index += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard try peek() == UInt8(ascii: "\"") else { throw Invalid() }
            let name = try parseString()
            skipWhitespace()
            guard try peek() == UInt8(ascii: ":") else { throw Invalid() }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            guard members.updateValue(value, forKey: name) == nil else { throw Invalid() }
            skipWhitespace()
            switch try peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return .object(members)
            default: throw Invalid()
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(Invalid) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw Invalid() }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            switch try peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return .array(elements)
            default: throw Invalid()
            }
        }
    }

    private mutating func parseString() throws(Invalid) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes, so the bytes between the quotes are the string.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                guard let string = String(validating: slice, as: UTF8.self) else { throw Invalid() }
                return string
            }
            if byte == UInt8(ascii: "\\") { break }
            // RFC 8259 §7: control characters must be escaped.
            guard byte >= 0x20 else { throw Invalid() }
            index += 1
        }
        var decoded = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while true {
            let byte = try peek()
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let string = String(validating: decoded, as: UTF8.self) else { throw Invalid() }
                return string
            case UInt8(ascii: "\\"):
                try parseEscape(into: &decoded)
            case 0..<0x20:
                throw Invalid()
            default:
                decoded.append(byte)
            }
        }
    }

    private mutating func parseEscape(into decoded: inout [UInt8]) throws(Invalid) {
        let escape = try peek()
        index += 1
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
        case UInt8(ascii: "b"): decoded.append(0x08)
        case UInt8(ascii: "f"): decoded.append(0x0C)
        case UInt8(ascii: "n"): decoded.append(0x0A)
        case UInt8(ascii: "r"): decoded.append(0x0D)
        case UInt8(ascii: "t"): decoded.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = UInt32(try parseHex4())
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate must be followed by an escaped low surrogate (RFC 8259 §7).
                try expect("\\u")
                let low = UInt32(try parseHex4())
                guard (0xDC00...0xDFFF).contains(low) else { throw Invalid() }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw Invalid() }  // lone low surrogate
            decoded.append(contentsOf: UTF8.encode(unicode).map { Array($0) } ?? [])
        default:
            throw Invalid()
        }
    }

    private mutating func parseHex4() throws(Invalid) -> UInt16 {
        guard bytes.count - index >= 4 else { throw Invalid() }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Invalid()
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    /// RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func parseNumber() throws(Invalid) -> JSONValue {
        let negative = try peek() == UInt8(ascii: "-")
        if negative { index += 1 }
        var magnitude: UInt64 = 0
        var exact = true
        let first = try peek()
        if first == UInt8(ascii: "0") {
            index += 1
        } else if isDigit(first) {
            while index < bytes.count, isDigit(bytes[index]) {
                let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(UInt64(bytes[index] - UInt8(ascii: "0")))
                if overflow1 || overflow2 { exact = false }
                magnitude = sum
                index += 1
            }
        } else {
            throw Invalid()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            try skipDigits()
            exact = false
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            try skipDigits()
            exact = false
        }
        guard exact else { return .number }
        if negative {
            guard magnitude <= UInt64(Int.max) + 1 else { return .number }
            return .integer(magnitude == UInt64(Int.max) + 1 ? Int.min : -Int(magnitude))
        }
        guard magnitude <= UInt64(Int.max) else { return .number }
        return .integer(Int(magnitude))
    }

    /// One or more digits.
    private mutating func skipDigits() throws(Invalid) {
        guard index < bytes.count, isDigit(bytes[index]) else { throw Invalid() }
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}

/// Minimal JSON output for the fixed shapes this module emits (JWT header and claims).
enum JSONWriter {
    /// `value` as a JSON string literal: quotes, backslashes and control characters escaped
    /// (RFC 8259 §7), everything else as UTF-8.
    static func quoted(_ value: String) -> String {
        var output = "\""
        output.reserveCapacity(value.utf8.count + 2)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
        return output
    }
}
