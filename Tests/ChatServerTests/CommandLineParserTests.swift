import Testing

@testable import ChatServer

private func parse(_ line: String) throws(UsageError) -> ParsedCommand {
    try CommandLineParser.chat.parse(line.split(separator: " ").map(String.init))
}

private func usageError(_ arguments: [String]) -> UsageError? {
    do {
        let parsed = try CommandLineParser.chat.parse(arguments)
        Issue.record("expected a usage error, got \(parsed)")
        return nil
    } catch {
        return error
    }
}

private func usageError(_ line: String) -> UsageError? {
    usageError(line.split(separator: " ").map(String.init))
}

@Suite struct CommandLineParserTests {
    @Test func parsesServeWithBothOptionForms() throws {
        let parsed = try parse("serve --listen 0.0.0.0:80 --loops=4 --static-dir= --no-migrate")
        #expect(
            parsed
                == ParsedCommand(
                    name: "serve",
                    options: ["listen": "0.0.0.0:80", "loops": "4", "static-dir": ""],
                    flags: ["no-migrate"],
                    overrides: ["server.listen": "0.0.0.0:80", "server.loops": "4", "server.static_dir": ""]))
    }

    @Test func acceptsGlobalOptionsBeforeAndAfterTheCommand() throws {
        let before = try parse("--config /etc/chat.conf --log-level debug serve --data-dir=/srv")
        let after = try parse("serve --config=/etc/chat.conf --log-level=debug --data-dir /srv")
        #expect(before == after)
        #expect(before.name == "serve")
        #expect(before.configPath == "/etc/chat.conf")
        #expect(before.overrides == ["log.level": "debug", "server.data_dir": "/srv"])
        #expect(try parse("--log-format json migrate status").overrides == ["log.format": "json"])
    }

    @Test func valuesMayLookLikeOptionsOrContainEquals() throws {
        let parsed = try CommandLineParser.chat.parse(["serve", "--config", "--weird", "--static-dir=a=b"])
        #expect(parsed.options == ["config": "--weird", "static-dir": "a=b"])
    }

    @Test func theLastOccurrenceOfAnOptionWins() throws {
        let parsed = try parse("serve --listen 127.0.0.1:1 --listen 127.0.0.1:2")
        #expect(parsed.options["listen"] == "127.0.0.1:2")
        #expect(parsed.overrides["server.listen"] == "127.0.0.1:2")
    }

    @Test func parsesMigrateSubcommands() throws {
        #expect(try parse("migrate up") == ParsedCommand(name: "migrate", subcommand: "up"))
        #expect(try parse("migrate up 3") == ParsedCommand(name: "migrate", subcommand: "up", positional: ["3"]))
        #expect(try parse("migrate down 1").positional == ["1"])
        #expect(try parse("migrate status") == ParsedCommand(name: "migrate", subcommand: "status"))
        #expect(try parse("migrate --data-dir /d down").overrides == ["server.data_dir": "/d"])
    }

    @Test func parsesVersionAndHelp() throws {
        #expect(try parse("version") == ParsedCommand(name: "version"))
        #expect(try parse("help") == ParsedCommand(name: "help"))
        #expect(try parse("help migrate") == ParsedCommand(name: "help", positional: ["migrate"]))
    }

    @Test func helpAnywhereAsksAboutTheCommand() throws {
        let serveHelp = ParsedCommand(name: "help", positional: ["serve"])
        #expect(try parse("serve --help") == serveHelp)
        #expect(try parse("serve -h") == serveHelp)
        #expect(try parse("-h serve") == serveHelp)
        #expect(try parse("--help serve --listen x") == serveHelp)
        #expect(try parse("serve --bogus --help") == serveHelp)  // help wins over the error
        #expect(try parse("migrate up 1 2 3 -h") == ParsedCommand(name: "help", positional: ["migrate"]))
        #expect(try parse("--help") == ParsedCommand(name: "help"))
        #expect(try parse("-h") == ParsedCommand(name: "help"))
    }

    @Test func doubleDashEndsOptions() throws {
        #expect(try parse("-- version") == ParsedCommand(name: "version"))
        #expect(try parse("help -- serve") == ParsedCommand(name: "help", positional: ["serve"]))
        #expect(usageError("serve -- --listen")?.message == "'chat serve' takes no arguments, but got '--listen'")
        #expect(usageError("help -- --help")?.message == "'--help' is not a chat command; did you mean 'help'?")
    }

    @Test func missingOrUnknownCommandIsAUsageError() {
        let missing = usageError([])
        #expect(missing?.message == "missing command")
        #expect(missing?.description == "chat: missing command\nSee 'chat --help'.")
        #expect(usageError("--config x")?.message == "missing command")

        let unknown = usageError("start")
        #expect(unknown?.message == "'start' is not a chat command")
        #expect(unknown?.command == nil)
        #expect(usageError("serv")?.message == "'serv' is not a chat command; did you mean 'serve'?")
        #expect(usageError("help servee")?.message == "'servee' is not a chat command; did you mean 'serve'?")
    }

    @Test func unknownOptionPointsToTheCommandsHelp() {
        let error = usageError("serve --lisen 1.2.3.4:5")
        #expect(error?.message == "unknown option '--lisen' for 'serve'; did you mean '--listen'?")
        #expect(error?.command == "serve")
        #expect(error?.description.hasSuffix("\nSee 'chat serve --help'.") == true)
        #expect(error?.exitStatus == .usage)
        #expect(ExitStatus.usage.rawValue == 2 && ExitStatus.failure.rawValue == 1 && ExitStatus.success.rawValue == 0)

        #expect(usageError("migrate up --frobnicate=1")?.message == "unknown option '--frobnicate' for 'migrate'")
        #expect(usageError("version -x")?.message == "unknown option '-x' for 'version'")
        #expect(
            usageError("serve -listen x")?.message == "unknown option '-listen' for 'serve'; did you mean '--listen'?")
        #expect(
            usageError("--frobnicate serve")?.description == "chat: unknown option '--frobnicate'\nSee 'chat --help'.")
    }

    @Test func aCommandOptionBeforeTheCommandIsExplained() {
        let error = usageError("--listen 1.2.3.4:5 serve")
        #expect(error?.message == "unknown option '--listen'; it is an option of 'serve': put it after the command")
        #expect(error?.command == "serve")
        // Command options are not accepted by other commands.
        #expect(usageError("migrate status --listen x")?.message == "unknown option '--listen' for 'migrate'")
    }

    @Test func optionValuesAreChecked() {
        #expect(usageError("serve --listen")?.message == "option '--listen' requires a value (--listen ADDR)")
        #expect(usageError("serve --no-migrate=yes")?.message == "option '--no-migrate' does not take a value")
        #expect(usageError("--config")?.message == "option '--config' requires a value (--config FILE)")
        #expect(usageError("--config")?.command == nil)
    }

    @Test func subcommandsAndArgumentsAreChecked() {
        #expect(usageError("migrate")?.message == "'migrate' needs a subcommand: up, down or status")
        #expect(
            usageError("migrate sideways")?.message
                == "unknown subcommand 'sideways' for 'migrate' (expected up, down or status)")
        #expect(
            usageError("migrate stats")?.message == "unknown subcommand 'stats' for 'migrate'; did you mean 'status'?")
        #expect(usageError("migrate up 0")?.message == "N must be a whole number of at least 1, not '0'")
        #expect(usageError("migrate down two")?.message == "N must be a whole number of at least 1, not 'two'")
        #expect(usageError("migrate down -1")?.message == "unknown option '-1' for 'migrate'")
        #expect(usageError("migrate up 1 2")?.message == "too many arguments for 'chat migrate up': unexpected '2'")
        #expect(usageError("migrate status 1")?.message == "'chat migrate status' takes no arguments, but got '1'")
        #expect(usageError("migrate status 1")?.command == "migrate")
        #expect(usageError("version now")?.message == "'chat version' takes no arguments, but got 'now'")
        #expect(usageError("help serve migrate")?.message == "too many arguments for 'chat help': unexpected 'migrate'")
    }

    @Test func settingOptionsUseTheFlagsOfTheSettingsTable() {
        let parser = CommandLineParser.chat
        for option in parser.globalOptions + parser.commands.flatMap(\.options) {
            guard let key = option.settingKey else { continue }
            #expect(Settings.key(forFlag: option.name) == key, "--\(option.name)")
        }
        // Every setting that has a flag is reachable from some command.
        let reachable = Set((parser.globalOptions + parser.commands.flatMap(\.options)).compactMap(\.settingKey))
        for definition in Settings.definitions where definition.flag != nil {
            #expect(reachable.contains(definition.key), "\(definition.key)")
        }
    }

    @Test func flagOverridesReachSettings() throws {
        let parsed = try parse("--log-level warn serve --listen [::1]:9999 --loops 2 --data-dir /d --static-dir=")
        let settings = try Settings.load(
            configPath: nil, environment: ["CHAT_SERVER_LOOPS": "7"], overrides: parsed.overrides)
        #expect(settings.server.listen == ListenAddress(host: "::1", port: 9999))
        #expect(settings.server.loops == 2)
        #expect(settings.server.dataDir == "/d")
        #expect(settings.server.staticDir == nil)
        #expect(settings.log.level == .warn)
    }

    @Test func aCustomTableParsesTheSameWay() throws {
        let parser = CommandLineParser(
            programName: "tool",
            commands: [
                CommandSpec(
                    "copy", summary: "Copy",
                    options: [OptionSpec("force", short: "f", help: "Overwrite")],
                    arguments: [ArgumentSpec("from", optional: false), ArgumentSpec("to", optional: true)])
            ],
            globalOptions: [OptionSpec("help", short: "h", help: "Help")])
        #expect(
            try parser.parse(["copy", "-f", "a", "b"])
                == ParsedCommand(name: "copy", positional: ["a", "b"], flags: ["force"]))
        #expect(throws: UsageError("'tool copy' requires <from>", command: "copy", programName: "tool")) {
            try parser.parse(["copy"])
        }
    }
}
