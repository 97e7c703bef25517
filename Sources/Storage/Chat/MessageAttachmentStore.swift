/// An asset shown by a message, with what clients need to display and fetch it.
public struct AttachmentRecord: Sendable, Equatable {
    public var messageID: Int64
    public var position: Int
    public var cloudName: String
    public var publicID: String
    public var resourceType: String
    public var type: String
    public var format: String
    public var version: Int64
    public var bytes: Int64
    public var width: Int?
    public var height: Int?
    public var originalFilename: String?
}

/// Every SQL statement about message attachments (migration `0007_message_attachments`).
public struct MessageAttachmentStore: Sendable {
    public init() {}

    /// Attaches the assets with these public ids, in this order, to a message; only assets `ownerUserID`
    /// uploaded count. Returns false (and attaches nothing) unless every one of them was found.
    public func attach(messageID: Int64, publicIDs: [String], ownerUserID: Int64, _ db: Database) throws -> Bool {
        guard !publicIDs.isEmpty else { return true }
        let inserted = try db.run(
            """
            INSERT INTO message_attachments (message_id, position, asset_id)
            SELECT ?1, wanted.key, (SELECT a.id FROM assets a WHERE a.public_id = wanted.value AND a.owner_user_id = ?2
                                    ORDER BY a.id DESC LIMIT 1)
            FROM json_each(?3) AS wanted
            WHERE EXISTS (SELECT 1 FROM assets a WHERE a.public_id = wanted.value AND a.owner_user_id = ?2)
            """, [.integer(messageID), .integer(ownerUserID), .text(try AssetStore.json(publicIDs))])
        if inserted == publicIDs.count { return true }
        try db.run("DELETE FROM message_attachments WHERE message_id = ?", [.integer(messageID)])
        return false
    }

    /// The attachments of several messages in one query, by message then position.
    public func attachments(messageIDs: [Int64], _ db: Database) throws -> [AttachmentRecord] {
        guard !messageIDs.isEmpty else { return [] }
        return try db.query(
            """
            SELECT m.message_id, m.position, a.cloud_name, a.public_id, a.resource_type, a.type, a.format, a.version,
                   a.bytes, a.width, a.height, a.original_filename
            FROM message_attachments m JOIN assets a ON a.id = m.asset_id
            WHERE m.message_id IN (SELECT value FROM json_each(?1))
            ORDER BY m.message_id, m.position
            """, [.text(RoomStore.jsonArray(messageIDs))]
        ).map { row in
            let reader = RowReader(row: row, table: "message_attachments", corruptRow: MessageStoreError.corrupt)
            return AttachmentRecord(
                messageID: try reader.integer(0), position: Int(try reader.integer(1)), cloudName: try reader.text(2),
                publicID: try reader.text(3), resourceType: try reader.text(4), type: try reader.text(5),
                format: try reader.text(6), version: try reader.integer(7), bytes: try reader.integer(8),
                width: try reader.optionalInteger(9).map { Int($0) },
                height: try reader.optionalInteger(10).map { Int($0) },
                originalFilename: try reader.optionalText(11))
        }
    }
}
