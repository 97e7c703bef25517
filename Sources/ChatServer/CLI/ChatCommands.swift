extension CommandLineParser {
    /// The `chat` tool's command table. Add a command by adding a ``CommandSpec`` here.
    public static let chat = CommandLineParser(
        programName: "chat",
        commands: [.serve, .migrate, .version, .help],
        globalOptions: [
            OptionSpec("config", value: "FILE", help: "Settings file (default: ./chat.conf if present; \"\" for none)"),
            .setting("server.data_dir", value: "DIR", help: "Data directory"),
            .setting("log.level", value: "LEVEL", help: "debug, info, warn or error"),
            .setting("log.format", value: "FORMAT", help: "logfmt or json"),
            OptionSpec("help", short: "h", help: "Show help and exit"),
        ])
}

extension CommandSpec {
    public static let serve = CommandSpec(
        "serve",
        summary: "Run the chat server",
        details: """
            Runs the HTTP server in the foreground until it receives SIGINT or SIGTERM, then stops accepting \
            connections and waits up to server.shutdown_timeout for requests in flight.

            Pending database migrations are applied before the server starts listening, unless --no-migrate \
            is given.
            """,
        options: [
            .setting("server.listen", value: "ADDR", help: "Listen on ADDR, e.g. 0.0.0.0:8080 or [::1]:8080"),
            .setting("server.loops", value: "N", help: "Event-loop threads; 0 = one per core"),
            .setting("server.static_dir", value: "DIR", help: "Static files to serve; \"\" for none"),
            OptionSpec("no-migrate", help: "Do not apply pending migrations at start"),
        ])

    public static let migrate = CommandSpec(
        "migrate",
        summary: "Apply, roll back or list database migrations",
        details: """
            Changes the schema of the database at database.path (by default chat.db in the data directory). \
            Each migration runs in its own transaction.
            """,
        subcommands: [
            SubcommandSpec(
                "up", arguments: [ArgumentSpec("N", optional: true, kind: .count)],
                summary: "Apply pending migrations: all of them, or only the next N"),
            SubcommandSpec(
                "down", arguments: [ArgumentSpec("N", optional: true, kind: .count)],
                summary: "Roll back the last N applied migrations (default 1)"),
            SubcommandSpec("status", summary: "List the migrations and whether each one is applied"),
        ])

    public static let version = CommandSpec(
        "version",
        summary: "Print the version",
        details: "Prints the version of chat and exits.")

    public static let help = CommandSpec(
        "help",
        summary: "Show help for chat or one of its commands",
        details: "With a command name, shows that command's usage and options; without, lists the commands.",
        arguments: [ArgumentSpec("command", optional: true, kind: .command)])
}
