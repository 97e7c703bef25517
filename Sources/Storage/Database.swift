import CSQLite

/// One SQLite connection (`sqlite3*`) with a cache of prepared statements.
///
/// Connections are opened with `SQLITE_OPEN_NOMUTEX` ("multi-thread" mode): SQLite does no locking
/// of its own on the connection, so a `Database` must be used by one thread at a time. It is
/// deliberately not `Sendable`; ``DatabaseWriter`` and ``DatabaseReaderPool`` each keep their
/// connections on threads they own and hand them to jobs only as a closure argument.
///
/// Related SQLite documentation: <https://www.sqlite.org/threadsafe.html>
public final class Database {
    /// `sqlite3_open_v2` flags.
    /// Related SQLite documentation: <https://www.sqlite.org/c3ref/open.html>
    public struct OpenFlags: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let readOnly = OpenFlags(rawValue: SQLITE_OPEN_READONLY)
        public static let readWrite = OpenFlags(rawValue: SQLITE_OPEN_READWRITE)
        public static let create = OpenFlags(rawValue: SQLITE_OPEN_CREATE)
        public static let noMutex = OpenFlags(rawValue: SQLITE_OPEN_NOMUTEX)
        public static let uri = OpenFlags(rawValue: SQLITE_OPEN_URI)

