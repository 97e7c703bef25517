import ChatCore
import Glibc

/// `chat user create|list|disable|enable|promote|reset-password`.
struct UserCommand {
    let settings: Settings
    let command: ParsedCommand

    func run() throws {
        do {
            try perform()
        } catch let error as AccountError {
            throw MigrateCommand.Failure(description: describe(error))
        }
    }

    /// Account errors in words that name what the operator typed.
    private func describe(_ error: AccountError) -> String {
        let name = command.positional.first ?? command.options["username"] ?? ""
        switch error {
        case .notFound: return "no user named \"\(name.lowercased())\""
        case .usernameTaken: return "the username \"\(name.lowercased())\" is taken"
        case .emailTaken: return "the email address \"\(command.options["email"] ?? "")\" is already registered"
        case .validation(let fields):
            return "invalid "
                + fields.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
        default: return error.description
        }
    }

    private func perform() throws {
        let environment = try AccountsEnvironment(settings: settings)
        defer { environment.close() }
        let service = environment.service
        let options = command.options
        switch command.subcommand ?? "" {
        case "create":
            let username = options["username"] ?? ""
            let email = options["email"] ?? ""
            let password = try options["password"] ?? Self.readPasswordFromStandardInput()
            let displayName = options["display-name"]
            let admin = command.flags.contains("admin")
            let user = try runBlocking {
                try await service.createUser(
                    username: username, email: email, password: password, displayName: displayName, isAdmin: admin)
            }
            Console.output("created user \(user.username) (id \(user.id))\(user.isAdmin ? ", administrator" : "")\n")
        case "list":
            let limit = Int(options["limit"] ?? "100") ?? 100
            let users = try runBlocking { try await service.listUsers(limit: limit) }
            for user in users {
                var flags: [String] = []
                if user.isAdmin { flags.append("admin") }
                if user.isDisabled { flags.append("disabled") }
                if user.isDeleted { flags.append("deleted") }
                let state = flags.isEmpty ? "" : "  [" + flags.joined(separator: ", ") + "]"
                Console.output("\(user.id)\t\(user.username)\t\(user.email ?? "-")\t\(user.displayName)\(state)\n")
            }
        case "disable", "enable":
            let username = command.positional.first ?? ""
            let disable = command.subcommand == "disable"
            let user = try runBlocking { try await service.setDisabled(username: username, disable) }
            Console.output("\(disable ? "disabled" : "enabled") user \(user.username)\n")
        case "promote":
            let username = command.positional.first ?? ""
            let user = try runBlocking { try await service.setAdmin(username: username, true) }
            Console.output("user \(user.username) is now an administrator\n")
        case "reset-password":
            let username = command.positional.first ?? ""
            let password = try options["password"] ?? Self.readPasswordFromStandardInput()
            try runBlocking { try await service.resetPassword(username: username, newPassword: password) }
            Console.output("password of \(username) reset; every session ended\n")
        default:
            throw MigrateCommand.Failure(description: "unknown user subcommand")
        }
    }

    /// The first line of standard input, without its line ending (so `echo secret | chat user create`).
    static func readPasswordFromStandardInput() throws -> String {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while bytes.count <= 4096 {
            let count = read(0, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 || byte == UInt8(ascii: "\n") { break }
            bytes.append(byte)
        }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard !bytes.isEmpty else {
            throw MigrateCommand.Failure(description: "no password: pass --password or write it to standard input")
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
