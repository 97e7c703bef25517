import HTTPServer
import Logging
import SystemSupport

/// Parsers for the textual value types shared by the config file, the environment and flags.
/// Each failure says what was expected; the caller adds the key, the value and where it came from.
enum SettingValue {
    static func integer(_ text: String, in range: ClosedRange<Int>) throws(SettingValueError) -> Int {
        let trimmed = ConfigText.trimmed(text)
        guard !trimmed.isEmpty, trimmed.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(trimmed),
            range.contains(value)
        else {
            throw SettingValueError(expected: "a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// Bytes, as a plain number or with a binary suffix: `1048576`, `512k`, `1m`, `1g`, `64KiB`, `1MiB`, `1GiB`
    /// (case-insensitive; `k` and `KiB` both mean 1024).
    static func size(_ text: String, in range: ClosedRange<Int>) throws(SettingValueError) -> Int {
        let expected = SettingValueError(
            expected: "a size like 1048576 or 1m (suffixes k, m, g, KiB, MiB, GiB)"
                + (range.lowerBound > 0 ? ", at least \(range.lowerBound) bytes" : ""))
        let (number, unit) = splitNumber(text)
        let multiplier: Int
        switch unit.lowercased() {
        case "", "b": multiplier = 1
        case "k", "kib": multiplier = 1 << 10
        case "m", "mib": multiplier = 1 << 20
        case "g", "gib": multiplier = 1 << 30
        default: throw expected
        }
        guard let count = Int(number) else { throw expected }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: multiplier)
        guard !overflow, range.contains(bytes) else { throw expected }
        return bytes
    }

    /// A non-negative whole duration: plain numbers are in `plainUnit`; otherwise `500ms`, `10s`, `2m` or `1h`.
    static func duration(
        _ text: String, plainUnit: DurationUnit = .seconds, allowZero: Bool = true
    ) throws(SettingValueError) -> Duration {
        let plainExample = plainUnit == .seconds ? "10" : "5000"
        let expected = SettingValueError(
            expected: "a duration like \(plainExample) (\(plainUnit.rawValue)), 500ms, 10s, 2m, 1h or 30d"
                + (allowZero ? "" : ", greater than 0"))
        let (number, unit) = splitNumber(text)
        guard let count = Int64(number) else { throw expected }
        let milliseconds: Int64
        let resolvedUnit: DurationUnit? = unit.isEmpty ? plainUnit : DurationUnit(suffix: unit.lowercased())
        switch resolvedUnit {
        case .milliseconds?: milliseconds = 1
        case .seconds?: milliseconds = 1000
        case .minutes?: milliseconds = 60_000
        case .hours?: milliseconds = 3_600_000
        case .days?: milliseconds = 86_400_000
        case nil: throw expected
        }
        let (total, overflow) = count.multipliedReportingOverflow(by: milliseconds)
        guard !overflow, allowZero || total > 0 else { throw expected }
        return .milliseconds(total)
    }

    enum DurationUnit: String {
        case milliseconds, seconds, minutes, hours, days

        init?(suffix: String) {
            switch suffix {
            case "ms": self = .milliseconds
            case "s": self = .seconds
            case "m": self = .minutes
            case "h": self = .hours
            case "d": self = .days
            default: return nil
            }
        }
    }

    static func bool(_ text: String) throws(SettingValueError) -> Bool {
        switch ConfigText.trimmed(text).lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw SettingValueError(expected: "true or false (or yes/no, on/off, 1/0)")
        }
    }

    /// One of a fixed set of lower-case words, matched case-insensitively.
    static func choice<Value>(_ text: String, _ parse: (String) -> Value?, among names: [String])
        throws(SettingValueError) -> Value
    {
        guard let value = parse(ConfigText.trimmed(text).lowercased()) else {
            throw SettingValueError(expected: "one of " + names.joined(separator: ", "))
        }
        return value
    }

    static func listenAddress(_ text: String) throws(SettingValueError) -> ListenAddress {
        guard let address = ListenAddress(String(ConfigText.trimmed(text))) else {
            throw SettingValueError(expected: "a numeric host:port like 127.0.0.1:8080, 0.0.0.0:80 or [::1]:8080")
        }
        return address
    }

    static func nonEmptyPath(_ text: String) throws(SettingValueError) -> String {
        guard !text.isEmpty, !text.contains("\0") else {
            throw SettingValueError(expected: "a directory path")
        }
        return text
    }

    /// An HTTP header field name (an RFC 9110 token), e.g. `X-Request-Id`.
    static func headerName(_ text: String) throws(SettingValueError) -> String {
        let name = ConfigText.trimmed(text)
        let punctuation = Set("!#$%&'*+-.^_`|~")
        guard !name.isEmpty,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || punctuation.contains($0)) })
        else {
            throw SettingValueError(expected: "an HTTP header name like X-Request-Id")
        }
        return String(name)
    }

    /// A comma-separated list of IPv4/IPv6 addresses or CIDR blocks (`10.0.0.0/8`, `::1`); empty means none.
    static func addressBlocks(_ text: String) throws(SettingValueError) -> [String] {
        let blocks = text.split(separator: ",").map { String(ConfigText.trimmed($0)) }.filter { !$0.isEmpty }
        for block in blocks where AddressBlock(block) == nil {
            throw SettingValueError(
                expected: "comma-separated IP addresses or CIDR blocks like 127.0.0.1, 10.0.0.0/8 or ::1; "
                    + "\(ConfigText.quoted(block)) is not one")
        }
        return blocks
    }

    /// A non-empty value without control characters (token issuer and audience names).
    static func name(_ text: String) throws(SettingValueError) -> String {
        guard !text.isEmpty, text.utf8.count <= 256, !text.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw SettingValueError(expected: "a non-empty name of at most 256 bytes without control characters")
        }
        return text
    }

    /// A comma-separated list of browser origins (`scheme://host[:port]`, no path) or `*`; empty means none.
    static func origins(_ text: String) throws(SettingValueError) -> [String] {
        let origins = text.split(separator: ",").map { String(ConfigText.trimmed($0)) }.filter { !$0.isEmpty }
        for origin in origins where origin != "*" && !isOrigin(origin) {
            throw SettingValueError(
                expected: "comma-separated origins like https://chat.example.com or http://localhost:3000 "
                    + "(scheme://host[:port], no path), or *; \(ConfigText.quoted(origin)) is not one")
        }
        return origins
    }

    private static func isOrigin(_ origin: String) -> Bool {
        let lowered = origin.lowercased()
        let rest: Substring
        if lowered.hasPrefix("http://") {
            rest = lowered.dropFirst(7)
        } else if lowered.hasPrefix("https://") {
            rest = lowered.dropFirst(8)
        } else {
            return false
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-.:[]")
        return !rest.isEmpty && rest.first != ":" && rest.allSatisfy { allowed.contains($0) }
    }

    /// Splits `"  512 KiB "` into `("512", "KiB")`.
    private static func splitNumber(_ text: String) -> (number: Substring, unit: String) {
        let trimmed = ConfigText.trimmed(text)
        let digitsEnd = trimmed.firstIndex { !($0.isASCII && $0.isNumber) } ?? trimmed.endIndex
        return (trimmed[..<digitsEnd], String(ConfigText.trimmed(trimmed[digitsEnd...])))
    }
}