        /// Read-write, created if missing, no per-connection mutex.
        public static let readWriteCreate: OpenFlags = [.readWrite, .create, .noMutex]
    }

    /// How a transaction takes its locks.
    /// Related SQLite documentation: <https://www.sqlite.org/lang_transaction.html>
    public enum TransactionKind: String, Sendable {
        /// Takes the write lock at the first write; may then fail with SQLITE_BUSY.
        case deferred = "DEFERRED"
        /// Takes the write lock at BEGIN, so a busy database is waited for up front.
        case immediate = "IMMEDIATE"
        /// Like immediate in WAL mode; in rollback-journal mode also keeps readers out.
        case exclusive = "EXCLUSIVE"
    }

    /// The `sqlite3*`; valid until deinit.
    let handle: OpaquePointer
    /// The path the connection was opened with.
    public let path: String

    /// Prepared statements by exact SQL text. Bounded so that SQL built at run time (IN lists of
    /// varying length) cannot grow it without limit.
    private var statementCache: [String: Statement] = [:]
    private static let statementCacheCapacity = 256
    /// Depth of open savepoints started by ``savepoint(_:)``; names them uniquely per level.
    private var savepointDepth = 0

    /// Opens a connection. Does not apply any PRAGMA: see ``init(configuration:readOnly:)``.
    public init(path: String, flags: OpenFlags = .readWriteCreate) throws {
        var connection: OpaquePointer?
        let code = sqlite3_open_v2(path, &connection, flags.rawValue, nil)
        guard code == SQLITE_OK, let connection else {
            let error = DatabaseError.lastError(of: connection, code: code, sql: nil)
            // A handle is usually allocated even when opening fails, and must still be closed.
            sqlite3_close_v2(connection)
            throw DatabaseError(
                extendedResultCode: error.extendedResultCode, message: "cannot open \(path): \(error.message)")
        }
        // Report e.g. SQLITE_CONSTRAINT_UNIQUE rather than only SQLITE_CONSTRAINT.
        sqlite3_extended_result_codes(connection, 1)
        self.handle = connection
        self.path = path
    }

    deinit {
        // Statements must be finalized for the connection to really close; close_v2 defers the close
        // until statements still referenced elsewhere are finalized, instead of failing with BUSY.
        statementCache.removeAll()
        sqlite3_close_v2(handle)
    }

    // MARK: Executing SQL

    /// Runs a script of zero or more `;`-separated statements, discarding any rows.
    ///
    /// Statements run one by one and stop at the first error, which names the failing statement;
    /// earlier statements stay applied unless the caller wraps the script in a transaction.
    public func execute(_ sql: String) throws {
        // SQLite reads the C string up to the first NUL: anything after it would be silently skipped.
        guard !sql.utf8.contains(0) else {
            throw DatabaseError.misuse("SQL contains a NUL character", sql: sql)
        }
        try sql.withCString { start in
            var cursor: UnsafePointer<CChar>? = start
            while let current = cursor, current.pointee != 0 {
                var compiled: OpaquePointer?
                var tail: UnsafePointer<CChar>?
                let code = sqlite3_prepare_v2(handle, current, -1, &compiled, &tail)
                guard code == SQLITE_OK else {
                    // Not compiled, so its end is unknown: report the rest of the script from it.
                    let rest = String(String(cString: current).drop { $0.isWhitespace })
                    throw DatabaseError.lastError(of: handle, code: code, sql: rest)
                }
                defer { sqlite3_finalize(compiled) }
                if let compiled {
                    var stepCode = sqlite3_step(compiled)
                    while stepCode == SQLITE_ROW {
                        stepCode = sqlite3_step(compiled)
                    }
                    guard stepCode == SQLITE_DONE else {
                        let text = sqlite3_sql(compiled).map { String(cString: $0) } ?? sql
                        throw DatabaseError.lastError(of: handle, code: stepCode, sql: text)
                    }
                }
                cursor = tail
            }
        }
    }

    /// Compiles a statement that is not cached: the caller owns it.
    public func prepare(_ sql: String) throws -> Statement {
        try Statement(connection: handle, sql: sql)
    }

    /// Returns the cached statement for `sql`, compiling it on first use.
    ///
    /// The statement comes back reset with its bindings cleared. If the cached one is still in the
    /// middle of a step loop (the same SQL run again from inside that loop), a fresh uncached
    /// statement is returned instead, so the outer loop's cursor is left alone.
    public func cachedStatement(_ sql: String) throws -> Statement {
        if let cached = statementCache[sql] {
            guard !cached.isBusy else {
                return try prepare(sql)
            }
            cached.clearBindings()
            return cached
        }
        let statement = try prepare(sql)
        if statementCache.count >= Self.statementCacheCapacity {
            statementCache.removeAll(keepingCapacity: true)
        }
        statementCache[sql] = statement
        return statement
    }

    /// Runs one statement with positional arguments; returns the number of rows it changed.
    @discardableResult
    public func run(_ sql: String, _ arguments: [DatabaseValue] = []) throws -> Int {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try statement.bind(arguments)
        while try statement.step() {}
        return changes
    }

    /// Runs one statement with named arguments; returns the number of rows it changed.
    @discardableResult
    public func run(_ sql: String, _ arguments: [String: DatabaseValue]) throws -> Int {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try statement.bind(arguments)
        while try statement.step() {}
        return changes
    }

    /// Runs a query with positional arguments and returns all its rows.
    public func query(_ sql: String, _ arguments: [DatabaseValue] = []) throws -> [Row] {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try statement.bind(arguments)
        return try Self.collectRows(statement)
    }

    /// Runs a query with named arguments and returns all its rows.
    public func query(_ sql: String, _ arguments: [String: DatabaseValue]) throws -> [Row] {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try statement.bind(arguments)
        return try Self.collectRows(statement)
    }

    /// Runs a query with positional arguments and returns its first row, if any.
    public func queryOne(_ sql: String, _ arguments: [DatabaseValue] = []) throws -> Row? {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try statement.bind(arguments)
        return try statement.step() ? statement.row() : nil
    }

    /// Runs a query with named arguments and returns its first row, if any.
    public func queryOne(_ sql: String, _ arguments: [String: DatabaseValue]) throws -> Row? {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try statement.bind(arguments)
        return try statement.step() ? statement.row() : nil
    }

    private static func collectRows(_ statement: Statement) throws -> [Row] {
        let names = statement.columnNames
        var rows: [Row] = []
        while try statement.step() {
            rows.append(statement.row(columnNames: names))
        }
        return rows
    }

    /// The rowid of the most recent successful INSERT on this connection.
    /// Related SQLite documentation: <https://www.sqlite.org/c3ref/last_insert_rowid.html>
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows changed by the most recent INSERT, UPDATE or DELETE on this connection.
    /// Related SQLite documentation: <https://www.sqlite.org/c3ref/changes.html>
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Rows changed on this connection since it was opened.
    public var totalChanges: Int { Int(sqlite3_total_changes(handle)) }

    /// True between BEGIN (or an outermost SAVEPOINT) and its end.
    /// Related SQLite documentation: <https://www.sqlite.org/c3ref/get_autocommit.html>
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Runs cached statements that take no arguments and return no rows (BEGIN, COMMIT, ...).
    func executeCached(_ sql: String) throws {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        while try statement.step() {}
    }

    // MARK: Transactions

    /// Runs `body` in a transaction: commits if it returns, rolls back if it throws.
    ///
    /// Inside an existing transaction this becomes a savepoint (and `kind` is moot), so helpers
    /// that use transactions compose, e.g. inside a ``DatabaseWriter`` job.
    /// Related SQLite documentation: <https://www.sqlite.org/lang_transaction.html>
    @discardableResult
    public func transaction<T>(_ kind: TransactionKind = .deferred, _ body: (Database) throws -> T) throws -> T {
        if isInTransaction {
            return try savepoint(body)
        }
        try executeCached("BEGIN \(kind.rawValue) TRANSACTION")
        let value: T
        do {
            value = try body(self)
            try executeCached("COMMIT TRANSACTION")
        } catch {
            rollbackIfActive()
            throw error
        }
        return value
    }

    /// Runs `body` in a savepoint: released if it returns, rolled back to if it throws. Outside a
    /// transaction, the savepoint is a transaction of its own.
    /// Related SQLite documentation: <https://www.sqlite.org/lang_savepoint.html>
    @discardableResult
    public func savepoint<T>(_ body: (Database) throws -> T) throws -> T {
        savepointDepth += 1
        defer { savepointDepth -= 1 }
        let name = "chat_savepoint_\(savepointDepth)"
        try executeCached("SAVEPOINT \(name)")
        do {
            let value = try body(self)
            try executeCached("RELEASE SAVEPOINT \(name)")
            return value
        } catch {
            // Some errors (SQLITE_FULL, IOERR, a ROLLBACK in body) end the whole transaction, and
            // with it the savepoint: then there is nothing left to roll back.
            if isInTransaction {
                // If these fail the transaction is beyond repair; the caller sees the original error
                // and the enclosing transaction's own end reports the rest.
                try? executeCached("ROLLBACK TRANSACTION TO SAVEPOINT \(name)")
                try? executeCached("RELEASE SAVEPOINT \(name)")
            }
            throw error
        }
    }

    /// Rolls back the current transaction, if any.
    func rollbackIfActive() {
        guard isInTransaction else { return }
        // ROLLBACK only fails if there is no transaction, which was just checked, or if the
        // connection is unusable, which the next statement will report.
        try? executeCached("ROLLBACK TRANSACTION")
    }

    // MARK: Backup

    /// Copies the whole database into a new file at `path` (replacing its content) while the
    /// database stays usable: an online backup.
    ///
    /// The copy runs in one step under one read transaction, so it is a consistent snapshot. Run it
    /// on a reader connection (``DatabaseReaderPool``) so that in WAL mode writers are not blocked.
    /// Related SQLite documentation: <https://www.sqlite.org/backup.html>
    public func backup(to path: String) throws {
        let destination = try Database(path: path)
        guard let backup = sqlite3_backup_init(destination.handle, "main", handle, "main") else {
            throw DatabaseError.lastError(
                of: destination.handle, code: sqlite3_errcode(destination.handle), sql: nil)
        }
        let stepCode = sqlite3_backup_step(backup, -1)
        // finish releases the backup object and reports the first error of the whole backup.
        let finishCode = sqlite3_backup_finish(backup)
        guard stepCode == SQLITE_DONE else {
            throw DatabaseError.lastError(of: destination.handle, code: stepCode, sql: nil)
        }
        guard finishCode == SQLITE_OK else {
            throw DatabaseError.lastError(of: destination.handle, code: finishCode, sql: nil)
        }
    }
}
