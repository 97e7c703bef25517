import CSQLite

/// An error reported by SQLite, or by this module when SQLite is used in a way it cannot serve.
///
/// Connections are opened with extended result codes enabled, so `extendedResultCode` tells apart,
/// for example, a UNIQUE violation (`SQLITE_CONSTRAINT_UNIQUE`) from a foreign key violation
/// (`SQLITE_CONSTRAINT_FOREIGNKEY`); `resultCode` is its primary code (the low 8 bits).
///
/// Related SQLite documentation: <https://www.sqlite.org/rescode.html>
public struct DatabaseError: Error, Equatable, CustomStringConvertible {
    /// The extended result code, e.g. 2067 (`SQLITE_CONSTRAINT_UNIQUE`).
    public let extendedResultCode: Int32
    /// The message of `sqlite3_errmsg`, or of this module for misuse it detects itself.
    public let message: String
    /// The SQL that failed, when there is one.
    public let sql: String?

    public init(extendedResultCode: Int32, message: String, sql: String? = nil) {
        self.extendedResultCode = extendedResultCode
        self.message = message
        self.sql = sql
    }

    /// The primary result code, e.g. 19 (`SQLITE_CONSTRAINT`).
    public var resultCode: Int32 { extendedResultCode & 0xFF }

    /// True for any constraint violation (NOT NULL, UNIQUE, CHECK, FOREIGN KEY, ...).
    public var isConstraintViolation: Bool { resultCode == SQLITE_CONSTRAINT }

    // Swift does not import SQLite's extended result code macros (they are expressions), so the
    // needed ones are spelled out here, with the values of https://www.sqlite.org/rescode.html.
    static let constraintForeignKey = SQLITE_CONSTRAINT | (3 << 8)
    static let constraintNotNull = SQLITE_CONSTRAINT | (5 << 8)
    static let constraintPrimaryKey = SQLITE_CONSTRAINT | (6 << 8)
    static let constraintUnique = SQLITE_CONSTRAINT | (8 << 8)

    /// True for UNIQUE and PRIMARY KEY violations: callers map these to "already exists".
    public var isUniqueConstraintViolation: Bool {
        extendedResultCode == Self.constraintUnique || extendedResultCode == Self.constraintPrimaryKey
    }

    /// True for foreign key violations.
    public var isForeignKeyViolation: Bool { extendedResultCode == Self.constraintForeignKey }

    /// True for NOT NULL violations.
    public var isNotNullViolation: Bool { extendedResultCode == Self.constraintNotNull }

    /// True when the database stayed locked for longer than the busy timeout.
    public var isBusy: Bool { resultCode == SQLITE_BUSY }

    public var description: String {
        // sqlite3_errstr returns a static string, valid for the life of the process.
        let codeName = String(cString: sqlite3_errstr(extendedResultCode))
        var text = "SQLite error \(extendedResultCode) (\(codeName)): \(message)"
        if let sql {
            text += " [SQL: \(sql)]"
        }
        return text
    }

    /// Reads the error of the last failed call on `connection`.
    ///
    /// Must run right after the failing call on the same thread: the next call on the connection
    /// overwrites both the code and the message.
    static func lastError(of connection: OpaquePointer?, code: Int32, sql: String?) -> DatabaseError {
        // sqlite3_errmsg may describe a newer error than `code` if it was not called right away;
        // `code` (the value the failing API returned) is authoritative.
        let message: String
        if let connection, let cMessage = sqlite3_errmsg(connection) {
            message = String(cString: cMessage)
        } else {
            message = String(cString: sqlite3_errstr(code))
        }
        return DatabaseError(extendedResultCode: code, message: message, sql: sql)
    }

    /// An error for API misuse that this module detects before SQLite would.
    static func misuse(_ message: String, sql: String? = nil) -> DatabaseError {
        DatabaseError(extendedResultCode: SQLITE_MISUSE, message: message, sql: sql)
    }
}
