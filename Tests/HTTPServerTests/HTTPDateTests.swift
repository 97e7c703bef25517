import Testing

@testable import HTTPServer

@Suite struct HTTPDateTests {
    /// 2025-06-01T00:00:00Z, a fixed "now" for RFC 850's two-digit years.
    private let june2025 = 1_748_736_000

    @Test(arguments: [
        (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),  // RFC 9110 §5.6.7's example
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (-1, "Wed, 31 Dec 1969 23:59:59 GMT"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (951_868_800, "Wed, 01 Mar 2000 00:00:00 GMT"),
        (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"),  // 2100 is not a leap year
        (2_147_483_648, "Tue, 19 Jan 2038 03:14:08 GMT"),
        (1_748_736_000, "Sun, 01 Jun 2025 00:00:00 GMT"),
        (-2_208_988_800, "Mon, 01 Jan 1900 00:00:00 GMT"),
        (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 GMT"),
        (-62_167_219_200, "Sat, 01 Jan 0000 00:00:00 GMT"),
    ])
    func formatsKnownInstants(seconds: Int, text: String) {
        #expect(HTTPDate.format(epochSeconds: seconds) == text)
        #expect(HTTPDate.parse(text) == seconds)
    }

    @Test func formatClampsToFourDigitYears() {
        #expect(HTTPDate.format(epochSeconds: Int.max) == "Fri, 31 Dec 9999 23:59:59 GMT")
        #expect(HTTPDate.format(epochSeconds: Int.min) == "Sat, 01 Jan 0000 00:00:00 GMT")
    }

    @Test(arguments: [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "  Sun, 06 Nov 1994 08:49:37 GMT\t",
        "Mon, 06 Nov 1994 08:49:37 GMT",  // wrong day name: accepted, the date decides
    ])
    func parsesAllThreeForms(text: String) {
        #expect(HTTPDate.parse(text, now: june2025) == 784_111_777)
    }

    @Test func asctimeWithTwoDigitDay() {
        #expect(HTTPDate.parse("Wed Nov 16 08:49:37 1994") == 784_111_777 + 10 * 86_400)
    }

    @Test(arguments: [
        ("Sunday, 06-Nov-94 08:49:37 GMT", 1994),
        ("Tuesday, 01-Jan-75 00:00:00 GMT", 2075),  // exactly 50 years ahead: still the future reading
        ("Thursday, 01-Jan-76 00:00:00 GMT", 1976),  // 51 years ahead: the past century
        ("Sunday, 01-Jun-25 00:00:00 GMT", 2025),
        ("Saturday, 01-Jan-00 00:00:00 GMT", 2000),
    ])
    func rfc850TwoDigitYearsAreWithinFiftyYearsOfNow(text: String, year: Int) throws {
        let seconds = try #require(HTTPDate.parse(text, now: june2025))
        #expect(HTTPDate.civil(fromDays: seconds / 86_400).year == year)
    }

    @Test func rfc850CenturyDependsOnNow() {
        // In 2080 a "30" is 2030, not 2130 (more than 50 years ahead).
        let year2080 = HTTPDate.days(fromCivil: 2080, month: 1, day: 1) * 86_400
        let seconds = HTTPDate.parse("Tuesday, 01-Jan-30 00:00:00 GMT", now: year2080)
        #expect(seconds == HTTPDate.days(fromCivil: 2030, month: 1, day: 1) * 86_400)
    }

    @Test(arguments: [
        "",
        "Sun, 06 Nov 1994 08:49:37",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 gmt",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 31 Apr 1994 08:49:37 GMT",
        "Sun, 29 Feb 2023 08:49:37 GMT",
        "Sun, 29 Feb 1900 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT junk",
        "Sun,  06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 +0000",
        "Sun, 06 Nov +994 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",
        "1994-11-06T08:49:37Z",
    ])
    func rejectsMalformedDates(text: String) {
        #expect(HTTPDate.parse(text, now: june2025) == nil)
    }

    @Test func leapDaysAndLeapSeconds() {
        #expect(HTTPDate.parse("Thu, 29 Feb 2024 12:00:00 GMT") == 1_709_208_000)
        #expect(HTTPDate.parse("Sat, 29 Feb 2000 00:00:00 GMT") == 951_782_400)
        // 23:59:60 is the same instant as the next midnight (the grammar allows a leap second).
        #expect(HTTPDate.parse("Sat, 31 Dec 2016 23:59:60 GMT") == HTTPDate.parse("Sun, 01 Jan 2017 00:00:00 GMT"))
    }

    @Test func formatAndParseRoundTripAcrossTheRange() {
        var seconds = HTTPDate.minimumEpochSeconds
        var checked = 0
        var failures: [String] = []
        while seconds <= HTTPDate.maximumEpochSeconds {
            let text = HTTPDate.format(epochSeconds: seconds)
            if text.utf8.count != 29 || HTTPDate.parse(text) != seconds { failures.append("\(seconds) → \(text)") }
            // A step that is not a multiple of a day, an hour or a minute visits every time of day.
            seconds += 86_400 * 37 + 3_661 * 7 + 13
            checked += 1
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        #expect(checked > 90_000)
    }

    @Test func civilDaysAdvanceOneCalendarDayAtATime() {
        // Walks 1599-03-01 … 2401-03-01 day by day, checking each step against the plain Gregorian rules, so the
        // era arithmetic is tested independently of its own inverse.
        var date = (year: 1599, month: 3, day: 1)
        var days = HTTPDate.days(fromCivil: 1599, month: 3, day: 1)
        let last = HTTPDate.days(fromCivil: 2401, month: 3, day: 1)
        var mismatches = 0
        while days < last {
            days += 1
            let leap = (date.year % 4 == 0 && date.year % 100 != 0) || date.year % 400 == 0
            let monthLength = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][date.month - 1]
            if date.day < monthLength {
                date.day += 1
            } else if date.month < 12 {
                date = (date.year, date.month + 1, 1)
            } else {
                date = (date.year + 1, 1, 1)
            }
            let civil = HTTPDate.civil(fromDays: days)
            if civil != date || HTTPDate.days(fromCivil: date.year, month: date.month, day: date.day) != days {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
        #expect(HTTPDate.civil(fromDays: 0) == (1970, 1, 1))
    }

    @Test func cacheFormatsPerSecond() {
        var cache = HTTPDateCache()
        #expect(cache.string(for: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(cache.string(for: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(cache.string(for: 784_111_778) == "Sun, 06 Nov 1994 08:49:38 GMT")
        #expect(cache.string(for: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(cache.string(for: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    }

    @Test func cacheNowIsAValidDate() {
        var cache = HTTPDateCache()
        let text = cache.now()
        #expect(HTTPDate.parse(text) != nil)
        #expect(text.hasSuffix(" GMT"))
    }
}
