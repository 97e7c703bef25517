import CSQLite

/// How connections to one database file are opened and tuned.
///
/// The settings are applied with PRAGMAs each time a connection opens (they are per-connection,
/// except the journal mode, which WAL makes persistent in the file). Foreign keys are always
/// enforced: SQLite leaves them off by default, for backward compatibility only.
public struct DatabaseConfiguration: Sendable {
    /// Related SQLite documentation: <https://www.sqlite.org/pragma.html#pragma_journal_mode>
    public enum JournalMode: String, Sendable {
        case delete, truncate, persist, memory, wal, off
    }

    /// Related SQLite documentation: <https://www.sqlite.org/pragma.html#pragma_synchronous>
    public enum SynchronousMode: String, Sendable {
        /// No fsync: a power loss or OS crash can corrupt the database.
        case off
        /// In WAL mode, a committed transaction survives an application crash (kill -9) but the last
        /// ones may be lost on power loss or OS crash; the database stays consistent either way.
        case normal
        /// Every commit is fsynced: committed transactions also survive power loss.
        case full
        /// Like full, and also fsyncs the directory after unlinking a rollback journal.
        case extra
    }

    /// Path of the database file.
    public var path: String
    /// Journal mode; WAL lets readers run while the writer writes.
    public var journalMode: JournalMode = .wal
    /// Durability of commits. The default, NORMAL with WAL, keeps acknowledged writes through a
    /// process crash; choose FULL to keep them through power loss too, at the cost of an fsync per
    /// commit (the writer's group commit pays it once per batch).
    public var synchronous: SynchronousMode = .normal
    /// How long, in milliseconds, a connection waits for a lock held by another connection before
    /// failing with SQLITE_BUSY.
    /// Related SQLite documentation: <https://www.sqlite.org/c3ref/busy_timeout.html>
    public var busyTimeout: Int = 5000
    /// Number of read-only connections in a ``DatabaseReaderPool``.
    public var readers: Int = 4
    /// Page cache per connection, in KiB (`PRAGMA cache_size = -N`). SQLite's default is 2 MiB; hot B-tree
    /// pages of a busy chat (message and FTS indexes) do not fit in that.
    /// <https://www.sqlite.org/pragma.html#pragma_cache_size>
    public var cacheSizeKiB: Int = 16_384
    /// WAL pages after which a commit checkpoints (`PRAGMA wal_autocheckpoint`), SQLite's default of 1000. With
    /// a ``WALCheckpointer`` running, make it large: it is then only a safety net.
    /// <https://www.sqlite.org/wal.html#ckpt>
    public var walAutocheckpointPages: Int = 1000

    public init(path: String) {
        self.path = path
    }

    /// Applies the settings to a freshly opened connection.
    ///
    /// Read-only connections skip the journal mode (setting it needs a write) and `synchronous`
    /// (it only matters to writes); they inherit WAL from the file.
    func apply(to db: Database, readOnly: Bool) throws {
        sqlite3_busy_timeout(db.handle, Int32(clamping: busyTimeout))
        try db.execute("PRAGMA foreign_keys = ON")
        // The PRAGMA is a silent no-op if foreign keys are compiled out or inside a transaction.
        guard try db.queryOne("PRAGMA foreign_keys")?[0].int64 == 1 else {
            throw DatabaseError(extendedResultCode: SQLITE_ERROR, message: "could not enable foreign keys")
        }
        try db.execute("PRAGMA cache_size = -\(max(0, cacheSizeKiB))")
        // Statement journals (a write inside a savepoint, as every writer job is) and sorter spills stay in
        // memory: on disk they were /var/tmp/etilqs_* files created and unlinked dozens of times a second
        // under message load (strace, bench/ws.sh). They are small and transient; durability is the WAL's.
        try db.execute("PRAGMA temp_store = MEMORY")
        guard !readOnly else { return }
        try db.execute("PRAGMA wal_autocheckpoint = \(max(0, walAutocheckpointPages))")
        // Setting the journal mode can fail silently (an in-memory database stays "memory", a
        // locked one keeps its mode): the PRAGMA returns the mode now in force, so check it.
        let mode = try db.queryOne("PRAGMA journal_mode = \(journalMode.rawValue)")?[0].string?.lowercased()
        guard mode == journalMode.rawValue else {
            throw DatabaseError(
                extendedResultCode: SQLITE_ERROR,
                message: "journal_mode is \(mode ?? "unknown") instead of \(journalMode.rawValue) for \(path)")
        }
        try db.execute("PRAGMA synchronous = \(synchronous.rawValue)")
    }
}

extension Database {
    /// Opens a connection to `configuration.path` and applies the configuration.
    ///
    /// A read-write connection creates the file if missing. A read-only one needs it to exist; in
    /// WAL mode it also needs to be able to create the `-shm` and `-wal` files if they are absent
    /// (or another connection to have them open).
    /// Related SQLite documentation: <https://www.sqlite.org/wal.html#readonly>
    public convenience init(configuration: DatabaseConfiguration, readOnly: Bool = false) throws {
        try self.init(
            path: configuration.path, flags: readOnly ? [.readOnly, .noMutex] : .readWriteCreate)
        try configuration.apply(to: self, readOnly: readOnly)
    }
}
