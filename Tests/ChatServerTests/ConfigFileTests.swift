import Testing

@testable import ChatServer

private func parse(_ text: String) throws(ConfigError) -> [ConfigFileEntry] {
    try ConfigFileParser.parse(text, path: "chat.conf", sections: ["server", "http", "log"])
}

/// The error's full text, e.g. `chat.conf:3: unknown section [x]`.
private func parseError(_ text: String) -> String? {
    do {
        _ = try parse(text)
        return nil
    } catch {
        return error.description
    }
}

@Suite struct ConfigFileTests {
    @Test func readsSectionsKeysAndLineNumbers() throws {
        let entries = try parse(
            """
            top = 1

            [server]
            listen = 127.0.0.1:9000
            loops=2

            [http]
              max_body   =   2m  
            """)
        #expect(
            entries == [
                ConfigFileEntry(key: "top", value: "1", line: 1),
                ConfigFileEntry(key: "server.listen", value: "127.0.0.1:9000", line: 4),
                ConfigFileEntry(key: "server.loops", value: "2", line: 5),
                ConfigFileEntry(key: "http.max_body", value: "2m", line: 8),
            ])
    }

    @Test func skipsCommentsAndBlankLines() throws {
        let entries = try parse(
            """
            # full-line comment
               # indented comment
            [server]   # comment after a header
            \t
            listen = 1.2.3.4:5 # trailing comment
            data_dir = /srv/chat\t# after a tab
            static_dir = web#not-a-comment
            loops = # only a comment, so the value is empty
            """)
        #expect(entries.map(\.value) == ["1.2.3.4:5", "/srv/chat", "web#not-a-comment", ""])
        #expect(entries.map(\.line) == [5, 6, 7, 8])
    }

    @Test func handlesQuotedValues() throws {
        let entries = try parse(
            #"""
            [server]
            a = "  spaced  "
            b = "has # hash"   # and a comment
            c = "quote \" and backslash \\"
            d = ""
            e = "x"#comment right after the quote
            """#)
        #expect(entries.map(\.value) == ["  spaced  ", "has # hash", #"quote " and backslash \"#, "", "x"])
    }

    @Test func acceptsWindowsLineEndingsAndAByteOrderMark() throws {
        let entries = try parse("\u{FEFF}[server]\r\nlisten = 1.2.3.4:5\r\n# c\r\nloops = \"3\"\r\n")
        #expect(
            entries == [
                ConfigFileEntry(key: "server.listen", value: "1.2.3.4:5", line: 2),
                ConfigFileEntry(key: "server.loops", value: "3", line: 4),
            ])
    }

    @Test func valueMayContainEqualsSigns() throws {
        #expect(try parse("[log]\nlevel = a=b=c").first?.value == "a=b=c")
    }

    @Test func emptyFileHasNoEntries() throws {
        #expect(try parse("").isEmpty)
        #expect(try parse("\n\n# nothing\n").isEmpty)
    }

    @Test func reportsMalformedLinesWithTheirNumber() {
        #expect(
            parseError("[server]\nlisten") == #"chat.conf:2: expected "key = value" or "[section]", found "listen""#)
        #expect(parseError("\n = 3") == #"chat.conf:2: invalid key "": use letters, digits and "_""#)
        #expect(
            parseError("[server]\nmax body = 3") == #"chat.conf:2: invalid key "max body": use letters, digits and "_""#
        )
        #expect(
            parseError("[server]\nhttp.max_body = 3")?.hasPrefix(#"chat.conf:2: invalid key "http.max_body""#) == true)
    }

    @Test func reportsBadSectionHeaders() {
        #expect(parseError("[server") == #"chat.conf:1: expected "]" to close the section header "[server""#)
        #expect(parseError("\n[]") == #"chat.conf:2: invalid section name """#)
        #expect(parseError("[server] x") == #"chat.conf:1: unexpected "x" after the section header"#)
        #expect(
            parseError("\n\n[servr]")
                == "chat.conf:3: unknown section [servr]; did you mean [server]? (sections: [http], [log], [server])")
        #expect(
            parseError("[database]") == "chat.conf:1: unknown section [database] (sections: [http], [log], [server])")
    }

    @Test func reportsBadQuotes() {
        #expect(parseError("[log]\nlevel = \"info") == "chat.conf:2: missing closing quote for log.level")
        #expect(
            parseError("[log]\nlevel = \"in\\fo\"")
                == #"chat.conf:2: invalid escape "\\f" (only \" and \\ are allowed) for log.level"#)
        #expect(
            parseError("[log]\nlevel = \"info\" debug")
                == #"chat.conf:2: unexpected "debug" after the closing quote for log.level"#)
        #expect(
            parseError("[log]\nlevel = \"info\\")
                == #"chat.conf:2: invalid escape "\\" (only \" and \\ are allowed) for log.level"#)
    }

    @Test func rejectsDuplicateKeys() {
        #expect(
            parseError("[server]\nlisten = a\n\n[http]\n[server]\nlisten = b")
                == #"chat.conf:6: duplicate key "server.listen" (first set on line 2)"#)
    }
}
