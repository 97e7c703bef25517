import Glibc

/// HTTP-date (RFC 9110 §5.6.7) without Foundation: formats IMF-fixdate and parses all three forms.
///
/// Conversion uses the days-from-civil arithmetic of the proleptic Gregorian calendar, so it needs no time zone
/// database and no locale (HTTP dates are always GMT and always English).
public enum HTTPDate {
    /// The earliest instant IMF-fixdate can carry: 0000-01-01T00:00:00Z (its year is exactly four digits).
    public static let minimumEpochSeconds = -62_167_219_200
    /// The latest instant IMF-fixdate can carry: 9999-12-31T23:59:59Z.
    public static let maximumEpochSeconds = 253_402_300_799

    /// The current time in whole seconds since 1970-01-01T00:00:00Z.
    public static func currentEpochSeconds() -> Int {
        // time(2) is a vDSO call on Linux: no syscall, cheap enough for every response.
        Int(time(nil))
    }

    /// `epochSeconds` as IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`. Instants outside years 0000–9999 are
    /// clamped to that range, since the format has exactly four year digits.
    public static func format(epochSeconds: Int) -> String {
        let seconds = min(max(epochSeconds, minimumEpochSeconds), maximumEpochSeconds)
        let days = floorDivide(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let date = civil(fromDays: days)
        // 1970-01-01 was a Thursday (index 4 when Sunday is 0).
        let weekday = floorModulo(days + 4, 7)

        var out: [UInt8] = []
        out.reserveCapacity(29)
        out.append(contentsOf: shortDayNames[weekday])
        out.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: " ")])
        appendDigits(date.day, count: 2, to: &out)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: monthNames[date.month - 1])
        out.append(UInt8(ascii: " "))
        appendDigits(date.year, count: 4, to: &out)
        out.append(UInt8(ascii: " "))
        appendDigits(secondOfDay / 3600, count: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, count: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, count: 2, to: &out)
        out.append(contentsOf: Array(" GMT".utf8))
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses an HTTP-date into seconds since the epoch, or nil when `text` is none of the three forms.
    ///
    /// Accepts IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) and, as RFC 9110 §5.6.7 says recipients MUST, the
    /// obsolete RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`) forms.
    /// The day name must be a valid one but is not checked against the date: it is redundant, and rejecting a
    /// wrong one would only turn a usable validator into an ignored one. Surrounding spaces are ignored.
    ///
    /// - Parameter now: the current time, used only for RFC 850's two-digit year, which is read as the most recent
    ///   matching year that is not more than 50 years in the future (§5.6.7).
    public static func parse(_ text: some StringProtocol, now: Int = currentEpochSeconds()) -> Int? {
        let bytes = Array(text.trimmingSpaces.utf8)
        if let value = parseIMFFixdate(bytes) { return value }
        if let value = parseRFC850(bytes, now: now) { return value }
        return parseAsctime(bytes)
    }

    // MARK: - Forms

    /// `day-name "," SP 2DIGIT SP month SP 4DIGIT SP hh:mm:ss SP "GMT"`
    private static func parseIMFFixdate(_ bytes: [UInt8]) -> Int? {
        var scanner = Scanner(bytes)
        guard scanner.name(in: shortDayNames) != nil, scanner.literal(", "),
            let day = scanner.digits(2), scanner.literal(" "),
            let month = scanner.name(in: monthNames), scanner.literal(" "),
            let year = scanner.digits(4), scanner.literal(" "),
            let time = scanner.timeOfDay(), scanner.literal(" GMT"), scanner.isAtEnd
        else { return nil }
        return epochSeconds(year: year, month: month + 1, day: day, secondOfDay: time)
    }

    /// `day-name-l "," SP 2DIGIT "-" month "-" 2DIGIT SP hh:mm:ss SP "GMT"`
    private static func parseRFC850(_ bytes: [UInt8], now: Int) -> Int? {
        var scanner = Scanner(bytes)
        guard scanner.name(in: longDayNames) != nil, scanner.literal(", "),
            let day = scanner.digits(2), scanner.literal("-"),
            let month = scanner.name(in: monthNames), scanner.literal("-"),
            let shortYear = scanner.digits(2), scanner.literal(" "),
            let time = scanner.timeOfDay(), scanner.literal(" GMT"), scanner.isAtEnd
        else { return nil }
        let currentYear = civil(fromDays: floorDivide(now, 86_400)).year
        var year = currentYear - floorModulo(currentYear, 100) + shortYear
        if year - currentYear > 50 { year -= 100 }
        return epochSeconds(year: year, month: month + 1, day: day, secondOfDay: time)
    }

    /// `day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP hh:mm:ss SP 4DIGIT`
    private static func parseAsctime(_ bytes: [UInt8]) -> Int? {
        var scanner = Scanner(bytes)
        guard scanner.name(in: shortDayNames) != nil, scanner.literal(" "),
            let month = scanner.name(in: monthNames), scanner.literal(" ")
        else { return nil }
        let day: Int
        if scanner.literal(" ") {
            guard let digit = scanner.digits(1) else { return nil }
            day = digit
        } else {
            guard let digits = scanner.digits(2) else { return nil }
            day = digits
        }
        guard scanner.literal(" "), let time = scanner.timeOfDay(), scanner.literal(" "),
            let year = scanner.digits(4), scanner.isAtEnd
        else { return nil }
        return epochSeconds(year: year, month: month + 1, day: day, secondOfDay: time)
    }

    /// Validates the calendar fields and converts them; nil for dates such as 31 Apr or 29 Feb 2023.
    private static func epochSeconds(year: Int, month: Int, day: Int, secondOfDay: Int) -> Int? {
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month) else { return nil }
        return days(fromCivil: year, month: month, day: day) * 86_400 + secondOfDay
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian, 400-year eras; H. Hinnant's "chrono-compatible" algorithms)

    /// Days since 1970-01-01 for a civil date.
    static func days(fromCivil year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil date of a day count since 1970-01-01.
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // March is 0, so the leap day is the year's last day
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func floorDivide(_ a: Int, _ b: Int) -> Int {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }

    private static func floorModulo(_ a: Int, _ b: Int) -> Int {
        a - floorDivide(a, b) * b
    }

    private static func appendDigits(_ value: Int, count: Int, to out: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<count { divisor *= 10 }
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }

    private static let shortDayNames: [[UInt8]] = [
        "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
    ].map { Array($0.utf8) }
    private static let longDayNames: [[UInt8]] = [
        "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
    ].map { Array($0.utf8) }
    private static let monthNames: [[UInt8]] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ].map { Array($0.utf8) }

    /// A cursor over the bytes of a date. Names and "GMT" are case-sensitive, as the grammar's `%s"…"` says.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var isAtEnd: Bool { index == bytes.count }

        mutating func literal(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard bytes.count - index >= count else { return false }
            let matches = text.withUTF8Buffer { bytes[index..<index + count].elementsEqual($0) }
            if matches { index += count }
            return matches
        }

        /// The index in `names` of the name at the cursor.
        mutating func name(in names: [[UInt8]]) -> Int? {
            for (position, name) in names.enumerated()
            where bytes.count - index >= name.count && bytes[index..<index + name.count].elementsEqual(name) {
                index += name.count
                return position
            }
            return nil
        }

        /// Exactly `count` ASCII digits.
        mutating func digits(_ count: Int) -> Int? {
            guard bytes.count - index >= count else { return nil }
            var value = 0
            for byte in bytes[index..<index + count] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }

        /// `hh:mm:ss` as seconds since midnight. A second of 60 (a leap second, which the grammar allows) counts
        /// as the first second of the next minute.
        mutating func timeOfDay() -> Int? {
            guard let hour = digits(2), hour < 24, literal(":"), let minute = digits(2), minute < 60, literal(":"),
                let second = digits(2), second <= 60
            else { return nil }
            return hour * 3600 + minute * 60 + second
        }
    }
}

/// The `Date` header value (RFC 9110 §6.6.1), formatted at most once per second by whoever owns the cache.
///
/// Each event loop owns one, so there is no locking and no shared mutable state: the connection asks for the
/// current string on every response and only a change of second costs a format.
public struct HTTPDateCache: Sendable {
    private var cachedSecond = Int.min
    private var cachedString = ""

    public init() {}

    /// The IMF-fixdate for `second` (seconds since the epoch), reusing the last one when the second is unchanged.
    public mutating func string(for second: Int) -> String {
        if second != cachedSecond {
            cachedSecond = second
            cachedString = HTTPDate.format(epochSeconds: second)
        }
        return cachedString
    }

    /// The IMF-fixdate for the current second.
    public mutating func now() -> String {
        string(for: HTTPDate.currentEpochSeconds())
    }
}
