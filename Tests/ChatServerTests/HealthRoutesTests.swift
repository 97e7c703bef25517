import Foundation
import Storage
import Testing

@testable import ChatServer

/// `/readyz` proves the database takes writes only if its heartbeat's commit really writes to the database files.
@Suite struct HealthRoutesTests {
    /// Runs `body` with the writer of a freshly migrated database. No checkpoint runs in between (the WAL stays
    /// far below `wal_autocheckpoint`), so the WAL only grows, and its size shows whether a commit wrote anything.
    private static func withWriter(_ body: (DatabaseWriter, _ walPath: String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("health-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("chat.db").path
        let writer = try DatabaseWriter(configuration: DatabaseConfiguration(path: path))
        defer { writer.close() }
        _ = try MigrationCatalog.migrateUp(writer)
        try body(writer, path + "-wal")
    }

    private static func size(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    }

    @Test func everyHeartbeatWritesToTheWALEvenWithinOneMillisecond() throws {
        try Self.withWriter { writer, walPath in
            let now: Int64 = 1_700_000_000_000
            try writer.writeSync { try HealthRoutes.writeHeartbeat($0, at: now) }
            var values: Set<String> = []
            for _ in 0..<3 {
                let before = try Self.size(walPath)
                let value = try writer.writeSync { db in
                    try HealthRoutes.writeHeartbeat(db, at: now)
                    return try db.queryOne("SELECT value FROM server_state WHERE key = 'heartbeat'")?["value"].string
                }
                values.insert(try #require(value))
                // The write that RLIMIT_FSIZE = 0 makes fail (EFBIG), turning /readyz 503; a commit with none can't.
                #expect(try Self.size(walPath) > before, "a heartbeat at an unchanged clock committed without a write")
            }
            #expect(values.count == 3)
        }
    }

    /// The control for the test above: SQLite commits an update that leaves a row's bytes as they were without
    /// writing anything, so the WAL's size does tell a real write from a free one.
    @Test func anUpdateToTheSameBytesCommitsWithoutWriting() throws {
        try Self.withWriter { writer, walPath in
            let update =
                "INSERT INTO server_state(key, value, updated_at) VALUES('probe', 'same', 1)"
                + " ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
            try writer.writeSync { try $0.run(update) }
            let before = try Self.size(walPath)
            try writer.writeSync { try $0.run(update) }
            #expect(try Self.size(walPath) == before)
        }
    }
}
