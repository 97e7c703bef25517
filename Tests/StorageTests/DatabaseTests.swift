import Foundation
import Storage
import Testing

@Suite struct DatabaseTests {
    private func withDatabase<T>(_ body: (Database, String) throws -> T) throws -> T {
        try withTemporaryDirectory { directory in
            let db = try Database(configuration: configuration(in: directory))
            return try body(db, directory)
        }
    }

    // MARK: Binding and reading

    @Test func everyTypeRoundTripsThroughBindingAndReading() throws {
        try withDatabase { db, _ in
            try db.execute("CREATE TABLE t(i INTEGER, r REAL, s TEXT, b BLOB, n)")
            let text = "héllo, 世界 🌍\u{0}after NUL"
            let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xff, 0]
            try db.run(
                "INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                [.integer(Int64.min), .real(-2.5e-300), .text(text), .blob(bytes), .null])

            let row = try #require(try db.queryOne("SELECT i, r, s, b, n FROM t"))
            #expect(row.values == [.integer(Int64.min), .real(-2.5e-300), .text(text), .blob(bytes), .null])

            let statement = try db.prepare("SELECT i, r, s, b, n, typeof(s), length(CAST(s AS BLOB)) FROM t")
            #expect(try statement.step())
            #expect(statement.int64(at: 0) == Int64.min)
            #expect(statement.double(at: 1) == -2.5e-300)
            #expect(statement.string(at: 2) == text)
            #expect(statement.blob(at: 3) == bytes)
            #expect(statement.isNull(at: 4))
            #expect(statement.string(at: 4) == nil)
            #expect(statement.blob(at: 4) == nil)
            #expect(!statement.isNull(at: 0))
            #expect(statement.string(at: 5) == "text")
            // Every UTF-8 byte was stored, including the NUL and what follows it.
            #expect(statement.int(at: 6) == text.utf8.count)
            #expect(try !statement.step())
        }
    }

    @Test func emptyTextAndEmptyBlobAreNotNull() throws {
        try withDatabase { db, _ in
            try db.execute("CREATE TABLE t(s, b)")
            try db.run("INSERT INTO t VALUES (?, ?)", [.text(""), .blob([])])
            let row = try #require(try db.queryOne("SELECT s, b, typeof(s), typeof(b) FROM t"))
            #expect(row.values == [.text(""), .blob([]), .text("text"), .text("blob")])
        }
    }

