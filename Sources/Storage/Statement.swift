import CSQLite

/// Tells SQLite to copy bound text and blobs before `sqlite3_bind_*` returns.
///
/// Swift cannot import the `SQLITE_TRANSIENT` macro (it casts -1 to a function pointer). Without it
/// SQLite would keep a pointer into the Swift buffer, which is freed as soon as the closure that
/// exposes it returns, and the statement would later read freed memory.
/// Related SQLite documentation: <https://www.sqlite.org/c3ref/c_static.html>
let sqliteTransient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// A prepared statement: one compiled SQL statement with its bindings and cursor.
///
/// Like its ``Database``, a statement is used by one thread at a time. Parameters are bound by
/// 1-based index (as in SQL's `?1`) or by name; columns are read by 0-based index (as in
/// `sqlite3_column_*`). The statement is finalized when the last reference goes away; the
/// connection is closed with `sqlite3_close_v2`, so a statement outliving its `Database` stays
/// valid until then.
///
/// Related SQLite documentation: <https://www.sqlite.org/c3ref/stmt.html>
public final class Statement {
    /// The `sqlite3_stmt*`.
    let handle: OpaquePointer
    /// The SQL this statement was compiled from.
    public let sql: String

    /// Compiles the single statement in `sql`.
    ///
    /// Throws if `sql` holds no statement, or more than one: a second statement would be silently
    /// ignored by `sqlite3_prepare_v2`, which hides bugs. Use ``Database/execute(_:)`` for scripts.
    /// Related SQLite documentation: <https://www.sqlite.org/c3ref/prepare.html>
    init(connection: OpaquePointer, sql: String) throws {
        // SQLite reads the C string up to the first NUL: anything after it would be silently skipped.
        guard !sql.utf8.contains(0) else {
            throw DatabaseError.misuse("SQL contains a NUL character", sql: sql)
        }
        var compiled: OpaquePointer?
        var hasTrailingStatement = false
        let code = sql.withCString { cSQL -> Int32 in
            var tail: UnsafePointer<CChar>?
            let code = sqlite3_prepare_v2(connection, cSQL, -1, &compiled, &tail)
            if code == SQLITE_OK, let tail, tail.pointee != 0 {
                // Only whitespace and comments may follow: compiling them yields no statement.
                var extra: OpaquePointer?
                let extraCode = sqlite3_prepare_v2(connection, tail, -1, &extra, nil)
                hasTrailingStatement = extraCode != SQLITE_OK || extra != nil
                sqlite3_finalize(extra)
            }
            return code
        }
        guard code == SQLITE_OK else {
            throw DatabaseError.lastError(of: connection, code: code, sql: sql)
        }
        guard let compiled else {
            throw DatabaseError.misuse("no SQL statement to prepare", sql: sql)
        }
        guard !hasTrailingStatement else {
            sqlite3_finalize(compiled)
            throw DatabaseError.misuse("more than one SQL statement; use execute(_:) for scripts", sql: sql)
        }
        self.handle = compiled
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(handle)
    }

