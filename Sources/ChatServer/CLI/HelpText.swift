extension CommandLineParser {
    /// Lines are wrapped to fit a standard terminal.
    static let helpWidth = 80

    /// The text for `chat help [topic]`: the overview when `topic` is nil or not a command, else that
    /// command's help. Ends with a newline.
    public func helpText(for topic: String?) -> String {
        guard let topic, let command = commands.first(where: { $0.name == topic }) else { return overview() }
        return help(for: command)
    }

    /// `chat --help`: usage, the commands with their summaries, the common options.
    public func overview() -> String {
        var text = "usage: \(programName) [<options>] <command> [<args>]\n\n"
        text += "Commands:\n"
        text += Self.table(commands.map { ($0.name, $0.summary) }, column: Self.column(for: commands.map(\.name)))
        text += "\nCommon options (accepted before or after the command):\n"
        text += Self.optionTable(globalOptions, column: Self.column(for: globalOptions.map(\.synopsis)))
        text += "\n"
        text += Self.wrap(
            "Settings are taken from the defaults, then the configuration file, then CHAT_<SECTION>_<KEY> "
                + "environment variables (for example CHAT_HTTP_MAX_BODY), then the options; later ones win.",
            indent: "")
        text += "\nExit status: 0 on success, 1 when the command fails, 2 for a wrong command line.\n\n"
        text += "See '\(programName) help <command>' for more information on a specific command.\n"
        return text
    }

    /// `chat help <command>` / `chat <command> --help`.
    public func help(for command: CommandSpec) -> String {
        let prefix = "\(programName) \(command.name)"
        var usages: [String]
        if command.subcommands.isEmpty {
            var usage = prefix
            if !command.options.isEmpty { usage += " [<options>]" }
            for argument in command.arguments { usage += " " + argument.synopsis }
            usages = [usage]
        } else {
            usages = command.subcommands.map { subcommand in
                ([prefix, subcommand.name] + subcommand.arguments.map(\.synopsis)).joined(separator: " ")
            }
        }
        var text = "usage: " + usages[0] + "\n"
        for usage in usages.dropFirst() { text += "   or: " + usage + "\n" }

        if !command.details.isEmpty {
            for paragraph in command.details.split(separator: "\n\n", omittingEmptySubsequences: true) {
                text += "\n" + Self.wrap(String(paragraph), indent: "")
            }
        } else {
            text += "\n" + Self.wrap(command.summary + ".", indent: "")
        }
        if !command.subcommands.isEmpty {
            text += "\nSubcommands:\n"
            let rows = command.subcommands.map { subcommand in
                (([subcommand.name] + subcommand.arguments.map(\.synopsis)).joined(separator: " "), subcommand.summary)
            }
            text += Self.table(rows, column: Self.column(for: rows.map(\.0)))
        }
        // One column for both option tables, so they line up.
        let column = Self.column(for: (command.options + globalOptions).map(\.synopsis))
        if !command.options.isEmpty {
            text += "\nOptions:\n" + Self.optionTable(command.options, column: column)
        }
        if !globalOptions.isEmpty {
            text += "\nCommon options:\n" + Self.optionTable(globalOptions, column: column)
        }
        return text
    }

    private static func optionTable(_ options: [OptionSpec], column: Int) -> String {
        table(
            options.map { option in
                var help = option.help
                if let key = option.settingKey { help += " [\(key)]" }
                return (option.synopsis, help)
            }, column: column)
    }

    private static let tableIndent = "  "

    /// Where the right-hand column starts for these left-hand entries; very long entries do not widen it.
    private static func column(for entries: [String]) -> Int {
        tableIndent.count + min(entries.map(\.count).max() ?? 0, 22) + 3
    }

    /// Two aligned columns; a left entry too long for the column puts its text on the next line.
    private static func table(_ rows: [(left: String, right: String)], column: Int) -> String {
        let indent = tableIndent
        var text = ""
        for row in rows {
            var line = indent + row.left
            if line.count + 2 > column {
                text += line + "\n"
                line = ""
            }
            line += String(repeating: " ", count: column - line.count)
            text += wrap(row.right, indent: String(repeating: " ", count: column), firstLinePrefix: line)
        }
        return text
    }

    /// Greedy word wrap to ``helpWidth``. The first line starts with `firstLinePrefix` (default `indent`).
    static func wrap(_ text: String, indent: String, firstLinePrefix: String? = nil) -> String {
        var result = ""
        var line = firstLinePrefix ?? indent
        var lineHasWord = false
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            if lineHasWord && line.count + 1 + word.count > helpWidth {
                result += line + "\n"
                line = indent
                lineHasWord = false
            }
            line += (lineHasWord ? " " : "") + word
            lineHasWord = true
        }
        return result + line + "\n"
    }
}
