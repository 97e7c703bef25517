#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Every SQL statement about the blob store's metadata (tables `assets` and `upload_sessions` of migration
/// `0006_blobs`). The bytes are files named by SHA-256 (`Blobs.BlobFileStore`); an asset row is a
/// reference to one, and ``referenceCount(sha256:_:)`` tells when the last one went.
///
/// Like the other stores, methods take the ``Database`` to run on and compose inside one writer job or one
/// read, and enforce no policy (who may overwrite or delete what). Times are unix milliseconds, except
/// `version` (unix seconds, as Cloudinary's).
public struct AssetStore: Sendable {
    public init() {}

    // MARK: Assets

    static let columnNames = [
        "id", "asset_id", "cloud_name", "public_id", "resource_type", "type", "format", "version", "version_id",
        "bytes", "width", "height", "sha256", "etag", "tags", "context", "folder", "original_filename",
        "owner_user_id", "created_at",
    ]
    static let columns = columnNames.joined(separator: ", ")

    /// Inserts a new asset with fresh random `asset_id` and `version_id`. Throws
    /// ``AssetStoreError/publicIDTaken`` if one with the same cloud, resource type, type and public id exists.
    public func insert(_ asset: NewAssetRecord, _ db: Database) throws -> AssetRecord {
        let row = try db.queryOne(
            """
            INSERT INTO assets (asset_id, cloud_name, public_id, resource_type, type, format, version, version_id,
                                bytes, width, height, sha256, etag, tags, context, folder, original_filename,
                                owner_user_id, created_at)
            VALUES (lower(hex(randomblob(16))), ?1, ?2, ?3, ?4, ?5, ?6, lower(hex(randomblob(16))), ?7, ?8, ?9, ?10,
                    ?11, ?12, ?13, ?14, ?15, ?16, ?17)
            ON CONFLICT (cloud_name, resource_type, type, public_id) DO NOTHING
            RETURNING \(Self.columns)
            """, try Self.arguments(asset))
        guard let row else { throw AssetStoreError.publicIDTaken }
        return try Self.decode(row)
    }

    /// Stores `asset`, replacing the asset with the same cloud, resource type, type and public id if there is
    /// one (`overwrite=true`): the replacement keeps the row's `id` and `asset_id` and gets a new `version_id`.
    /// Returns the stored asset and the one it replaced, whose `sha256` may now be unreferenced.
    public func upsert(
        _ asset: NewAssetRecord, _ db: Database
    ) throws -> (asset: AssetRecord, replaced: AssetRecord?) {
        let previous = try find(
            cloudName: asset.cloudName, resourceType: asset.resourceType, type: asset.type, publicID: asset.publicID,
            db)
        guard let previous else { return (try insert(asset, db), nil) }
        let row = try db.queryOne(
            """
            UPDATE assets SET format = ?5, version = ?6, version_id = lower(hex(randomblob(16))), bytes = ?7,
                width = ?8, height = ?9, sha256 = ?10, etag = ?11, tags = ?12, context = ?13, folder = ?14,
                original_filename = ?15, owner_user_id = ?16, created_at = ?17
            WHERE cloud_name = ?1 AND public_id = ?2 AND resource_type = ?3 AND type = ?4
            RETURNING \(Self.columns)
            """, try Self.arguments(asset))
        guard let row else { throw AssetStoreError.corruptRow(table: "assets", column: "id") }
        return (try Self.decode(row), previous)
    }

    /// The asset with this cloud, resource type, type and public id.
    public func find(
        cloudName: String, resourceType: AssetRecord.ResourceType, type: AssetRecord.DeliveryType, publicID: String,
        _ db: Database
    ) throws -> AssetRecord? {
        try db.queryOne(
            """
            SELECT \(Self.columns) FROM assets
            WHERE cloud_name = ?1 AND resource_type = ?2 AND type = ?3 AND public_id = ?4
            """, [.text(cloudName), .text(resourceType.rawValue), .text(type.rawValue), .text(publicID)]
        ).map(Self.decode)
    }

    /// The asset with this `asset_id`.
    public func find(assetID: String, _ db: Database) throws -> AssetRecord? {
        try db.queryOne("SELECT \(Self.columns) FROM assets WHERE asset_id = ?", [.text(assetID)]).map(Self.decode)
    }

    /// The assets of a cloud and type among `publicIDs` (any resource type), in one statement: attachments
    /// name assets by public id only. Ordered by id.
    public func find(
        cloudName: String, type: AssetRecord.DeliveryType, publicIDs: [String], _ db: Database
    ) throws -> [AssetRecord] {
        guard !publicIDs.isEmpty else { return [] }
        return try db.query(
            """
            SELECT \(Self.columns) FROM assets
            WHERE cloud_name = ?1 AND type = ?2 AND public_id IN (SELECT value FROM json_each(?3))
            ORDER BY id
            """, [.text(cloudName), .text(type.rawValue), .text(try Self.json(publicIDs))]
        ).map(Self.decode)
    }

