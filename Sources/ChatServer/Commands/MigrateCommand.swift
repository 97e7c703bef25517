import Glibc
import Storage

/// `chat migrate up [N] | down [N] | status`: schema changes from the migrations compiled into this binary.
struct MigrateCommand {
    let settings: Settings
    let subcommand: String?
    let count: String?

    /// A command failure whose message is complete as it is.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func run() throws {
        // `status` only reads: on a database that does not exist yet every migration is pending, and nothing
        // is created.
        if subcommand ?? "status" == "status", access(settings.databasePath, F_OK) != 0 {
            for migration in try MigrationCatalog.migrator().migrations {
                Console.output("\(Self.label(migration.version, migration.name))  pending\n")
            }
            return
        }
        try DataDirectory.create(settings.server.dataDir)
        let writer = try DatabaseWriter(configuration: settings.databaseConfiguration)
        defer { writer.close() }
        let steps = count.flatMap { Int($0) }
        switch subcommand ?? "status" {
        case "up":
            var target: Int?
            if let steps {
                let pending = try MigrationCatalog.status(writer).filter { $0.state == .pending }
                target = pending.prefix(steps).last?.version ?? 0
            }
            let applied = try MigrationCatalog.migrateUp(writer, to: target)
            if applied.isEmpty { Console.output("Database is up to date.\n") }
            for migration in applied { Console.output("applied  \(Self.label(migration.version, migration.name))\n") }
        case "down":
            let reverted = try MigrationCatalog.migrateDown(writer, steps: steps ?? 1)
            if reverted.isEmpty { Console.output("No migrations are applied.\n") }
            for migration in reverted {
                Console.output("reverted \(Self.label(migration.version, migration.name))\n")
            }
        case "status":
            for status in try MigrationCatalog.status(writer) {
                let state: String
                switch status.state {
                case .pending: state = "pending"
                case .applied(let at): state = "applied  \(at)"
                case .unknown(let at): state = "applied  \(at) (not in this binary)"
                }
                let checksum = status.checksumMatches ? "" : "  CHECKSUM MISMATCH"
                Console.output("\(Self.label(status.version, status.name))  \(state)\(checksum)\n")
            }
        default:
            throw Failure(description: "unknown migrate subcommand")
        }
    }

    private static func label(_ version: Int, _ name: String) -> String {
        let number = String(version)
        return String(repeating: "0", count: max(0, 4 - number.count)) + number + "_" + name
    }
}
