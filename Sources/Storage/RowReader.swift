/// Reads typed columns of one row. A value of the wrong type (STRICT tables prevent that, but a file edited by
/// other tools might not be STRICT) becomes the error of the store that reads it, naming table and column.
struct RowReader {
    let row: Row
    let table: String
    let corruptRow: (_ table: String, _ column: String) -> any Error

    init(
        row: Row, table: String,
        corruptRow: @escaping (_ table: String, _ column: String) -> any Error = AccountStoreError.corrupt
    ) {
        self.row = row
        self.table = table
        self.corruptRow = corruptRow
    }

    private func corrupt(_ index: Int) -> any Error {
        corruptRow(table, index < row.columnNames.count ? row.columnNames[index] : "#\(index)")
    }

    func integer(_ index: Int) throws -> Int64 {
        guard let value = row[index].int64 else { throw corrupt(index) }
        return value
    }

    func optionalInteger(_ index: Int) throws -> Int64? {
        let value = row[index]
        if value.isNull { return nil }
        guard let integer = value.int64 else { throw corrupt(index) }
        return integer
    }

    func text(_ index: Int) throws -> String {
        guard let value = row[index].string else { throw corrupt(index) }
        return value
    }

    func optionalText(_ index: Int) throws -> String? {
        let value = row[index]
        if value.isNull { return nil }
        guard let text = value.string else { throw corrupt(index) }
        return text
    }

    func bool(_ index: Int) throws -> Bool {
        guard let value = row[index].int64, value == 0 || value == 1 else { throw corrupt(index) }
        return value == 1
    }
}

extension AccountStoreError {
    /// `RowReader`'s error for the account and chat-room stores.
    static func corrupt(_ table: String, _ column: String) -> any Error {
        AccountStoreError.corruptRow(table: table, column: column)
    }
}

extension MessageStoreError {
    /// `RowReader`'s error for the message store.
    static func corrupt(_ table: String, _ column: String) -> any Error {
        MessageStoreError.corruptRow(table: table, column: column)
    }
}