    /// Deletes an asset; returns it (its `sha256` may now be unreferenced), or nil if there was none.
    @discardableResult
    public func delete(
        cloudName: String, resourceType: AssetRecord.ResourceType, type: AssetRecord.DeliveryType, publicID: String,
        _ db: Database
    ) throws -> AssetRecord? {
        try db.queryOne(
            """
            DELETE FROM assets WHERE cloud_name = ?1 AND resource_type = ?2 AND type = ?3 AND public_id = ?4
            RETURNING \(Self.columns)
            """, [.text(cloudName), .text(resourceType.rawValue), .text(type.rawValue), .text(publicID)]
        ).map(Self.decode)
    }

    /// How many assets use the file with this SHA-256; 0 means it can be removed (in the same writer job).
    public func referenceCount(sha256: String, _ db: Database) throws -> Int {
        let row = try db.queryOne("SELECT count(*) FROM assets WHERE sha256 = ?", [.text(sha256)])
        guard let row else { return 0 }
        return Int(try RowReader(row: row, table: "assets", corruptRow: AssetStoreError.corrupt).integer(0))
    }

    /// The sum of `bytes` of a user's assets (quota), 0 for none. Shared files count for each asset.
    public func totalBytes(ownerUserID: Int64, _ db: Database) throws -> Int64 {
        let row = try db.queryOne(
            "SELECT coalesce(sum(bytes), 0) FROM assets WHERE owner_user_id = ?", [.integer(ownerUserID)])
        guard let row else { return 0 }
        return try RowReader(row: row, table: "assets", corruptRow: AssetStoreError.corrupt).integer(0)
    }

    /// A user's assets, newest first, `limit` at most, with ids below `beforeID` (the previous page's last id).
    public func assets(
        ownerUserID: Int64, limit: Int, beforeID: Int64? = nil, _ db: Database
    ) throws -> [AssetRecord] {
        try db.query(
            """
            SELECT \(Self.columns) FROM assets
            WHERE owner_user_id = ?1 AND id < ?2
            ORDER BY id DESC LIMIT ?3
            """, [.integer(ownerUserID), .integer(beforeID ?? Int64.max), .integer(Int64(max(0, limit)))]
        ).map(Self.decode)
    }

    private static func arguments(_ asset: NewAssetRecord) throws -> [DatabaseValue] {
        [
            .text(asset.cloudName), .text(asset.publicID), .text(asset.resourceType.rawValue),
            .text(asset.type.rawValue), .text(asset.format), .integer(asset.version), .integer(asset.bytes),
            DatabaseValue(asset.width.map(Int64.init)), DatabaseValue(asset.height.map(Int64.init)),
            .text(asset.sha256), .text(asset.etag), .text(try json(asset.tags)), .text(try json(asset.context)),
            .text(asset.folder), DatabaseValue(asset.originalFilename), DatabaseValue(asset.ownerUserID),
            .integer(asset.createdAt),
        ]
    }

