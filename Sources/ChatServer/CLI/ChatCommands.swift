import ChatCore

extension CommandLineParser {
    /// The `chat` tool's command table. Add a command by adding a ``CommandSpec`` here.
    public static let chat = CommandLineParser(
        programName: "chat",
        commands: [.serve, .migrate, .user, .keys, .blobs, .seed, .version, .help],
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
            OptionSpec(
                "ws-echo-path", value: "PATH",
                help: "Testing only: a WebSocket echo endpoint at PATH (for conformance suites)"),
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

    public static let user = CommandSpec(
        "user",
        summary: "Create, list, disable, enable or promote accounts; reset passwords",
        details: """
            Acts directly on the database in the data directory, so it works while the server runs: a \
            disabled account's access tokens stop working within a second. Without --password, create and \
            reset-password read the password from the first line of standard input.
            """,
        options: [
            OptionSpec("username", value: "NAME", help: "Account name (create)"),
            OptionSpec("email", value: "EMAIL", help: "Email address (create)"),
            OptionSpec("password", value: "PASSWORD", help: "Password (create, reset-password); else read stdin"),
            OptionSpec("display-name", value: "NAME", help: "Display name (create); default: the username"),
            OptionSpec("admin", help: "Make the new account an administrator (create)"),
            OptionSpec("limit", value: "N", help: "Most accounts to list (list; default 100)"),
        ],
        subcommands: [
            SubcommandSpec("create", summary: "Create an account (--username, --email, --password, --admin)"),
            SubcommandSpec("list", summary: "List accounts, oldest first"),
            SubcommandSpec(
                "disable", arguments: [ArgumentSpec("USERNAME", optional: false)],
                summary: "Disable an account: it cannot sign in, its tokens stop working"),
            SubcommandSpec(
                "enable", arguments: [ArgumentSpec("USERNAME", optional: false)], summary: "Enable an account again"),
            SubcommandSpec(
                "promote", arguments: [ArgumentSpec("USERNAME", optional: false)], summary: "Make an administrator"),
            SubcommandSpec(
                "reset-password", arguments: [ArgumentSpec("USERNAME", optional: false)],
                summary: "Set a new password and end every session of the account"),
        ])

    public static let keys = CommandSpec(
        "keys",
        summary: "Generate, rotate or list the access-token signing keys",
        details: """
            Keys live in auth.keys_dir (by default keys/ in the data directory), one RSA key per file, mode \
            0600. rotate makes a new signing key and retires the old one, which keeps verifying tokens until \
            they expire (auth.access_ttl). A running server picks up a rotation within 5 seconds.
            """,
        subcommands: [
            SubcommandSpec("generate", summary: "Add a new key and sign with it"),
            SubcommandSpec("rotate", summary: "Add a new signing key and retire the current one"),
            SubcommandSpec("list", summary: "List keys: kid, size, created, retired"),
        ])

    public static let blobs = CommandSpec(
        "blobs",
        summary: "Show the Cloudinary-compatible Upload API credentials",
        details: """
            The credentials come from [blobs] api_key and api_secret, or are generated on first use and kept in \
            blobs/credentials in the data directory (mode 0600). credentials prints them as a CLOUDINARY_URL \
            whose upload_prefix is this server's listen address, ready for the Cloudinary SDKs.
            """,
        subcommands: [
            SubcommandSpec("credentials", summary: "Print CLOUDINARY_URL=cloudinary://key:secret@cloud?upload_prefix=…")
        ])

    public static let seed = CommandSpec(
        "seed",
        summary: "Fill the database with random users, rooms and messages",
        details: """
            Creates --users N accounts with realistic random names, all with the password "\
            \(AccountService.defaultSeedPassword)", hashed once at --cost (default 4: low, so seeding is fast; never use \
            seeded accounts in production).
            """,
        options: [
            OptionSpec("users", value: "N", help: "How many accounts to create"),
            OptionSpec("rooms", value: "M", help: "Group rooms of 5-30 random members (the first user joins all)"),
            OptionSpec("messages", value: "K", help: "Random messages spread over the rooms"),
            OptionSpec("cost", value: "N", help: "bcrypt cost of the shared password hash (default 4)"),
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