    @Test func typedBindOverloadsBindTheirType() throws {
        try withDatabase { db, _ in
            try db.execute("CREATE TABLE t(a, b, c, d, e, f, g)")
            let insert = try db.prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)")
            try insert.bind(Int64(1) << 40, at: 1)
            try insert.bind(42, at: 2)
            try insert.bind(0.5, at: 3)
            try insert.bind("text", at: 4)
            try insert.bind([UInt8]([9, 8]), at: 5)
            try insert.bind(true, at: 6)
            try insert.bindNull(at: 7)
            #expect(try !insert.step())
            let row = try #require(try db.queryOne("SELECT * FROM t"))
            #expect(row.values == [.integer(1 << 40), .integer(42), .real(0.5), .text("text"), .blob([9, 8]), 1, nil])
            #expect(row["f"].bool == true)
        }
    }

    @Test func literalAndConvertibleArgumentsBind() throws {
        try withDatabase { db, _ in
            try db.execute("CREATE TABLE t(a, b, c, d, e)")
            try db.run("INSERT INTO t VALUES (?, ?, ?, ?, ?)", [1, "x", 2.5, false, nil])
            let name: String? = nil
            let id = 7
            try db.run("INSERT INTO t VALUES (?, ?, ?, ?, ?)", [DatabaseValue(id), DatabaseValue(name), 0, 0, 0])
            let rows = try db.query("SELECT a, b, c, d, e FROM t ORDER BY rowid")
            #expect(rows.map(\.values) == [[1, "x", 2.5, 0, nil], [7, nil, 0, 0, 0]])
        }
    }

    @Test func namedParametersBindWithOrWithoutPrefix() throws {
        try withDatabase { db, _ in
            try db.execute("CREATE TABLE t(a, b, c)")
            try db.run("INSERT INTO t VALUES (:a, @b, $c)", ["a": 1, "@b": "two", "c": 3.0])
            let row = try #require(try db.queryOne("SELECT * FROM t WHERE a = :a AND a = :a", ["a": 1]))
            #expect(row.values == [1, "two", 3.0])

            let statement = try db.prepare("SELECT :x + 1")
            try statement.bind(41, named: "x")
            #expect(try statement.step())
            #expect(statement.int(at: 0) == 42)
        }
    }

    @Test func missingOrExtraNamedArgumentsAreErrors() throws {
        try withDatabase { db, _ in
            #expect(throws: DatabaseError.self) { try db.query("SELECT :a, :b", ["a": 1]) }
            #expect(throws: DatabaseError.self) { try db.query("SELECT :a", ["a": 1, "zzz": 2]) }
            #expect(throws: DatabaseError.self) { try db.query("SELECT ?", ["a": 1]) }
            let statement = try db.prepare("SELECT :a")
            #expect(throws: DatabaseError.self) { try statement.bind(1, named: "nope") }
        }
    }

    @Test func positionalArgumentCountMustMatch() throws {
        try withDatabase { db, _ in
            let tooFew = #expect(throws: DatabaseError.self) { try db.query("SELECT ?, ?", [1]) }
            #expect(tooFew?.message == "expected 2 arguments, got 1")
            #expect(throws: DatabaseError.self) { try db.query("SELECT ?", [1, 2]) }
            let statement = try db.prepare("SELECT ?")
            #expect(throws: DatabaseError.self) { try statement.bind(1, at: 2) }
        }
    }

    @Test func rowLooksUpColumnsByNameCaseInsensitively() throws {
        try withDatabase { db, _ in
            let row = try #require(try db.queryOne("SELECT 1 AS Id, 'x' AS name"))
            #expect(row["id"] == 1)
            #expect(row["NAME"].string == "x")
            #expect(row["missing"] == .null)
            #expect(row[1] == "x")
            #expect(row.columnNames == ["Id", "name"])
        }
    }

    // MARK: Statement cache

    @Test func statementCacheReturnsTheSameStatementForTheSameSQL() throws {
        try withDatabase { db, _ in
            try db.execute("CREATE TABLE t(a)")
            let first = try db.cachedStatement("INSERT INTO t VALUES (?)")
            let second = try db.cachedStatement("INSERT INTO t VALUES (?)")
            let other = try db.cachedStatement("SELECT a FROM t")
            #expect(first === second)
            #expect(first !== other)
            // The helpers go through the cache and leave the statement reset for the next use.
            for value in 1...3 {
                try db.run("INSERT INTO t VALUES (?)", [.integer(Int64(value))])
            }
            #expect(try db.cachedStatement("INSERT INTO t VALUES (?)") === first)
            #expect(try db.query("SELECT a FROM t ORDER BY a").map { $0[0] } == [1, 2, 3])
        }
    }

    @Test func cachedStatementInUseIsNotHandedOutTwice() throws {
        try withDatabase { db, _ in
            try db.execute("CREATE TABLE t(a); INSERT INTO t VALUES (1), (2), (3);")
            let outer = try db.cachedStatement("SELECT a FROM t ORDER BY a")
            #expect(try outer.step())
            // Same SQL while the outer cursor is open: a fresh statement, outer cursor untouched.
            let inner = try db.query("SELECT a FROM t ORDER BY a")
            #expect(inner.count == 3)
            #expect(outer.int(at: 0) == 1)
            #expect(try outer.step())
            #expect(outer.int(at: 0) == 2)
        }
    }

    // MARK: Errors

    @Test func syntaxErrorCarriesCodeMessageAndSQL() throws {
        try withDatabase { db, _ in
            let error = try #require(throws: DatabaseError.self) { try db.query("SELEC 1") }
            #expect(error.resultCode == 1)  // SQLITE_ERROR
            #expect(error.message.contains("syntax error"))
            #expect(error.sql == "SELEC 1")
            #expect(error.description.contains("SELEC 1"))
            #expect(error.description.contains("syntax error"))
        }
    }

    @Test func uniqueViolationCarriesExtendedCode() throws {
        try withDatabase { db, _ in
            try db.execute("CREATE TABLE t(a UNIQUE)")
            try db.run("INSERT INTO t VALUES (?)", [1])
            let error = try #require(throws: DatabaseError.self) { try db.run("INSERT INTO t VALUES (?)", [1]) }
            #expect(error.resultCode == 19)  // SQLITE_CONSTRAINT
            #expect(error.extendedResultCode == 2067)  // SQLITE_CONSTRAINT_UNIQUE
            #expect(error.isConstraintViolation)
            #expect(error.isUniqueConstraintViolation)
            #expect(!error.isForeignKeyViolation)
            #expect(error.message == "UNIQUE constraint failed: t.a")
            #expect(error.sql == "INSERT INTO t VALUES (?)")
        }
    }

    @Test func notNullViolationIsReported() throws {
        try withDatabase { db, _ in
            try db.execute("CREATE TABLE t(a NOT NULL)")
            let error = try #require(throws: DatabaseError.self) { try db.run("INSERT INTO t VALUES (NULL)") }
            #expect(error.isNotNullViolation)
            #expect(!error.isUniqueConstraintViolation)
        }
    }

    @Test func prepareRejectsEmptySQLAndSeveralStatements() throws {
        try withDatabase { db, _ in
            #expect(throws: DatabaseError.self) { try db.prepare("  -- nothing ") }
            #expect(throws: DatabaseError.self) { try db.prepare("SELECT 1; SELECT 2") }
            // Trailing separators and comments are fine.
            let statement = try db.prepare("SELECT 1; -- done\n ;")
            #expect(statement.columnCount == 1)
        }
    }

    @Test func sqlWithANulCharacterIsRejectedRatherThanTruncated() throws {
        try withDatabase { db, _ in
            try db.execute("CREATE TABLE a(x)")
            #expect(throws: DatabaseError.self) { try db.execute("INSERT INTO a VALUES (1);\u{0}DROP TABLE a;") }
            #expect(throws: DatabaseError.self) { try db.prepare("SELECT 1\u{0}; SELECT 2") }
            #expect(try count("a", in: db) == 0)
        }
    }

    @Test func executeRunsScriptsAndNamesTheFailingStatement() throws {
        try withDatabase { db, _ in
            try db.execute(
                """
                CREATE TABLE a(x);
                -- a comment between statements
                INSERT INTO a VALUES (1);
                SELECT * FROM a;
                INSERT INTO a VALUES (2);
                """)
            #expect(try count("a", in: db) == 2)
            let error = try #require(throws: DatabaseError.self) {
                try db.execute("INSERT INTO a VALUES (3); INSERT INTO missing VALUES (4); INSERT INTO a VALUES (5);")
            }
            #expect(error.message.contains("no such table: missing"))
            #expect(error.sql?.hasPrefix("INSERT INTO missing VALUES (4);") == true)
            // Statements before the failure ran; the ones after did not.
            #expect(try db.query("SELECT x FROM a ORDER BY x").map { $0[0] } == [1, 2, 3])
        }
    }

    @Test func openingAMissingFileReadOnlyFails() throws {
        try withTemporaryDirectory { directory in
            let error = try #require(throws: DatabaseError.self) {
                try Database(path: directory + "/absent.db", flags: [.readOnly])
            }
            #expect(error.resultCode == 14)  // SQLITE_CANTOPEN
            #expect(error.message.contains("absent.db"))
        }
    }

    // MARK: Changes and transactions

    @Test func lastInsertRowIDAndChangesReportTheLastStatement() throws {
        try withDatabase { db, _ in
            try db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, a)")
            try db.run("INSERT INTO t(a) VALUES (?)", ["x"])
            try db.run("INSERT INTO t(a) VALUES (?)", ["y"])
            #expect(db.lastInsertRowID == 2)
            #expect(try db.run("UPDATE t SET a = 'z'") == 2)
            #expect(db.changes == 2)
            #expect(try db.run("DELETE FROM t WHERE id = ?", [1]) == 1)
        }
    }

    @Test func transactionCommitsWhenBodyReturns() throws {
        try withDatabase { db, directory in
            try db.execute("CREATE TABLE t(a)")
            let value = try db.transaction(.immediate) { db -> Int in
                #expect(db.isInTransaction)
                try db.run("INSERT INTO t VALUES (1)")
                return 7
            }
            #expect(value == 7)
            #expect(!db.isInTransaction)
            // Visible to another connection: really committed.
            let other = try Database(path: directory + "/test.db")
            #expect(try count("t", in: other) == 1)
        }
    }

    @Test func transactionRollsBackWhenBodyThrows() throws {
        try withDatabase { db, _ in
            try db.execute("CREATE TABLE t(a)")
            #expect(throws: TestError(id: 1)) {
                try db.transaction { db in
                    try db.run("INSERT INTO t VALUES (1)")
                    throw TestError(id: 1)
                }
            }
            #expect(!db.isInTransaction)
            #expect(try count("t", in: db) == 0)
        }
    }

    @Test func nestedTransactionIsASavepointThatRollsBackAlone() throws {
        try withDatabase { db, _ in
            try db.execute("CREATE TABLE t(a)")
            try db.transaction { db in
                try db.run("INSERT INTO t VALUES (1)")
                #expect(throws: TestError(id: 2)) {
                    try db.transaction { db in
                        try db.run("INSERT INTO t VALUES (2)")
                        throw TestError(id: 2)
                    }
                }
                try db.transaction { db in
                    try db.run("INSERT INTO t VALUES (3)")
                }
            }
            #expect(try db.query("SELECT a FROM t ORDER BY a").map { $0[0] } == [1, 3])
        }
    }

    @Test func failedCommitRollsBackAndThrows() throws {
        try withDatabase { db, _ in
            try db.execute(
                """
                CREATE TABLE parent(id INTEGER PRIMARY KEY);
                CREATE TABLE child(parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);
                """)
            let error = #expect(throws: DatabaseError.self) {
                try db.transaction { db in
                    try db.run("INSERT INTO child VALUES (1)")  // checked at COMMIT
                }
            }
            #expect(error?.isForeignKeyViolation == true)
            #expect(!db.isInTransaction)
            #expect(try count("child", in: db) == 0)
        }
    }

    @Test func failedStatementInsideTransactionCanBeRecovered() throws {
        try withDatabase { db, _ in
            try db.execute("CREATE TABLE t(a UNIQUE)")
            try db.transaction { db in
                try db.run("INSERT INTO t VALUES (1)")
                let duplicate = #expect(throws: DatabaseError.self) {
                    try db.savepoint { try $0.run("INSERT INTO t VALUES (1)") }
                }
                #expect(duplicate?.isUniqueConstraintViolation == true)
                try db.run("INSERT INTO t VALUES (2)")
            }
            #expect(try count("t", in: db) == 2)
        }
    }

    // MARK: Configuration

    @Test func walJournalModeIsOnAndPersistent() throws {
        try withTemporaryDirectory { directory in
            let config = configuration(in: directory)
            let db = try Database(configuration: config)
            #expect(try db.queryOne("PRAGMA journal_mode")?[0] == "wal")
            try db.execute("CREATE TABLE t(a); INSERT INTO t VALUES (1);")
            #expect(FileManager.default.fileExists(atPath: config.path + "-wal"))
            // WAL is recorded in the file: a plain connection sees it too.
            let plain = try Database(path: config.path)
            #expect(try plain.queryOne("PRAGMA journal_mode")?[0] == "wal")
        }
    }

    @Test func journalModeThatDoesNotTakeEffectIsAnError() throws {
        // An in-memory database cannot use WAL; SQLite keeps "memory" without reporting an error.
        let error = try #require(throws: DatabaseError.self) {
            try Database(configuration: DatabaseConfiguration(path: ":memory:"))
        }
        #expect(error.message.contains("journal_mode is memory instead of wal"))
    }

    @Test func synchronousAndBusyTimeoutAreApplied() throws {
        try withTemporaryDirectory { directory in
            var config = configuration(in: directory)
            config.synchronous = .full
            config.busyTimeout = 1234
            let db = try Database(configuration: config)
            #expect(try db.queryOne("PRAGMA synchronous")?[0] == 2)  // FULL
            #expect(try db.queryOne("PRAGMA busy_timeout")?[0] == 1234)
            config.synchronous = .normal
            let other = try Database(configuration: config)
            #expect(try other.queryOne("PRAGMA synchronous")?[0] == 1)  // NORMAL
        }
    }

    @Test func foreignKeysAreEnforced() throws {
        try withDatabase { db, _ in
            #expect(try db.queryOne("PRAGMA foreign_keys")?[0] == 1)
            try db.execute(
                """
                CREATE TABLE parent(id INTEGER PRIMARY KEY);
                CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id));
                INSERT INTO parent VALUES (1);
                """)
            try db.run("INSERT INTO child(parent_id) VALUES (1)")
            let error = try #require(throws: DatabaseError.self) {
                try db.run("INSERT INTO child(parent_id) VALUES (2)")
            }
            #expect(error.isForeignKeyViolation)
            #expect(error.extendedResultCode == 787)  // SQLITE_CONSTRAINT_FOREIGNKEY
            #expect(throws: DatabaseError.self) { try db.run("DELETE FROM parent") }
        }
    }

    // MARK: Backup

    @Test func backupCopiesTheWholeDatabase() throws {
        try withDatabase { db, directory in
            try db.execute("CREATE TABLE t(a); INSERT INTO t VALUES ('kept');")
            let copyPath = directory + "/copy.db"
            try db.backup(to: copyPath)
            try db.run("INSERT INTO t VALUES ('after backup')")
            let copy = try Database(path: copyPath)
            #expect(try copy.query("SELECT a FROM t").map { $0[0] } == ["kept"])
        }
    }
}
