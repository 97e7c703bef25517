import Testing

@testable import ChatServer

@Suite struct CommandLineHelpTests {
    let parser = CommandLineParser.chat

    @Test func overviewIsGitStyle() {
        let text = parser.overview()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "usage: chat [<options>] <command> [<args>]")
        #expect(text.contains("\nCommands:\n"))
        for command in parser.commands {
            #expect(
                lines.contains { $0.hasPrefix("  \(command.name) ") && $0.hasSuffix(command.summary) },
                "\(command.name)")
        }
        #expect(lines.contains { $0.hasPrefix("  --config FILE ") })
        #expect(lines.contains { $0.hasPrefix("  -h, --help ") })
        #expect(text.contains("CHAT_<SECTION>_<KEY>"))
        #expect(text.hasSuffix("See 'chat help <command>' for more information on a specific command.\n"))
    }

    @Test func helpTextFallsBackToTheOverview() {
        #expect(parser.helpText(for: nil) == parser.overview())
        #expect(parser.helpText(for: "nope") == parser.overview())
        #expect(parser.helpText(for: "serve") == parser.help(for: .serve))
    }

    @Test func serveHelpListsItsOptionsAndTheCommonOnes() {
        let text = parser.helpText(for: "serve")
        #expect(text.hasPrefix("usage: chat serve [<options>]\n\n"))
        for option in [
            "--listen ADDR", "--loops N", "--static-dir DIR", "--no-migrate", "--config FILE",
            "--data-dir DIR", "--log-level LEVEL", "--log-format FORMAT", "-h, --help",
        ] {
            #expect(text.contains("  \(option) "), "\(option)")
        }
        #expect(text.contains("[server.listen]"))
        #expect(text.contains("\nOptions:\n") && text.contains("\nCommon options:\n"))
    }

    @Test func migrateHelpListsEachSubcommandUsage() {
        let text = parser.helpText(for: "migrate")
        #expect(
            text.hasPrefix(
                """
                usage: chat migrate up [N]
                   or: chat migrate down [N]
                   or: chat migrate status

                """))
        #expect(text.contains("\nSubcommands:\n  up [N]     Apply pending migrations"))
        #expect(text.contains("  down [N]   Roll back the last N applied migrations (default 1)\n"))
        #expect(text.contains("  status     List the migrations"))
    }

    @Test func versionAndHelpHaveTheirOwnUsage() {
        #expect(
            parser.helpText(for: "version").hasPrefix("usage: chat version\n\nPrints the version of chat and exits.\n"))
        #expect(parser.helpText(for: "help").hasPrefix("usage: chat help [command]\n"))
    }

    @Test func everyLineFitsTheWidthAndOptionColumnsAlign() {
        for topic in [nil] + parser.commands.map(\.name) {
            let text = parser.helpText(for: topic)
            for line in text.split(separator: "\n") {
                #expect(line.count <= CommandLineParser.helpWidth, "\(topic ?? "overview"): \(line)")
            }
            // Option descriptions start in one column across the Options and Common options tables.
            let columns = Set(
                text.split(separator: "\n").filter { $0.hasPrefix("  -") }.compactMap { line -> Int? in
                    let afterSynopsis = line.dropFirst(2).firstRange(of: "  ")?.upperBound
                    return afterSynopsis.flatMap { index in
                        line[index...].firstIndex { $0 != " " }.map { line.distance(from: line.startIndex, to: $0) }
                    }
                })
            #expect(columns.count == 1, "\(topic ?? "overview"): \(columns)")
        }
    }

    @Test func wrapsLongTextAtWordBoundaries() {
        let text = CommandLineParser.wrap(String(repeating: "word ", count: 40), indent: "    ")
        let lines = text.split(separator: "\n")
        #expect(lines.count > 1)
        #expect(lines.allSatisfy { $0.count <= CommandLineParser.helpWidth && $0.hasPrefix("    word") })
        #expect(text.hasSuffix("word\n"))
    }

    @Test func aLongSynopsisMovesItsHelpToTheNextLine() {
        let parser = CommandLineParser(
            programName: "tool",
            commands: [
                CommandSpec(
                    "run", summary: "Run",
                    options: [OptionSpec("a-really-long-option-name", value: "VALUE", help: "Explained below")])
            ],
            globalOptions: [])
        let text = parser.helpText(for: "run")
        #expect(
            text.contains(
                "  --a-really-long-option-name VALUE\n" + String(repeating: " ", count: 27) + "Explained below\n"))
        #expect(text.hasPrefix("usage: tool run [<options>]\n\nRun.\n"))
    }
}
