#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Applies and reverts an ordered list of ``Migration``s, recording applied ones in the
/// `schema_migrations` table: `(version, name, checksum, applied_at)`.
///
/// Every operation first checks the recorded history against the known migrations and refuses to
/// touch the schema if an applied migration was edited (checksum mismatch) or is unknown (the
/// database is newer than the binary). Each migration then runs in its own `BEGIN IMMEDIATE`
/// transaction together with its bookkeeping row, so a failing migration leaves neither schema
/// change nor record, and the ones before it stay applied. Migration SQL must therefore not
/// contain BEGIN/COMMIT, nor statements that cannot run in a transaction (VACUUM); a
/// `PRAGMA foreign_keys` inside it is a no-op (use `PRAGMA defer_foreign_keys = ON` when
/// rebuilding tables).
///
/// Run it on a connection outside any transaction: directly on a ``Database``, or through
/// ``DatabaseWriter/writeWithoutTransactionSync(_:)``.
/// Related SQLite documentation: <https://www.sqlite.org/lang_altertable.html#otheralter>
public struct Migrator: Sendable {
    /// Known migrations, sorted by version: 1, 2, 3, ...
    public let migrations: [Migration]

    /// The version that ``up(_:to:)`` reaches by default (0 without migrations).
    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Checks that versions are unique and run 1, 2, 3, ... without gaps.
    public init(migrations: [Migration]) throws {
        let sorted = migrations.sorted { $0.version < $1.version }
        var expected = 1
        for (index, migration) in sorted.enumerated() {
            if index > 0, sorted[index - 1].version == migration.version {
                throw MigrationError.duplicateVersion(
                    migration.version, files: [sorted[index - 1].upFileName, migration.upFileName])
            }
            guard migration.version == expected else {
                throw MigrationError.versionGap(missing: expected)
            }
            expected += 1
        }
        self.migrations = sorted
    }

    /// Builds migrations from `(file name, contents)` pairs, e.g. the files of a migrations directory:
    /// `0001_init.up.sql`, `0001_init.down.sql`, `0002_rooms.up.sql`, ... Every name must parse
    /// (see ``parseFileName(_:)``); each version needs exactly one up file and at most one down
    /// file, with the same name.
    public init(files: [(name: String, contents: String)]) throws {
        var ups: [Int: (file: MigrationFileName, fileName: String, sql: String)] = [:]
        var downs: [Int: (file: MigrationFileName, fileName: String, sql: String)] = [:]
        for (fileName, contents) in files.sorted(by: { $0.name < $1.name }) {
            let parsed = try Self.parseFileName(fileName)
            let entry = (file: parsed, fileName: fileName, sql: contents)
            switch parsed.direction {
            case .up:
                if let existing = ups[parsed.version] {
                    throw MigrationError.duplicateVersion(parsed.version, files: [existing.fileName, fileName])
                }
                ups[parsed.version] = entry
            case .down:
                if let existing = downs[parsed.version] {
                    throw MigrationError.duplicateVersion(parsed.version, files: [existing.fileName, fileName])
                }
                downs[parsed.version] = entry
            }
        }
        for (version, down) in downs.sorted(by: { $0.key < $1.key }) {
            guard let up = ups[version] else {
                throw MigrationError.missingUp(version: version, downFile: down.fileName)
            }
            guard up.file.name == down.file.name else {
                throw MigrationError.nameMismatch(version: version, upFile: up.fileName, downFile: down.fileName)
            }
        }
        try self.init(
            migrations: ups.map { version, up in
                Migration(
                    version: version, name: up.file.name, up: up.sql, down: downs[version]?.sql,
                    upFileName: up.fileName)
            })
    }

