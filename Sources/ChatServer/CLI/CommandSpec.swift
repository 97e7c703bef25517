/// A long option: `--name VALUE` / `--name=VALUE`, or a flag (`--name`) when ``valueName`` is nil.
public struct OptionSpec: Sendable {
    /// Without dashes: `listen`.
    public var name: String
    /// A one-letter alias used as `-x`.
    public var shortName: Character?
    /// Placeholder shown in help (`ADDR`); nil for a flag that takes no value.
    public var valueName: String?
    public var help: String
    /// The `section.key` this option overrides; its value then lands in ``ParsedCommand/overrides``.
    public var settingKey: String?

    public init(_ name: String, short: Character? = nil, value: String? = nil, help: String, setting: String? = nil) {
        self.name = name
        self.shortName = short
        self.valueName = value
        self.help = help
        self.settingKey = setting
    }

    /// An option that overrides a setting, named after the flag registered for `key` in the settings table,
    /// so the flag name in configuration errors (`flag --listen: ...`) is always the one the user typed.
    public static func setting(_ key: String, value: String, help: String) -> OptionSpec {
        let name = Settings.definitionsByKey[key]?.flag ?? key.replacing(".", with: "-").replacing("_", with: "-")
        return OptionSpec(name, value: value, help: help, setting: key)
    }

    /// `--listen ADDR`, `-h, --help`.
    var synopsis: String {
        var text = shortName.map { "-\($0), " } ?? ""
        text += "--" + name
        if let valueName { text += " " + valueName }
        return text
    }
}

/// A positional argument of a command or subcommand.
public struct ArgumentSpec: Sendable {
    /// How the parser validates the argument.
    public enum Kind: Sendable {
        /// Any text.
        case text
        /// A whole number of at least 1 (a count of steps, such as migrations).
        case count
        /// The name of a command in the same table.
        case command
    }

    /// Placeholder shown in usage lines: `N`, `command`.
    public var name: String
    public var isOptional: Bool
    public var kind: Kind

    public init(_ name: String, optional: Bool, kind: Kind = .text) {
        self.name = name
        self.isOptional = optional
        self.kind = kind
    }

    /// `[N]` or `<file>`.
    var synopsis: String { isOptional ? "[\(name)]" : "<\(name)>" }
}

/// A verb under a command, as in `chat migrate up [N]`.
public struct SubcommandSpec: Sendable {
    public var name: String
    public var summary: String
    public var arguments: [ArgumentSpec]

    public init(_ name: String, arguments: [ArgumentSpec] = [], summary: String) {
        self.name = name
        self.summary = summary
        self.arguments = arguments
    }
}

/// A command of the `chat` tool: its help texts, options and arguments. The table of all commands is
/// ``CommandLineParser/chat``; adding a command there makes it parse and appear in `chat --help`.
public struct CommandSpec: Sendable {
    public var name: String
    /// One line for the command list in `chat --help`.
    public var summary: String
    /// Paragraphs shown in `chat help <command>` between the usage and the options.
    public var details: String
    /// Options specific to this command; the global options are accepted as well.
    public var options: [OptionSpec]
    /// Positional arguments; for a command with subcommands these are unused (each subcommand has its own).
    public var arguments: [ArgumentSpec]
    /// When non-empty, the first positional argument must name one of these.
    public var subcommands: [SubcommandSpec]

    public init(
        _ name: String, summary: String, details: String = "", options: [OptionSpec] = [],
        arguments: [ArgumentSpec] = [], subcommands: [SubcommandSpec] = []
    ) {
        self.name = name
        self.summary = summary
        self.details = details
        self.options = options
        self.arguments = arguments
        self.subcommands = subcommands
    }
}

/// The outcome of parsing a command line: what to run and with which options.
///
/// `chat --help`, `chat <command> --help` and `chat help <command>` all yield the command `help`, with the
/// command asked about (if any) as its only positional argument; print ``CommandLineParser/helpText(for:)``.
public struct ParsedCommand: Sendable, Equatable {
    /// The command to run: `serve`, `migrate`, `version`, `help`, ...
    public var name: String
    /// For commands with subcommands (`migrate up`): the subcommand, which is not repeated in ``positional``.
    public var subcommand: String?
    /// Positional arguments after the command (and subcommand), already checked against its ``ArgumentSpec``s.
    public var positional: [String]
    /// Option values by long name without dashes (`config`, `listen`); the last occurrence wins.
    public var options: [String: String]
    /// Flags given, by long name (`no-migrate`).
    public var flags: Set<String>
    /// Option values for options that map to settings, keyed by `section.key`: pass to `Settings.load`.
    public var overrides: [String: String]

    public init(
        name: String, subcommand: String? = nil, positional: [String] = [], options: [String: String] = [:],
        flags: Set<String> = [], overrides: [String: String] = [:]
    ) {
        self.name = name
        self.subcommand = subcommand
        self.positional = positional
        self.options = options
        self.flags = flags
        self.overrides = overrides
    }

    /// The `--config` file, if one was given.
    public var configPath: String? { options["config"] }
}

/// The process exit statuses `chat` promises to scripts.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    /// The command ran and failed: I/O, network or database errors.
    case failure = 1
    /// The command line or the configuration (file, environment) was wrong; nothing was run.
    case usage = 2
}

/// A malformed command line. Print ``description`` to standard error and exit with ``ExitStatus/usage``.
public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// The command whose help the hint points to; nil points to the overview.
    public var command: String?
    public var programName: String

    public init(_ message: String, command: String? = nil, programName: String = "chat") {
        self.message = message
        self.command = command
        self.programName = programName
    }

    /// `chat: unknown option '--lisen' ...` and, on the next line, `See 'chat serve --help'.`
    public var description: String {
        let helpCommand = command.map { "\(programName) \($0) --help" } ?? "\(programName) --help"
        return "\(programName): \(message)\nSee '\(helpCommand)'."
    }

    public var exitStatus: ExitStatus { .usage }
}
