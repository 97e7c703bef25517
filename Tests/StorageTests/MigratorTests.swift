import Foundation
import Storage
import Testing

@Suite struct MigratorTests {
    private static let initUp = "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
    private static let roomsUp = """
        CREATE TABLE rooms(id INTEGER PRIMARY KEY, owner INTEGER NOT NULL REFERENCES users(id));
        CREATE INDEX rooms_owner ON rooms(owner);
        """
    private static let messagesUp = "CREATE TABLE messages(id INTEGER PRIMARY KEY, body TEXT);"

    private static let files: [(name: String, contents: String)] = [
        ("0001_init.up.sql", initUp),
        ("0001_init.down.sql", "DROP TABLE users;"),
        ("0002_rooms.up.sql", roomsUp),
        ("0002_rooms.down.sql", "DROP INDEX rooms_owner; DROP TABLE rooms;"),
        ("0003_messages.up.sql", messagesUp),
        ("0003_messages.down.sql", "DROP TABLE messages;"),
    ]

    private func withDatabase(_ body: (Database) throws -> Void) throws {
        try withTemporaryDirectory { directory in
            try body(try Database(configuration: configuration(in: directory)))
        }
    }

    private func tables(_ db: Database) throws -> [String] {
        try db.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).compactMap { $0[0].string }
    }

    private func appliedVersions(_ db: Database) throws -> [Int] {
        try db.query("SELECT version FROM schema_migrations ORDER BY version").compactMap { $0[0].int }
    }

    // MARK: File names

    @Test func parsesMigrationFileNames() throws {
        #expect(
            try Migrator.parseFileName("0001_init.up.sql")
                == MigrationFileName(version: 1, name: "init", direction: .up))
        #expect(
            try Migrator.parseFileName("12_add-rooms_v2.down.sql")
                == MigrationFileName(version: 12, name: "add-rooms_v2", direction: .down))
        #expect(MigrationFileName(version: 3, name: "x", direction: .down).fileName == "0003_x.down.sql")
    }

    @Test(arguments: [
        "init.up.sql", "0001init.up.sql", "0001_.up.sql", "0000_zero.up.sql", "0001_x.sql", "0001_x.UP.sql",
        "x1_y.up.sql", "_y.up.sql", "0001_a b.up.sql", "0001_caf\u{E9}.up.sql", "99999999999999999999999_x.up.sql",
        "0001_x.up.sql.bak", "",
    ])
    func rejectsBadFileNames(_ name: String) throws {
        let error = #expect(throws: MigrationError.self) { try Migrator.parseFileName(name) }
        guard case .invalidFileName(let file, _) = error else {
            Issue.record("expected invalidFileName, got \(String(describing: error))")
            return
        }
        #expect(file == name)
    }

    @Test func badFileNameInAListIsAnError() throws {
        #expect(throws: MigrationError.self) {
            try Migrator(files: [("0001_init.up.sql", "SELECT 1;"), ("notes.txt", "")])
        }
    }

    // MARK: Building the list

    @Test func buildsSortedMigrationsFromFiles() throws {
        let migrator = try Migrator(files: Self.files.reversed())
        #expect(migrator.migrations.map(\.version) == [1, 2, 3])
        #expect(migrator.migrations.map(\.name) == ["init", "rooms", "messages"])
        #expect(migrator.migrations[1].up == Self.roomsUp)
        #expect(migrator.migrations[1].down == "DROP INDEX rooms_owner; DROP TABLE rooms;")
        #expect(migrator.migrations[1].upFileName == "0002_rooms.up.sql")
        #expect(migrator.latestVersion == 3)
    }

    @Test func duplicateVersionIsAnError() throws {
        let error = #expect(throws: MigrationError.self) {
            try Migrator(files: [("0001_a.up.sql", ""), ("1_b.up.sql", "")])
        }
        #expect(error == .duplicateVersion(1, files: ["0001_a.up.sql", "1_b.up.sql"]))
        #expect(throws: MigrationError.self) {
            try Migrator(migrations: [
                Migration(version: 1, name: "a", up: ""), Migration(version: 1, name: "b", up: ""),
            ])
        }
    }

    @Test func downWithoutUpIsAnError() throws {
        let error = #expect(throws: MigrationError.self) {
            try Migrator(files: [("0001_a.up.sql", ""), ("0002_b.down.sql", "")])
        }
        #expect(error == .missingUp(version: 2, downFile: "0002_b.down.sql"))
    }

    @Test func upAndDownNamesMustMatch() throws {
        let error = #expect(throws: MigrationError.self) {
            try Migrator(files: [("0001_a.up.sql", ""), ("0001_b.down.sql", "")])
        }
        #expect(error == .nameMismatch(version: 1, upFile: "0001_a.up.sql", downFile: "0001_b.down.sql"))
    }

    @Test func versionsMustNotHaveGaps() throws {
        let error = #expect(throws: MigrationError.self) {
            try Migrator(files: [("0001_a.up.sql", ""), ("0003_c.up.sql", "")])
        }
        #expect(error == .versionGap(missing: 2))
        #expect(throws: MigrationError.self) { try Migrator(files: [("0002_b.up.sql", "")]) }
    }

    @Test func loadsSQLFilesFromADirectoryIgnoringOthers() throws {
        try withTemporaryDirectory { directory in
            for (name, contents) in Self.files {
                try contents.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
            }
            try "notes".write(toFile: directory + "/README.md", atomically: true, encoding: .utf8)
            let migrator = try Migrator(directory: directory)
            #expect(migrator.migrations == (try Migrator(files: Self.files)).migrations)

            try Data([0x53, 0xff, 0xfe]).write(to: URL(fileURLWithPath: directory + "/0004_bad.up.sql"))
            let error = #expect(throws: MigrationError.self) { try Migrator(directory: directory) }
            guard case .unreadableFile(let path, _) = error else {
                Issue.record("expected unreadableFile, got \(String(describing: error))")
                return
            }
            #expect(path.hasSuffix("0004_bad.up.sql"))
        }
    }

    // MARK: Applying and reverting

    @Test func upAppliesPendingMigrationsInOrderAndRecordsThem() throws {
        try withDatabase { db in
            let migrator = try Migrator(files: Self.files)
            let applied = try migrator.up(db)
            #expect(applied.map(\.version) == [1, 2, 3])
            #expect(try tables(db) == ["messages", "rooms", "schema_migrations", "users"])
            let rows = try db.query(
                "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
            #expect(rows.map { $0["name"] } == ["init", "rooms", "messages"])
            #expect(rows.map { $0["checksum"].string } == migrator.migrations.map(\.checksum))
            #expect(rows.allSatisfy { $0["applied_at"].string?.hasSuffix("Z") == true })

            let status = try migrator.status(db)
            #expect(status.map(\.version) == [1, 2, 3])
            #expect(status.allSatisfy { $0.checksumMatches })
            #expect(status.allSatisfy { if case .applied = $0.state { true } else { false } })
        }
    }

    @Test func upIsIdempotent() throws {
        try withDatabase { db in
            let migrator = try Migrator(files: Self.files)
            try migrator.up(db)
            #expect(try migrator.up(db).isEmpty)
            #expect(try appliedVersions(db) == [1, 2, 3])
        }
    }

    @Test func upToATargetStopsThereAndLaterContinues() throws {
        try withDatabase { db in
            let migrator = try Migrator(files: Self.files)
            #expect(try migrator.up(db, to: 2).map(\.version) == [1, 2])
            #expect(try migrator.status(db).map(\.state.isPending) == [false, false, true])
            #expect(throws: MigrationError.unknownTarget(9)) { try migrator.up(db, to: 9) }
            #expect(throws: MigrationError.targetBelowCurrent(target: 1, current: 2)) { try migrator.up(db, to: 1) }
            #expect(try migrator.up(db).map(\.version) == [3])
        }
    }

    @Test func statusOfAFreshDatabaseIsAllPendingAndCreatesNothing() throws {
        try withDatabase { db in
            let migrator = try Migrator(files: Self.files)
            let status = try migrator.status(db)
            #expect(status.map(\.state) == [.pending, .pending, .pending])
            #expect(status.map(\.name) == ["init", "rooms", "messages"])
            #expect(try tables(db).isEmpty)
        }
    }

    @Test func downRevertsTheLastMigrations() throws {
        try withDatabase { db in
            let migrator = try Migrator(files: Self.files)
            try migrator.up(db)
            #expect(try migrator.down(db).map(\.version) == [3])
            #expect(try tables(db) == ["rooms", "schema_migrations", "users"])
            #expect(try migrator.down(db, steps: 5).map(\.version) == [2, 1])
            #expect(try tables(db) == ["schema_migrations"])
            #expect(try appliedVersions(db).isEmpty)
            #expect(try migrator.down(db).isEmpty)
            #expect(throws: MigrationError.invalidStepCount(0)) { try migrator.down(db, steps: 0) }
            // And back up again.
            #expect(try migrator.up(db).map(\.version) == [1, 2, 3])
        }
    }

    @Test func missingDownIsAnErrorAndRevertsNothing() throws {
        try withDatabase { db in
            let migrator = try Migrator(files: [
                ("0001_init.up.sql", Self.initUp), ("0002_rooms.up.sql", Self.roomsUp),
                ("0003_messages.up.sql", Self.messagesUp), ("0003_messages.down.sql", "DROP TABLE messages;"),
            ])
            try migrator.up(db)
            #expect(throws: MigrationError.missingDown(version: 2, name: "rooms")) { try migrator.down(db, steps: 2) }
            // Checked before anything ran: migration 3 was not reverted either.
            #expect(try appliedVersions(db) == [1, 2, 3])
            #expect(try tables(db).contains("messages"))
        }
    }

    @Test func changedAppliedMigrationStopsUpBeforeApplyingAnything() throws {
        try withDatabase { db in
            try Migrator(files: Array(Self.files.prefix(2))).up(db)
            var edited = Self.files
            edited[0].contents = Self.initUp + "\nCREATE INDEX users_name ON users(name);"
            let migrator = try Migrator(files: edited)

            let error = #expect(throws: MigrationError.self) { try migrator.up(db) }
            guard case .checksumMismatch(let version, let file, _, _) = error else {
                Issue.record("expected checksumMismatch, got \(String(describing: error))")
                return
            }
            #expect(version == 1)
            #expect(file == "0001_init.up.sql")
            #expect(error?.description.contains("0001_init.up.sql") == true)
            // Pending migrations 2 and 3 were not applied, and the edit did not run.
            #expect(try appliedVersions(db) == [1])
            #expect(try tables(db) == ["schema_migrations", "users"])
            #expect(try migrator.status(db).map(\.checksumMatches) == [false, true, true])
            #expect(throws: MigrationError.self) { try migrator.down(db) }
        }
    }

    @Test func databaseNewerThanBinaryIsAnError() throws {
        try withDatabase { db in
            try Migrator(files: Self.files).up(db)
            let older = try Migrator(files: Array(Self.files.prefix(4)))
            #expect(throws: MigrationError.unknownAppliedVersion(version: 3, name: "messages")) { try older.up(db) }
            #expect(throws: MigrationError.unknownAppliedVersion(version: 3, name: "messages")) { try older.down(db) }
            let status = try older.status(db)
            #expect(status.map(\.version) == [1, 2, 3])
            #expect(status[2].name == "messages")
            guard case .unknown = status[2].state else {
                Issue.record("expected the unknown state, got \(status[2].state)")
                return
            }
        }
    }

    @Test func failingMigrationIsRolledBackAloneAndReported() throws {
        try withDatabase { db in
            let migrator = try Migrator(files: [
                ("0001_init.up.sql", Self.initUp),
                ("0002_broken.up.sql", "CREATE TABLE half(a); INSERT INTO nowhere VALUES (1);"),
                ("0003_messages.up.sql", Self.messagesUp),
            ])
            let error = #expect(throws: DatabaseError.self) { try migrator.up(db) }
            #expect(error?.message.contains("no such table: nowhere") == true)
            // Migration 1 stays applied; 2's first statement was rolled back; 3 never ran.
            #expect(try appliedVersions(db) == [1])
            #expect(try tables(db) == ["schema_migrations", "users"])
        }
    }

    @Test func migrationsRefuseToRunInsideATransaction() throws {
        try withDatabase { db in
            let migrator = try Migrator(files: Self.files)
            try db.transaction { db in
                #expect(throws: MigrationError.insideTransaction) { try migrator.up(db) }
                #expect(throws: MigrationError.insideTransaction) { try migrator.down(db) }
            }
        }
    }

    @Test func migrationsRunThroughTheWriter() throws {
        try withTemporaryDirectory { directory in
            let writer = try DatabaseWriter(configuration: configuration(in: directory))
            let migrator = try Migrator(files: Self.files)
            let applied = try writer.writeWithoutTransactionSync { db in try migrator.up(db).map(\.version) }
            #expect(applied == [1, 2, 3])
            let readers = try DatabaseReaderPool(configuration: configuration(in: directory))
            let status = try readers.readSync { db in try migrator.status(db) }
            #expect(status.map(\.state.isPending) == [false, false, false])
        }
    }

    // MARK: Checksums (SHA-256)

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        // 56 bytes: the length no longer fits in the first block, padding spills into a second.
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
        // 55 bytes: the largest message whose padding and length fit in one block.
        (String(repeating: "x", count: 55), "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"),
        (String(repeating: "x", count: 64), "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"),
        // Hashes the UTF-8 bytes (C3 A9), not the characters.
        ("\u{E9}", "4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c"),
    ])
    func checksumIsTheSHA256OfTheUpSQL(_ input: String, _ expected: String) {
        #expect(Migration(version: 1, name: "x", up: input).checksum == expected)
    }

    @Test func checksumOfAMillionAs() {
        let input = String(repeating: "a", count: 1_000_000)
        #expect(
            Migration(version: 1, name: "x", up: input).checksum
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

extension MigrationStatus.State {
    fileprivate var isPending: Bool { self == .pending }
}