    /// Loads the `*.sql` files of `directory` (other files are ignored) as ``init(files:)`` does.
    public init(directory: String) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw MigrationError.unreadableFile(directory, reason: "\(error)")
        }
        var files: [(name: String, contents: String)] = []
        for name in names where name.hasSuffix(".sql") {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else {
                throw MigrationError.unreadableFile(path, reason: "cannot read it")
            }
            // Invalid UTF-8 would be silently replaced by U+FFFD by String(decoding:); refuse it.
            guard let contents = String(data: data, encoding: .utf8) else {
                throw MigrationError.unreadableFile(path, reason: "not valid UTF-8")
            }
            files.append((name, contents))
        }
        try self.init(files: files)
    }

    /// Parses a migration file name: `<version>_<name>.<up|down>.sql`, e.g. `0001_init.up.sql`.
    ///
    /// The version is decimal digits (zero-padded by custom, so files sort in order) and at least 1;
    /// the name is ASCII letters, digits, `_` and `-`.
    public static func parseFileName(_ fileName: String) throws -> MigrationFileName {
        func invalid(_ reason: String) -> MigrationError {
            .invalidFileName(fileName, reason: reason)
        }
        let direction: MigrationDirection
        let stem: Substring
        if fileName.hasSuffix(".up.sql") {
            direction = .up
            stem = fileName.dropLast(".up.sql".count)
        } else if fileName.hasSuffix(".down.sql") {
            direction = .down
            stem = fileName.dropLast(".down.sql".count)
        } else {
            throw invalid("must end in .up.sql or .down.sql")
        }
        guard let separator = stem.firstIndex(of: "_") else {
            throw invalid("must look like 0001_name.up.sql")
        }
        let digits = stem[..<separator]
        let name = stem[stem.index(after: separator)...]
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw invalid("must start with a version number")
        }
        // Int(_:) returns nil on overflow, so an absurdly long version is rejected, not a crash.
        guard let version = Int(digits), version > 0 else {
            throw invalid("version must be a number from 1 to \(Int.max)")
        }
        let isNameCharacter = { (c: Character) in c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "-") }
        guard !name.isEmpty, name.allSatisfy(isNameCharacter) else {
            throw invalid("name must be non-empty ASCII letters, digits, '_' or '-'")
        }
        return MigrationFileName(version: version, name: String(name), direction: direction)
    }

    // MARK: Operations

    /// Every known migration, plus applied ones this binary does not know, by version.
    /// Reads only: it works on a read-only connection and creates nothing.
    public func status(_ db: Database) throws -> [MigrationStatus] {
        let applied = try appliedMigrations(db)
        var statuses = migrations.map { migration -> MigrationStatus in
            guard let record = applied[migration.version] else {
                return MigrationStatus(
                    version: migration.version, name: migration.name, state: .pending, checksumMatches: true)
            }
            return MigrationStatus(
                version: migration.version, name: migration.name, state: .applied(appliedAt: record.appliedAt),
                checksumMatches: record.checksum == migration.checksum)
        }
        for (version, record) in applied where version > latestVersion || version < 1 {
            statuses.append(
                MigrationStatus(
                    version: version, name: record.name, state: .unknown(appliedAt: record.appliedAt),
                    checksumMatches: false))
        }
        return statuses.sorted { $0.version < $1.version }
    }

    /// Applies pending migrations in version order, up to `target` (default: all), each in its own
    /// transaction. Returns the ones applied, in order; none if the database is up to date.
    @discardableResult
    public func up(_ db: Database, to target: Int? = nil) throws -> [Migration] {
        guard !db.isInTransaction else { throw MigrationError.insideTransaction }
        try db.execute(Self.createTableSQL)
        let applied = try appliedMigrations(db)
        try verify(applied)
        let current = applied.keys.max() ?? 0
        let target = target ?? latestVersion
        if target != 0, !migrations.contains(where: { $0.version == target }) {
            throw MigrationError.unknownTarget(target)
        }
        guard target >= current else {
            throw MigrationError.targetBelowCurrent(target: target, current: current)
        }

        var done: [Migration] = []
        for migration in migrations where migration.version <= target && applied[migration.version] == nil {
            let didApply = try db.transaction(.immediate) { db -> Bool in
                // Another process may have applied it since the history was read; the write lock
                // taken by BEGIN IMMEDIATE makes this check and the insert below atomic.
                let record = try db.queryOne(
                    "SELECT checksum FROM schema_migrations WHERE version = ?", [.integer(Int64(migration.version))])
                if let record {
                    guard record["checksum"].string == migration.checksum else {
                        throw MigrationError.checksumMismatch(
                            version: migration.version, file: migration.upFileName,
                            applied: record["checksum"].string ?? "", current: migration.checksum)
                    }
                    return false
                }
                try db.execute(migration.up)
                try db.run(
                    """
                    INSERT INTO schema_migrations (version, name, checksum, applied_at)
                    VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                    """,
                    [.integer(Int64(migration.version)), .text(migration.name), .text(migration.checksum)])
                return true
            }
            if didApply {
                done.append(migration)
            }
        }
        return done
    }

    /// Reverts the `steps` most recently applied migrations (highest versions first), each in its
    /// own transaction, with their down SQL. Checks first that all of them have one, so a missing
    /// down reverts nothing. Returns the ones reverted, in order.
    @discardableResult
    public func down(_ db: Database, steps: Int = 1) throws -> [Migration] {
        guard steps >= 1 else { throw MigrationError.invalidStepCount(steps) }
        guard !db.isInTransaction else { throw MigrationError.insideTransaction }
        let applied = try appliedMigrations(db)
        try verify(applied)
        let byVersion = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        // verify() guarantees every applied version is known.
        let toRevert = applied.keys.sorted(by: >).prefix(steps).compactMap { byVersion[$0] }
        for migration in toRevert where migration.down == nil {
            throw MigrationError.missingDown(version: migration.version, name: migration.name)
        }

        var done: [Migration] = []
        for migration in toRevert {
            guard let down = migration.down else { continue }
            try db.transaction(.immediate) { db in
                try db.execute(down)
                try db.run(
                    "DELETE FROM schema_migrations WHERE version = ?", [.integer(Int64(migration.version))])
            }
            done.append(migration)
        }
        return done
    }

    // MARK: History

    static let createTableSQL = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            applied_at TEXT NOT NULL
        )
        """

    private struct AppliedMigration {
        let name: String
        let checksum: String
        let appliedAt: String
    }

    /// The recorded history; empty if the table does not exist yet (status must not create it).
    private func appliedMigrations(_ db: Database) throws -> [Int: AppliedMigration] {
        let tableExists = try db.queryOne(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
        guard tableExists != nil else { return [:] }
        var applied: [Int: AppliedMigration] = [:]
        for row in try db.query("SELECT version, name, checksum, applied_at FROM schema_migrations") {
            // Values written by this type; a hand-edited row with wrong types reads as blanks and then
            // fails the checks in verify() rather than being trusted.
            let version = row["version"].int ?? 0
            applied[version] = AppliedMigration(
                name: row["name"].string ?? "", checksum: row["checksum"].string ?? "",
                appliedAt: row["applied_at"].string ?? "")
        }
        return applied
    }

    /// Refuses a history this binary cannot safely build on.
    private func verify(_ applied: [Int: AppliedMigration]) throws {
        let byVersion = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for (version, record) in applied.sorted(by: { $0.key < $1.key }) {
            guard let migration = byVersion[version] else {
                throw MigrationError.unknownAppliedVersion(version: version, name: record.name)
            }
            guard migration.checksum == record.checksum else {
                throw MigrationError.checksumMismatch(
                    version: version, file: migration.upFileName, applied: record.checksum, current: migration.checksum)
            }
        }
    }
}
