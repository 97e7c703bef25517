import Foundation
import Testing

@testable import Logging

/// 2026-11-27T10:00:00.123Z
private let sampleTime = WallClockTime(seconds: 1_795_773_600, milliseconds: 123)

private func render(
    _ format: LogFormat,
    level: LogLevel = .info,
    component: String = "http",
    _ message: String,
    _ fields: KeyValuePairs<String, String> = [:]
) -> String {
    var bytes: [UInt8] = []
    LogLineFormatter.format(
        format, time: sampleTime, level: level, component: component, message: message, fields: fields, into: &bytes)
    return String(decoding: bytes, as: UTF8.self)
}

private func timestamp(_ seconds: Int, _ milliseconds: Int = 0) -> String {
    var bytes: [UInt8] = []
    WallClockTime(seconds: seconds, milliseconds: milliseconds).appendISO8601(into: &bytes)
    return String(decoding: bytes, as: UTF8.self)
}

@Suite struct TimestampTests {
    @Test func formatsKnownInstants() {
        #expect(timestamp(0) == "1970-01-01T00:00:00.000Z")
        #expect(timestamp(1_795_773_600, 123) == "2026-11-27T10:00:00.123Z")
        #expect(timestamp(951_782_400, 7) == "2000-02-29T00:00:00.007Z")  // leap day of a /400 year
        #expect(timestamp(951_868_799, 999) == "2000-02-29T23:59:59.999Z")
        #expect(timestamp(4_107_542_400) == "2100-03-01T00:00:00.000Z")  // 2100 is not a leap year
        #expect(timestamp(1_704_067_199, 50) == "2023-12-31T23:59:59.050Z")
        #expect(timestamp(-1) == "1969-12-31T23:59:59.000Z")
        #expect(timestamp(253_402_300_800) == "10000-01-01T00:00:00.000Z")
    }

    @Test func civilConversionMatchesTheCalendarForEveryDayOfFourCenturies() {
        // Walk day by day from 1970 and compare with a naive calendar counter.
        var (year, month, day) = (1970, 1, 1)
        for days in 0..<(146_097 + 365) {
            let civil = WallClockTime.civil(fromDays: days)
            #expect(civil.year == year && civil.month == month && civil.day == day, "day \(days)")
            if civil.year != year || civil.month != month || civil.day != day { return }
            let isLeap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            let monthLength = [31, isLeap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
            day += 1
            if day > monthLength { (day, month) = (1, month + 1) }
            if month > 12 { (month, year) = (1, year + 1) }
        }
    }

    @Test func nowIsCloseToFoundationsClock() {
        let now = WallClockTime.now()
        let reference = Date().timeIntervalSince1970
        #expect(abs(Double(now.seconds) - reference) < 5)
        #expect((0...999).contains(now.milliseconds))
    }
}

@Suite struct LogfmtFormatTests {
    @Test func matchesTheDocumentedExample() {
        #expect(
            render(.logfmt, "server started", ["listen": "127.0.0.1:8080"])
                == "ts=2026-11-27T10:00:00.123Z level=info component=http msg=\"server started\" listen=127.0.0.1:8080\n"
        )
    }

    @Test func quotesOnlyWhenNeeded() {
        let line = render(
            .logfmt, level: .warn, "ready",
            ["plain": "abc", "path": #"C:\dir"#, "space": "a b", "equals": "a=b", "quote": #"say "hi""#, "empty": ""])
        #expect(
            line
                == #"ts=2026-11-27T10:00:00.123Z level=warn component=http msg=ready plain=abc path=C:\dir space="a b" equals="a=b" quote="say \"hi\"" empty="""#
                + "\n")
    }

    @Test func escapesControlCharactersSoTheEventStaysOnOneLine() {
        let line = render(.logfmt, "line1\nline2", ["tab": "a\tb", "cr": "x\r", "bell": "\u{07}", "del": "\u{7F}"])
        #expect(
            line
                == #"ts=2026-11-27T10:00:00.123Z level=info component=http msg="line1\nline2" tab="a\tb" cr="x\r" bell="\u0007" del="\u007f""#
                + "\n")
        #expect(line.filter { $0 == "\n" }.count == 1)
    }

    @Test func quotedValuesEscapeBackslashes() {
        #expect(render(.logfmt, #"a \ b"#).contains(#"msg="a \\ b""#))
    }

    @Test func keepsNonASCIITextAsIs() {
        #expect(render(.logfmt, "héllo", ["user": "zoë"]).contains("msg=héllo user=zoë"))
    }

    @Test func sanitizesKeysAndRenamesReservedOnes() {
        let line = render(.logfmt, "m", ["bad key": "1", "a=b": "2", "": "3", "msg": "4", "level": "5"])
        #expect(line.hasSuffix(" msg=m bad_key=1 a_b=2 _=3 _msg=4 _level=5\n"))
    }

    @Test func writesEveryLevelName() {
        for level in LogLevel.allCases {
            #expect(render(.logfmt, level: level, "m").contains(" level=\(level) "))
        }
    }

    @Test func quotesAComponentWithSpaces() {
        #expect(render(.logfmt, component: "my comp", "m").contains(#" component="my comp" "#))
    }
}

@Suite struct JSONFormatTests {
    @Test func matchesTheDocumentedShape() {
        #expect(
            render(.json, "server started", ["listen": "127.0.0.1:8080"])
                == #"{"ts":"2026-11-27T10:00:00.123Z","level":"info","component":"http","msg":"server started","listen":"127.0.0.1:8080"}"#
                + "\n")
    }

    @Test func escapesStrings() {
        let line = render(.json, "a \"quoted\" \\ back\nslash\t\u{01}", ["k\"ey": "v\r\u{1F}", "emoji": "👋"])
        #expect(
            line
                == #"{"ts":"2026-11-27T10:00:00.123Z","level":"info","component":"http","msg":"a \"quoted\" \\ back\nslash\t\u0001","k\"ey":"v\r\u001f","emoji":"👋"}"#
                + "\n")
    }

    @Test func producesJSONThatAParserReadsBack() throws {
        let message = "tricky \"msg\" \\ with\nnewline, tab\t, nul \u{0} and ünïcödé"
        let line = render(.json, level: .error, component: "db", message, ["query": "SELECT \"x\"", "ts": "mine"])
        #expect(line.hasSuffix("}\n"))
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
        #expect(
            object == [
                "ts": "2026-11-27T10:00:00.123Z", "level": "error", "component": "db", "msg": message,
                "query": "SELECT \"x\"", "_ts": "mine",
            ])
    }
}