    private var connection: OpaquePointer? { sqlite3_db_handle(handle) }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError.lastError(of: connection, code: code, sql: sql)
    }

    // MARK: Metadata

    /// Number of result columns (0 for statements that return no rows).
    public var columnCount: Int { Int(sqlite3_column_count(handle)) }

    /// Number of parameters, i.e. the largest parameter index.
    public var parameterCount: Int { Int(sqlite3_bind_parameter_count(handle)) }

    /// Result column names, left to right.
    public var columnNames: [String] {
        (0..<sqlite3_column_count(handle)).map { index in
            // NULL only on allocation failure; a blank name is better than failing the query.
            sqlite3_column_name(handle, index).map { String(cString: $0) } ?? ""
        }
    }

    /// True if the statement makes no direct change to the database file.
    /// Related SQLite documentation: <https://www.sqlite.org/c3ref/stmt_readonly.html>
    public var isReadOnly: Bool { sqlite3_stmt_readonly(handle) != 0 }

    /// True between the first `step()` and the `reset()` or end of rows: the statement is in use.
    /// Related SQLite documentation: <https://www.sqlite.org/c3ref/stmt_busy.html>
    public var isBusy: Bool { sqlite3_stmt_busy(handle) != 0 }

    // MARK: Binding

    /// Binds `value` to the 1-based parameter `index`.
    public func bind(_ value: DatabaseValue, at index: Int) throws {
        guard index >= 1, index <= parameterCount else {
            throw DatabaseError(
                extendedResultCode: SQLITE_RANGE,
                message: "parameter index \(index) out of range 1...\(parameterCount)", sql: sql)
        }
        let position = Int32(index)
        let code: Int32
        switch value {
        case .integer(let integer):
            code = sqlite3_bind_int64(handle, position, integer)
        case .real(let real):
            code = sqlite3_bind_double(handle, position, real)
        case .text(let text):
            code = bindText(text, at: position)
        case .blob(let bytes):
            code = bindBlob(bytes, at: position)
        case .null:
            code = sqlite3_bind_null(handle, position)
        }
        guard code == SQLITE_OK else { throw error(code) }
    }

    /// Binds the text with its explicit UTF-8 length, so embedded NUL characters are kept.
    private func bindText(_ text: String, at position: Int32) -> Int32 {
        var text = text
        return text.withUTF8 { utf8 in
            // A nil base address (empty string) would bind NULL instead of ''.
            guard let base = utf8.baseAddress else {
                return sqlite3_bind_text(handle, position, "", 0, sqliteTransient)
            }
            return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) { chars in
                sqlite3_bind_text64(handle, position, chars, UInt64(utf8.count), sqliteTransient, UInt8(SQLITE_UTF8))
            }
        }
    }

    private func bindBlob(_ bytes: [UInt8], at position: Int32) -> Int32 {
        bytes.withUnsafeBytes { raw in
            // A nil pointer (empty blob) would bind NULL instead of a zero-length blob.
            guard let base = raw.baseAddress, !raw.isEmpty else {
                return sqlite3_bind_zeroblob(handle, position, 0)
            }
            return sqlite3_bind_blob64(handle, position, base, UInt64(raw.count), sqliteTransient)
        }
    }

    public func bind(_ value: Int64, at index: Int) throws { try bind(.integer(value), at: index) }
    public func bind(_ value: Int, at index: Int) throws { try bind(.integer(Int64(value)), at: index) }
    public func bind(_ value: Double, at index: Int) throws { try bind(.real(value), at: index) }
    public func bind(_ value: String, at index: Int) throws { try bind(.text(value), at: index) }
    public func bind(_ value: [UInt8], at index: Int) throws { try bind(.blob(value), at: index) }
    public func bind(_ value: Bool, at index: Int) throws { try bind(.integer(value ? 1 : 0), at: index) }
    public func bindNull(at index: Int) throws { try bind(.null, at: index) }

    /// Binds `value` to the parameter named `name`: `":id"`, `"@id"`, `"$id"`, or just `"id"`,
    /// which matches whichever of those prefixes the SQL uses.
    public func bind(_ value: DatabaseValue, named name: String) throws {
        guard let index = parameterIndex(named: name) else {
            throw DatabaseError(extendedResultCode: SQLITE_RANGE, message: "no parameter named \(name)", sql: sql)
        }
        try bind(value, at: index)
    }

    private func parameterIndex(named name: String) -> Int? {
        let candidates = name.first.map { ":@$?".contains($0) } == true ? [name] : [":", "@", "$"].map { $0 + name }
        for candidate in candidates {
            let index = sqlite3_bind_parameter_index(handle, candidate)
            if index > 0 {
                return Int(index)
            }
        }
        return nil
    }

    /// Binds every parameter positionally. The count must match, so a missing or extra argument
    /// is an error rather than a silent NULL.
    public func bind(_ arguments: [DatabaseValue]) throws {
        guard arguments.count == parameterCount else {
            throw DatabaseError(
                extendedResultCode: SQLITE_RANGE,
                message: "expected \(parameterCount) arguments, got \(arguments.count)", sql: sql)
        }
        for (offset, value) in arguments.enumerated() {
            try bind(value, at: offset + 1)
        }
    }

    /// Binds every parameter by name (keys with or without their `:`/`@`/`$` prefix). Every named
    /// parameter needs a value and every value a parameter.
    public func bind(_ arguments: [String: DatabaseValue]) throws {
        var unused = Set(arguments.keys)
        for index in stride(from: 1, through: parameterCount, by: 1) {
            guard let cName = sqlite3_bind_parameter_name(handle, Int32(index)) else {
                throw DatabaseError.misuse("parameter \(index) has no name; bind it positionally", sql: sql)
            }
            let fullName = String(cString: cName)
            let bareName = String(fullName.dropFirst())
            let key = arguments[fullName] != nil ? fullName : bareName
            guard let value = arguments[key] else {
                throw DatabaseError(
                    extendedResultCode: SQLITE_RANGE, message: "missing value for \(fullName)", sql: sql)
            }
            unused.remove(key)
            try bind(value, at: index)
        }
        guard unused.isEmpty else {
            let names = unused.sorted().joined(separator: ", ")
            throw DatabaseError(extendedResultCode: SQLITE_RANGE, message: "no parameter named \(names)", sql: sql)
        }
    }

    /// Sets every parameter back to NULL.
    public func clearBindings() {
        sqlite3_clear_bindings(handle)
    }

    // MARK: Execution

    /// Advances to the next row. Returns true if a row is available, false when done.
    /// Related SQLite documentation: <https://www.sqlite.org/c3ref/step.html>
    @discardableResult
    public func step() throws -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw error(code)
        }
    }

    /// Rewinds the statement so it can run again; bindings are kept.
    ///
    /// The result of `sqlite3_reset` only repeats the error the last `step()` already threw.
    public func reset() {
        sqlite3_reset(handle)
    }

    // MARK: Reading columns (0-based, valid after step() returned true)

    private func position(_ index: Int) -> Int32 {
        // Out-of-range column reads are undefined behavior in SQLite, so this is a programming error.
        precondition(index >= 0 && index < columnCount, "column index \(index) out of range")
        return Int32(index)
    }

    /// True if the column holds NULL.
    public func isNull(at index: Int) -> Bool {
        sqlite3_column_type(handle, position(index)) == SQLITE_NULL
    }

    /// The column as an integer, converted by SQLite's rules (NULL reads as 0; use ``isNull(at:)``).
    public func int64(at index: Int) -> Int64 {
        sqlite3_column_int64(handle, position(index))
    }

    /// The column as an `Int` (see ``int64(at:)``).
    public func int(at index: Int) -> Int {
        Int(int64(at: index))
    }

    /// The column as a double, converted by SQLite's rules (NULL reads as 0; use ``isNull(at:)``).
    public func double(at index: Int) -> Double {
        sqlite3_column_double(handle, position(index))
    }

    /// The column as text (numbers are converted by SQLite), or nil if NULL. Embedded NUL
    /// characters are kept: the length comes from `sqlite3_column_bytes`, not from a terminator.
    public func string(at index: Int) -> String? {
        let column = position(index)
        guard sqlite3_column_type(handle, column) != SQLITE_NULL else { return nil }
        // sqlite3_column_text must come before sqlite3_column_bytes: it may convert the value,
        // which changes its byte count. https://www.sqlite.org/c3ref/column_blob.html
        guard let text = sqlite3_column_text(handle, column) else {
            // Non-NULL values convert to non-NULL pointers, even when empty, unless SQLite ran out
            // of memory; Swift treats allocation failure as fatal too.
            fatalError("SQLite ran out of memory converting column \(index) to text")
        }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// The column as bytes, or nil if NULL. A zero-length blob reads as `[]`.
    public func blob(at index: Int) -> [UInt8]? {
        let column = position(index)
        guard sqlite3_column_type(handle, column) != SQLITE_NULL else { return nil }
        let pointer = sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// The column with its stored datatype.
    public func value(at index: Int) -> DatabaseValue {
        let column = position(index)
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(handle, column))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, column))
        case SQLITE_TEXT: return string(at: index).map(DatabaseValue.text) ?? .null
        case SQLITE_BLOB: return blob(at: index).map(DatabaseValue.blob) ?? .null
        default: return .null
        }
    }

    /// The current row, with `columnNames` (pass them in to share one array across rows).
    public func row(columnNames: [String]? = nil) -> Row {
        let names = columnNames ?? self.columnNames
        return Row(columnNames: names, values: (0..<names.count).map { value(at: $0) })
    }
}
