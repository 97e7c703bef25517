/// Git-style command-line parsing: `chat [global options] <command> [subcommand] [options] [args]`.
///
/// Global options are accepted before or after the command; a command's own options only after it. Long
/// options take their value as `--opt value` or `--opt=value`; `--` ends option parsing. `-h`/`--help`
/// anywhere turns the invocation into a request for help on the command it names, even if the rest of the
/// line is wrong.
public struct CommandLineParser: Sendable {
    public var programName: String
    public var commands: [CommandSpec]
    /// Options accepted by every command, such as `--config`. Must include `help`.
    public var globalOptions: [OptionSpec]

    public init(programName: String, commands: [CommandSpec], globalOptions: [OptionSpec]) {
        self.programName = programName
        self.commands = commands
        self.globalOptions = globalOptions
    }

    /// Parses the arguments after the program name (`CommandLine.arguments.dropFirst()`).
    public func parse(_ arguments: some Collection<String>) throws(UsageError) -> ParsedCommand {
        let arguments = Array(arguments)
        var parsed = ParsedCommand(name: "")
        var command: CommandSpec?
        var positional: [String] = []
        var helpRequested = false
        // With -h anywhere the user wants help, not a complaint about the rest, so the first error waits.
        var firstError: UsageError?
        var optionsEnded = false
        var index = 0

        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if optionsEnded || argument == "-" || !argument.hasPrefix("-") {
                if command == nil {
                    if let found = commands.first(where: { $0.name == argument }) {
                        command = found
                    } else {
                        firstError = firstError ?? unknownCommandError(argument)
                    }
                } else {
                    positional.append(argument)
                }
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }

            let (name, inlineValue) = splitOption(argument)
            guard let option = lookUpOption(name, short: !argument.hasPrefix("--"), in: command) else {
                firstError =
                    firstError
                    ?? unknownOptionError(argument, name: name, short: !argument.hasPrefix("--"), command: command)
                continue
            }
            if option.name == "help" {
                helpRequested = true
                continue
            }
            guard option.valueName != nil else {
                if inlineValue != nil {
                    firstError =
                        firstError
                        ?? UsageError(
                            "option '--\(option.name)' does not take a value", command: command?.name,
                            programName: programName)
                }
                parsed.flags.insert(option.name)
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else if index < arguments.count {
                value = arguments[index]
                index += 1
            } else {
                firstError =
                    firstError
                    ?? UsageError(
                        "option '--\(option.name)' requires a value (\(option.synopsis))", command: command?.name,
                        programName: programName)
                continue
            }
            parsed.options[option.name] = value
            if let key = option.settingKey { parsed.overrides[key] = value }
        }

        if helpRequested {
            return ParsedCommand(name: "help", positional: command.map { [$0.name] } ?? [])
        }
        if let firstError { throw firstError }
        guard let command else {
            throw UsageError("missing command", programName: programName)
        }
        parsed.name = command.name
        try bindPositional(positional, of: command, into: &parsed)
        return parsed
    }

    private func bindPositional(
        _ positional: [String], of command: CommandSpec, into parsed: inout ParsedCommand
    ) throws(UsageError) {
        guard !command.subcommands.isEmpty else {
            parsed.positional = try validate(positional, against: command.arguments, usage: command.name)
            return
        }
        let names = command.subcommands.map(\.name)
        guard let first = positional.first else {
            throw UsageError(
                "'\(command.name)' needs a subcommand: \(Self.list(names))", command: command.name,
                programName: programName)
        }
        guard let subcommand = command.subcommands.first(where: { $0.name == first }) else {
            var message = "unknown subcommand '\(first)' for '\(command.name)'"
            if let guess = ConfigText.suggestion(for: first, among: names) {
                message += "; did you mean '\(guess)'?"
            } else {
                message += " (expected \(Self.list(names)))"
            }
            throw UsageError(message, command: command.name, programName: programName)
        }
        parsed.subcommand = subcommand.name
        parsed.positional = try validate(
            Array(positional.dropFirst()), against: subcommand.arguments, usage: "\(command.name) \(subcommand.name)")
    }

    private func validate(
        _ values: [String], against specs: [ArgumentSpec], usage: String
    ) throws(UsageError) -> [String] {
        let command = String(usage.prefix { $0 != " " })
        func fail(_ message: String) -> UsageError {
            UsageError(message, command: command, programName: programName)
        }
        if values.count > specs.count {
            let extra = values[specs.count]
            throw fail(
                specs.isEmpty
                    ? "'\(programName) \(usage)' takes no arguments, but got '\(extra)'"
                    : "too many arguments for '\(programName) \(usage)': unexpected '\(extra)'")
        }
        for (position, spec) in specs.enumerated() {
            guard position < values.count else {
                if spec.isOptional { break }
                throw fail("'\(programName) \(usage)' requires \(spec.synopsis)")
            }
            let value = values[position]
            switch spec.kind {
            case .text:
                break
            case .count:
                guard value.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int(value), count >= 1 else {
                    throw fail("\(spec.name) must be a whole number of at least 1, not '\(value)'")
                }
            case .command:
                guard commands.contains(where: { $0.name == value }) else { throw unknownCommandError(value) }
            }
        }
        return values
    }

    /// `--name=value` → (`name`, `value`); `-h` → (`h`, nil), which the lookup resolves as a short name.
    private func splitOption(_ argument: String) -> (name: String, value: String?) {
        let body = argument.hasPrefix("--") ? argument.dropFirst(2) : argument.dropFirst(1)
        guard let equals = body.firstIndex(of: "=") else { return (String(body), nil) }
        return (String(body[..<equals]), String(body[body.index(after: equals)...]))
    }

    /// A single dash introduces a one-letter alias only: `-listen` is not `--listen`.
    private func lookUpOption(_ name: String, short: Bool, in command: CommandSpec?) -> OptionSpec? {
        let candidates = (command?.options ?? []) + globalOptions
        guard short else { return candidates.first { $0.name == name } }
        guard name.count == 1, let letter = name.first else { return nil }
        return candidates.first { $0.shortName == letter }
    }

    private func unknownOptionError(
        _ argument: String, name: String, short: Bool, command: CommandSpec?
    ) -> UsageError {
        let spelled = String(argument.prefix { $0 != "=" })
        var message = "unknown option '\(spelled)'"
        if let command {
            message += " for '\(command.name)'"
            let names = (command.options + globalOptions).map(\.name)
            if let guess = ConfigText.suggestion(for: name, among: names) { message += "; did you mean '--\(guess)'?" }
        } else if !short, let owner = commands.first(where: { $0.options.contains { $0.name == name } }) {
            message += "; it is an option of '\(owner.name)': put it after the command"
            return UsageError(message, command: owner.name, programName: programName)
        } else if let guess = ConfigText.suggestion(for: name, among: globalOptions.map(\.name)) {
            message += "; did you mean '--\(guess)'?"
        }
        return UsageError(message, command: command?.name, programName: programName)
    }

    private func unknownCommandError(_ name: String) -> UsageError {
        var message = "'\(name)' is not a \(programName) command"
        if let guess = ConfigText.suggestion(for: name, among: commands.map(\.name)) {
            message += "; did you mean '\(guess)'?"
        }
        return UsageError(message, programName: programName)
    }

    static func list(_ names: [String]) -> String {
        guard let last = names.last else { return "" }
        return names.count == 1 ? last : names.dropLast().joined(separator: ", ") + " or " + last
    }
}