    static func decode(_ row: Row) throws -> AssetRecord {
        let reader = RowReader(row: row, table: "assets", corruptRow: AssetStoreError.corrupt)
        guard let resourceType = AssetRecord.ResourceType(rawValue: try reader.text(4)) else {
            throw AssetStoreError.corruptRow(table: "assets", column: "resource_type")
        }
        guard let type = AssetRecord.DeliveryType(rawValue: try reader.text(5)) else {
            throw AssetStoreError.corruptRow(table: "assets", column: "type")
        }
        guard let tags = try? JSONDecoder().decode([String].self, from: Data(try reader.text(14).utf8)) else {
            throw AssetStoreError.corruptRow(table: "assets", column: "tags")
        }
        guard let context = try? JSONDecoder().decode([String: String].self, from: Data(try reader.text(15).utf8))
        else { throw AssetStoreError.corruptRow(table: "assets", column: "context") }
        return AssetRecord(
            id: try reader.integer(0), assetID: try reader.text(1), cloudName: try reader.text(2),
            publicID: try reader.text(3), resourceType: resourceType, type: type, format: try reader.text(6),
            version: try reader.integer(7), versionID: try reader.text(8), bytes: try reader.integer(9),
            width: try reader.optionalInteger(10).map { Int($0) },
            height: try reader.optionalInteger(11).map { Int($0) },
            sha256: try reader.text(12), etag: try reader.text(13), tags: tags, context: context,
            folder: try reader.text(16), originalFilename: try reader.optionalText(17),
            ownerUserID: try reader.optionalInteger(18), createdAt: try reader.integer(19))
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    // MARK: Upload sessions

    static let sessionColumns = """
        cloud_name, upload_id, resource_type, type, public_id, total_bytes, next_offset, temp_path, owner_user_id,
        created_at, updated_at, expires_at
        """

    /// Starts a chunked upload. Returns false (and stores nothing) if a session with this cloud and upload id
    /// exists: two first chunks raced, and the loser must re-read the session.
    @discardableResult
    public func insertUploadSession(_ session: UploadSessionRecord, _ db: Database) throws -> Bool {
        let row = try db.queryOne(
            """
            INSERT INTO upload_sessions (\(Self.sessionColumns))
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
            ON CONFLICT (cloud_name, upload_id) DO NOTHING
            RETURNING 1
            """,
            [
                .text(session.cloudName), .text(session.uploadID), .text(session.resourceType),
                .text(session.type.rawValue), .text(session.publicID), .integer(session.totalBytes),
                .integer(session.nextOffset), .text(session.tempPath), DatabaseValue(session.ownerUserID),
                .integer(session.createdAt), .integer(session.updatedAt), .integer(session.expiresAt),
            ])
        return row != nil
    }

    public func uploadSession(cloudName: String, uploadID: String, _ db: Database) throws -> UploadSessionRecord? {
        try db.queryOne(
            "SELECT \(Self.sessionColumns) FROM upload_sessions WHERE cloud_name = ?1 AND upload_id = ?2",
            [.text(cloudName), .text(uploadID)]
        ).map(Self.decodeSession)
    }

    /// Gives a session its public id once (at its first chunk, whose fields name or imply it); returns the id
    /// the session has afterwards.
    public func claimUploadSessionPublicID(
        cloudName: String, uploadID: String, publicID: String, _ db: Database
    ) throws -> String? {
        try db.run(
            "UPDATE upload_sessions SET public_id = ?3 WHERE cloud_name = ?1 AND upload_id = ?2 AND public_id = ''",
            [.text(cloudName), .text(uploadID), .text(publicID)])
        return try uploadSession(cloudName: cloudName, uploadID: uploadID, db)?.publicID
    }

    /// Moves a session from `from` to `to` bytes received and pushes its expiry, only if it is still at
    /// `from` (compare-and-set: of two requests carrying the same chunk, one wins). Returns whether it moved.
    @discardableResult
    public func advanceUploadSession(
        cloudName: String, uploadID: String, from: Int64, to: Int64, now: Int64, expiresAt: Int64, _ db: Database
    ) throws -> Bool {
        try db.run(
            """
            UPDATE upload_sessions SET next_offset = ?4, updated_at = ?5, expires_at = ?6
            WHERE cloud_name = ?1 AND upload_id = ?2 AND next_offset = ?3
            """,
            [.text(cloudName), .text(uploadID), .integer(from), .integer(to), .integer(now), .integer(expiresAt)])
            == 1
    }

    /// Ends a session (completed or abandoned); returns it, or nil if there was none.
    @discardableResult
    public func deleteUploadSession(cloudName: String, uploadID: String, _ db: Database) throws -> UploadSessionRecord?
    {
        try db.queryOne(
            """
            DELETE FROM upload_sessions WHERE cloud_name = ?1 AND upload_id = ?2
            RETURNING \(Self.sessionColumns)
            """, [.text(cloudName), .text(uploadID)]
        ).map(Self.decodeSession)
    }

    /// Deletes the sessions that expired at or before `now` and returns them, so that their partial files can
    /// be removed.
    public func deleteExpiredUploadSessions(now: Int64, _ db: Database) throws -> [UploadSessionRecord] {
        try db.query(
            "DELETE FROM upload_sessions WHERE expires_at <= ?1 RETURNING \(Self.sessionColumns)", [.integer(now)]
        ).map(Self.decodeSession)
    }

    static func decodeSession(_ row: Row) throws -> UploadSessionRecord {
        let reader = RowReader(row: row, table: "upload_sessions", corruptRow: AssetStoreError.corrupt)
        guard let type = AssetRecord.DeliveryType(rawValue: try reader.text(3)) else {
            throw AssetStoreError.corruptRow(table: "upload_sessions", column: "type")
        }
        return UploadSessionRecord(
            cloudName: try reader.text(0), uploadID: try reader.text(1), resourceType: try reader.text(2), type: type,
            publicID: try reader.text(4), totalBytes: try reader.integer(5), nextOffset: try reader.integer(6),
            tempPath: try reader.text(7), ownerUserID: try reader.optionalInteger(8), createdAt: try reader.integer(9),
            updatedAt: try reader.integer(10), expiresAt: try reader.integer(11))
    }
}
