import ChatCore
import Logging

/// `chat seed --users N [--cost C]`: random accounts for demos and benchmarks.
struct SeedCommand {
    let settings: Settings
    let command: ParsedCommand

    func run() throws {
        guard let text = command.options["users"], let count = Int(text), count >= 0 else {
            throw MigrateCommand.Failure(description: "seed needs --users N (a whole number)")
        }
        let rooms = Int(command.options["rooms"] ?? "0") ?? -1
        let messages = Int(command.options["messages"] ?? "0") ?? -1
        guard rooms >= 0, messages >= 0, messages == 0 || rooms > 0 else {
            throw MigrateCommand.Failure(description: "--rooms and --messages take whole numbers; messages need rooms")
        }
        let cost = Int(command.options["cost"] ?? "4") ?? -1
        Logger("seed").warn(
            "seeded accounts share one password hashed at a low bcrypt cost; never use them in production",
            ["cost": String(cost), "password": AccountService.defaultSeedPassword])
        let environment = try AccountsEnvironment(settings: settings)
        defer { environment.close() }
        let service = environment.service
        let inserted = try runBlocking { try await service.seedUsers(count: count, cost: cost) }
        Console.output("created \(inserted) users (password \"\(AccountService.defaultSeedPassword)\")\n")
        guard rooms > 0 else { return }
        let seeder = ChatSeeder(writer: environment.writer)
        let summary = try runBlocking { try await seeder.seed(rooms: rooms, messages: messages) }
        let everywhere = try summary.everywhereUserID.map { id in
            try runBlocking { try await service.profile(id: id).username }
        }
        Console.output(
            "created \(summary.rooms) rooms and \(summary.messages) messages; \(everywhere ?? "nobody") is in every room\n"
        )
    }
}
