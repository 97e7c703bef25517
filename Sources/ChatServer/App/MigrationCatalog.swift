import Storage

/// The migrations compiled into this binary (`migrations/*.sql`, embedded by the EmbedMigrations plugin),
/// applied through the single writer so they never race with application writes.
enum MigrationCatalog {
    static func migrator() throws -> Migrator {
        try Migrator(files: EmbeddedMigrations.files.map { (name: $0.name, contents: $0.sql) })
    }

    /// Applies pending migrations, each in its own transaction, up to `target` (all when nil).
    static func migrateUp(_ writer: DatabaseWriter, to target: Int? = nil) throws -> [Migration] {
        let migrator = try migrator()
        return try writer.writeWithoutTransactionSync { db in try migrator.up(db, to: target) }
    }

    /// Reverts the last `steps` applied migrations.
    static func migrateDown(_ writer: DatabaseWriter, steps: Int) throws -> [Migration] {
        let migrator = try migrator()
        return try writer.writeWithoutTransactionSync { db in try migrator.down(db, steps: steps) }
    }

    static func status(_ writer: DatabaseWriter) throws -> [MigrationStatus] {
        let migrator = try migrator()
        return try writer.writeWithoutTransactionSync { db in try migrator.status(db) }
    }
}
