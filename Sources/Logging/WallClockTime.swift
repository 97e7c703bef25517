#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A UTC instant with millisecond precision, rendered as `2026-11-27T10:00:00.123Z`.
///
/// The calendar math is Howard Hinnant's `civil_from_days`: a handful of integer operations per line, which
/// is cheaper than caching the formatted second and avoids shared mutable state between logging threads.
struct WallClockTime: Equatable {
    /// Seconds since 1970-01-01T00:00:00Z.
    var seconds: Int
    /// 0...999.
    var milliseconds: Int

    static func now() -> WallClockTime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return WallClockTime(seconds: Int(spec.tv_sec), milliseconds: Int(spec.tv_nsec) / 1_000_000)
    }

    func appendISO8601(into out: inout [UInt8]) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = Self.civil(fromDays: days)
        appendDigits(year, width: 4, into: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(month, width: 2, into: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(day, width: 2, into: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, width: 2, into: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, width: 2, into: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, width: 2, into: &out)
        out.append(UInt8(ascii: "."))
        appendDigits(milliseconds, width: 3, into: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// Proleptic Gregorian (year, month 1...12, day 1...31) for a count of days since 1970-01-01.
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468  // shift the epoch to 0000-03-01 so leap days fall at the end of each year
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097  // 0...146096
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365  // 0...399
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // 0...365, from March 1
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // 0...11, March = 0
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// Zero-padded to `width`, without allocating; wider values (years past 9999) keep all their digits.
    private func appendDigits(_ value: Int, width: Int, into out: inout [UInt8]) {
        var rest = max(value, 0)  // only years before 0000 could be negative; the realtime clock never goes there
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        while rest / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
