import Testing

@testable import ChatServer

@Suite struct ConfigValueTests {
    @Test(arguments: [
        ("0", 0), ("1048576", 1_048_576), ("512k", 524_288), ("512K", 524_288), ("1m", 1_048_576),
        ("1M", 1_048_576), ("2g", 2_147_483_648), ("64KiB", 65_536), ("64kib", 65_536), ("1MiB", 1_048_576),
        ("1GiB", 1_073_741_824), (" 3 MiB ", 3_145_728), ("100b", 100), ("100B", 100),
    ])
    func parsesSizes(text: String, bytes: Int) throws {
        #expect(try SettingValue.size(text, in: 0...Int.max) == bytes)
    }

    @Test(arguments: [
        "", "m", "1.5m", "-1", "1mb", "1 kilobyte", "1e6", "10 m m", "99999999999999999999", "9223372036854775807k",
    ])
    func rejectsBadSizes(text: String) {
        #expect(throws: SettingValueError.self) { try SettingValue.size(text, in: 0...Int.max) }
    }

    @Test func sizeRangeIsEnforcedAfterTheSuffix() throws {
        #expect(try SettingValue.size("1k", in: 64...2048) == 1024)
        #expect(throws: SettingValueError.self) { try SettingValue.size("3k", in: 64...2048) }
        #expect(throws: SettingValueError.self) { try SettingValue.size("32", in: 64...2048) }
    }

    @Test(arguments: [
        ("10", Duration.seconds(10)), ("0", .zero), ("500ms", .milliseconds(500)), ("10s", .seconds(10)),
        ("2m", .seconds(120)), ("1h", .seconds(3600)), ("30d", .seconds(2_592_000)), (" 3 s ", .seconds(3)),
        ("10S", .seconds(10)),
    ])
    func parsesDurations(text: String, duration: Duration) throws {
        #expect(try SettingValue.duration(text) == duration)
    }

    @Test func plainDurationsUseTheGivenUnit() throws {
        #expect(try SettingValue.duration("5000", plainUnit: .milliseconds) == .seconds(5))
        #expect(try SettingValue.duration("5s", plainUnit: .milliseconds) == .seconds(5))
    }

    @Test(arguments: ["", "s", "1.5s", "-1", "10 sec", "1w", "ten", "9223372036854775807h"])
    func rejectsBadDurations(text: String) {
        #expect(throws: SettingValueError.self) { try SettingValue.duration(text) }
    }

    @Test func zeroDurationCanBeRefused() throws {
        #expect(
            throws: SettingValueError(
                expected: "a duration like 10 (seconds), 500ms, 10s, 2m, 1h or 30d, greater than 0")
        ) {
            try SettingValue.duration("0ms", allowZero: false)
        }
        #expect(try SettingValue.duration("1ms", allowZero: false) == .milliseconds(1))
    }

    @Test func parsesBooleans() throws {
        for text in ["true", "TRUE", "yes", "on", "1", " On "] {
            #expect(try SettingValue.bool(text) == true, "\(text)")
        }
        for text in ["false", "False", "no", "off", "0"] {
            #expect(try SettingValue.bool(text) == false, "\(text)")
        }
        for text in ["", "2", "y", "enabled", "truee"] {
            #expect(throws: SettingValueError.self, "\(text)") { try SettingValue.bool(text) }
        }
    }

    @Test func parsesIntegersWithinRange() throws {
        #expect(try SettingValue.integer("0", in: 0...10) == 0)
        #expect(try SettingValue.integer(" 10 ", in: 0...10) == 10)
        #expect(throws: SettingValueError(expected: "a whole number from 0 to 10")) {
            try SettingValue.integer("11", in: 0...10)
        }
        for text in ["", "-1", "+1", "1.0", "0x10", "ten", "99999999999999999999"] {
            #expect(throws: SettingValueError.self, "\(text)") { try SettingValue.integer(text, in: 0...Int.max) }
        }
    }

    @Test func parsesListenAddresses() throws {
        #expect(ListenAddress("127.0.0.1:8080") == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(ListenAddress("0.0.0.0:0")?.port == 0)
        let ipv6 = try #require(ListenAddress("[::1]:8080"))
        #expect(ipv6.host == "::1" && ipv6.port == 8080 && ipv6.isIPv6)
        #expect(ipv6.description == "[::1]:8080")
        #expect(ListenAddress("[::]:65535")?.port == 65535)
        #expect(ListenAddress("127.0.0.1:8080")?.description == "127.0.0.1:8080")
        #expect(ListenAddress(host: "fe80::1", port: 1).description == "[fe80::1]:1")
    }

    @Test(arguments: [
        "", "8080", ":8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80a",
        "256.0.0.1:80", "localhost:8080", "::1:8080", "[::1]", "[::1]8080", "[::1:8080", "[127.0.0.1]:80",
        "1.2.3:80", "127.0.0.1:00080000",
    ])
    func rejectsBadListenAddresses(text: String) {
        #expect(ListenAddress(text) == nil)
    }

    @Test func parsesOrigins() throws {
        #expect(try SettingValue.origins("") == [])
        #expect(try SettingValue.origins(" , ") == [])
        #expect(try SettingValue.origins("*") == ["*"])
        #expect(
            try SettingValue.origins("https://chat.example.com, http://localhost:3000,http://[::1]:8080")
                == ["https://chat.example.com", "http://localhost:3000", "http://[::1]:8080"])
        for text in ["chat.example.com", "https://x.com/", "https://x.com/path", "ftp://x.com", "https://", "a, *b"] {
            #expect(throws: SettingValueError.self, "\(text)") { try SettingValue.origins(text) }
        }
    }

    @Test func parsesHeaderNames() throws {
        #expect(try SettingValue.headerName("X-Request-Id") == "X-Request-Id")
        #expect(try SettingValue.headerName(" X-Trace_ID ") == "X-Trace_ID")
        for text in ["", "X Request", "X-Req:Id", "Ünicode"] {
            #expect(throws: SettingValueError.self, "\(text)") { try SettingValue.headerName(text) }
        }
    }

    @Test func editDistanceSuggestsCloseWordsOnly() {
        #expect(ConfigText.editDistance("max_bdy", "max_body") == 1)
        #expect(ConfigText.editDistance("", "abc") == 3)
        #expect(ConfigText.editDistance("kitten", "sitting") == 3)
        #expect(ConfigText.suggestion(for: "http.max_bdy", among: Settings.keys) == "http.max_body")
        #expect(ConfigText.suggestion(for: "zzz", among: Settings.keys) == nil)
    }

    @Test func quotesValuesForMessages() {
        #expect(ConfigText.quoted("abc") == #""abc""#)
        #expect(ConfigText.quoted("a\"b\\c\nd\u{1}") == #""a\"b\\c\nd\u0001""#)
    }
}
