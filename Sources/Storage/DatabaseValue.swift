/// A value stored in, or bound to, SQLite: one case per fundamental datatype.
///
/// The literal conformances let arguments be written inline:
/// `try db.run("INSERT INTO t(a, b, c) VALUES (?, ?, ?)", [1, "x", nil])`.
/// Variables are wrapped with ``init(_:)``: `[DatabaseValue(userID), DatabaseValue(name)]`.
///
/// Related SQLite documentation: <https://www.sqlite.org/datatype3.html>
public enum DatabaseValue: Sendable, Hashable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case null

    /// Wraps any convertible Swift value (`nil` optionals become ``null``).
    public init(_ value: some DatabaseValueConvertible) {
        self = value.databaseValue
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The integer, or nil if the value is not an integer.
    public var int64: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The integer as `Int`, or nil if the value is not an integer.
    public var int: Int? {
        int64.map { Int($0) }
    }

    /// The number, or nil if the value is neither a real nor an integer.
    public var double: Double? {
        switch self {
        case .real(let value): return value
        case .integer(let value): return Double(value)
        default: return nil
        }
    }

    /// The text, or nil if the value is not text.
    public var string: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    /// The bytes, or nil if the value is not a blob.
    public var bytes: [UInt8]? {
        if case .blob(let value) = self { return value }
        return nil
    }

    /// The integer as a boolean (SQLite stores booleans as 0 and 1), or nil if not an integer.
    public var bool: Bool? {
        int64.map { $0 != 0 }
    }
}

extension DatabaseValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) {
        self = .integer(value)
    }
}

extension DatabaseValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) {
        self = .real(value)
    }
}

extension DatabaseValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) {
        self = .text(value)
    }
}

extension DatabaseValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) {
        self = .integer(value ? 1 : 0)
    }
}

extension DatabaseValue: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) {
        self = .null
    }
}

/// A Swift type that can be bound as a statement argument.
public protocol DatabaseValueConvertible {
    var databaseValue: DatabaseValue { get }
}

extension DatabaseValue: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { self }
}

extension Int64: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .integer(self) }
}

extension Int: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .integer(Int64(self)) }
}

extension Int32: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .integer(Int64(self)) }
}

extension Double: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .real(self) }
}

extension String: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .text(self) }
}

extension Bool: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .integer(self ? 1 : 0) }
}

extension Array: DatabaseValueConvertible where Element == UInt8 {
    public var databaseValue: DatabaseValue { .blob(self) }
}

extension Optional: DatabaseValueConvertible where Wrapped: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue {
        switch self {
        case .some(let value): return value.databaseValue
        case .none: return .null
        }
    }
}

/// One result row: the values of a query's columns, by position or by name.
public struct Row: Sendable, Equatable {
    /// Column names, shared by every row of one query.
    public let columnNames: [String]
    /// Values, in column order.
    public let values: [DatabaseValue]

    public init(columnNames: [String], values: [DatabaseValue]) {
        precondition(columnNames.count == values.count, "a row needs one name per value")
        self.columnNames = columnNames
        self.values = values
    }

    public var count: Int { values.count }

    /// The value at a 0-based column index; traps if out of range, like an array.
    public subscript(index: Int) -> DatabaseValue {
        values[index]
    }

    /// The value of the leftmost column with that name (case-insensitive, as in SQL), or
    /// ``DatabaseValue/null`` if there is no such column.
    public subscript(name: String) -> DatabaseValue {
        guard let index = index(of: name) else { return .null }
        return values[index]
    }

    /// The 0-based index of the leftmost column with that name (case-insensitive).
    public func index(of name: String) -> Int? {
        let lowered = name.lowercased()
        return columnNames.firstIndex { $0.lowercased() == lowered }
    }
}
