import Glibc
import Logging

/// The `chat` executable's entry point: parse the command line, load settings, run one command, and map the
/// outcome to the exit status scripts rely on (0 ok, 1 runtime error, 2 usage or configuration error).
public enum ChatMain {
    public static func run(arguments: [String], environment: [String: String]) -> Int32 {
        let parser = CommandLineParser.chat
        let command: ParsedCommand
        do {
            command = try parser.parse(arguments)
        } catch {
            Console.error(error.description)
            return ExitStatus.usage.rawValue
        }
        switch command.name {
        case "help":
            Console.output(parser.helpText(for: command.positional.first))
            return ExitStatus.success.rawValue
        case "version":
            Console.output("chat \(ChatVersion.current)\n")
            return ExitStatus.success.rawValue
        default:
            break
        }
        let settings: Settings
        do {
            settings = try Settings.load(
                configPath: command.configPath, environment: environment, overrides: command.overrides)
        } catch {
            Console.error("chat: \(error.description)")
            return ExitStatus.usage.rawValue
        }
        LogSystem.configure(level: settings.log.level, format: settings.log.format)
        let logger = Logger("chat")
        for warning in Settings.environmentWarnings(environment) { logger.warn(warning) }
        do {
            switch command.name {
            case "serve":
                try ServeCommand(
                    settings: settings, migrate: !command.flags.contains("no-migrate"),
                    webSocketEchoPath: command.options["ws-echo-path"]
                ).run()
            case "migrate":
                try MigrateCommand(settings: settings, subcommand: command.subcommand, count: command.positional.first)
                    .run()
            case "user":
                try UserCommand(settings: settings, command: command).run()
            case "keys":
                try KeysCommand(settings: settings, subcommand: command.subcommand).run()
            case "blobs":
                try BlobsCommand(settings: settings, subcommand: command.subcommand).run()
            case "seed":
                try SeedCommand(settings: settings, command: command).run()
            default:
                Console.error("chat: '\(command.name)' is not a command. See 'chat --help'.")
                return ExitStatus.usage.rawValue
            }
        } catch {
            logger.error("\(command.name) failed", ["error": String(describing: error)])
            LogSystem.flush()
            Console.error("chat: \(error)")
            return ExitStatus.failure.rawValue
        }
        LogSystem.flush()
        return ExitStatus.success.rawValue
    }
}

/// Unbuffered writes to standard output and error for command results and messages.
enum Console {
    static func output(_ text: String) { write(text, to: 1) }

    static func error(_ text: String) { write(text.hasSuffix("\n") ? text : text + "\n", to: 2) }

    private static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { return }
                offset += count
            }
        }
    }
}
