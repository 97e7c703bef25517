import Logging
import Storage
import SystemSupport

/// What an upload asks for, from its parameters (Cloudinary's names in the comments).
public struct UploadOptions: Sendable {
    /// The path's `resource_type`: `image`, `video`, `raw` or `auto`.
    public var resourceType: String
    public var publicID: String?
    public var folder: String?
    /// `use_filename`, `unique_filename`.
    public var useFilename = false
    public var uniqueFilename = true
    public var overwrite = true
    public var tags: [String] = []
    /// `type`: `upload` (public) or `authenticated` (signed URLs only).
    public var type: AssetRecord.DeliveryType = .upload
    public var context: [String: String] = [:]
    /// `format`: accepted when it names the format the bytes have; conversions are not done.
    public var format: String?
    /// The file part's name, for `use_filename` and `original_filename`.
    public var filename: String?
    /// The chat user who uploads through the chat API (quota, ownership); nil for the Upload API.
    public var ownerUserID: Int64?

    public init(resourceType: String) {
        self.resourceType = resourceType
    }
}

/// The result of an upload: the asset, and whether it replaced one or found one it must not replace.
public struct StoredAsset: Sendable, Equatable {
    public var asset: AssetRecord
    /// `overwrite=false` found an asset with that public id; it was left as it was and returned.
    public var existing: Bool
    /// The upload replaced an asset with the same public id.
    public var overwritten: Bool
}

/// The blob store behind the Cloudinary-compatible routes: checks credentials, turns staged files into assets
/// (format from the bytes, limits, public id rules, overwrite), deletes them, and finds them for delivery.
///
/// **Files and rows together.** A staged file is published (renamed into the content-addressed store) inside
/// the writer job that inserts its row, and a file is removed inside the job that deleted its last row: so a
/// concurrent upload of the same bytes can never end up pointing at a removed file. Those renames and fsyncs
/// run on the writer thread, never on an event loop.
public final class BlobService: Sendable {
    public let credentials: BlobCredentials
    public let policy: BlobPolicy
    public let files: BlobFileStore
    let writer: DatabaseWriter
    let readers: DatabaseReaderPool
    let store = AssetStore()
    let logger = Logger("blobs")
    /// Unix milliseconds.
    /// Unix milliseconds.
    public let clock: @Sendable () -> Int64

    public init(
        credentials: BlobCredentials, policy: BlobPolicy, files: BlobFileStore, writer: DatabaseWriter,
        readers: DatabaseReaderPool, clock: @escaping @Sendable () -> Int64
    ) {
        self.credentials = credentials
        self.policy = policy
        self.files = files
        self.writer = writer
        self.readers = readers
        self.clock = clock
    }

    // MARK: Credentials

    /// Checks who may make an Upload API request with these (non-file) fields: a signature over them
    /// (`api_key`, `timestamp`, `signature`), HTTP Basic `api_key:api_secret`, or neither with an unsigned
    /// preset. Returns the preset the request names, if any.
    public func authorize(fields: [(name: String, value: String)], basic: (key: String, secret: String)?)
        throws(BlobError) -> UploadPreset?
    {
        let values = Dictionary(fields.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
        var preset: UploadPreset?
        if let name = values["upload_preset"], !name.isEmpty {
            guard let found = policy.presets[name] else { throw .badRequest("Upload preset \(name) not found") }
            preset = found
        }
        if let basic {
            guard credentials.matches(apiKey: basic.key, apiSecret: basic.secret) else {
                throw .unauthorized("Invalid credentials")
            }
            return preset
        }
        guard let signature = values["signature"], !signature.isEmpty else {
            if let preset, preset.unsigned { return preset }
            throw .unauthorized(
                preset == nil ? "Must supply api_key" : "Upload preset must be whitelisted for unsigned uploads")
        }
        guard let key = values["api_key"], !key.isEmpty else { throw .unauthorized("Must supply api_key") }
        guard key == credentials.apiKey else { throw .unauthorized("Unknown API key \(key.prefix(64))") }
        guard let stamp = values["timestamp"].flatMap({ Int64($0) }) else {
            throw .unauthorized("Missing required parameter - timestamp")
        }
        let now = clock() / 1000
        guard now - stamp <= policy.maxTimestampAge else {
            throw .unauthorized(
                "Stale request - reported time is \(stamp) which is more than \(policy.maxTimestampAge / 60) minutes ago"
            )
        }
        let toSign = CloudinarySignature.stringToSign(fields: fields)
        guard CloudinarySignature.isValid(signature: signature, stringToSign: toSign, secret: credentials.apiSecret)
        else {
            throw .unauthorized("Invalid Signature \(signature.prefix(64)). String to sign - '\(toSign)'.")
        }
        return preset
    }

    // MARK: Uploading

    /// Most bytes an upload to `resourceType` may carry before its format is known.
    public func byteLimit(resourceType: String, preset: UploadPreset?) -> Int64 {
        policy.maxBytes(for: resourceType, preset: preset)
    }

    /// A writer for an upload's bytes (a temp file under the store). Blocking: call on a worker thread.
    public func makeWriter(limit: Int64) throws(BlobError) -> BlobWriter {
        do {
            return try files.makeWriter(limit: limit)
        } catch {
            logger.error("cannot stage an upload", ["error": "\(error)"])
            throw .unavailable("Could not store the file")
        }
    }

    /// Turns a staged file into an asset (or finds the one `overwrite=false` keeps) and returns it. The staged
    /// file is published or discarded either way.
    ///
    /// Errors: ``BlobError/badRequest(_:)`` for bytes that are not what `resource_type` says ("Invalid image
    /// file"), a format the preset does not allow, a bad public id or folder; ``BlobError/tooLarge(_:)`` past a
    /// size limit or the owner's quota.
    public func store(_ staged: StagedBlob, options: UploadOptions, preset: UploadPreset?) async throws(BlobError)
        -> StoredAsset
    {
        let prepared: NewAssetRecord
        do {
            prepared = try prepare(staged, options: options, preset: preset)
        } catch {
            files.discard(staged)
            throw error
        }
        let quota = policy.userQuota
        let overwrite = options.overwrite
        let files = self.files
        return try await write { [store] db in
            if !overwrite,
                let found = try store.find(
                    cloudName: prepared.cloudName, resourceType: prepared.resourceType, type: prepared.type,
                    publicID: prepared.publicID, db)
            {
                files.discard(staged)
                return StoredAsset(asset: found, existing: true, overwritten: false)
            }
            if let owner = prepared.ownerUserID, try store.totalBytes(ownerUserID: owner, db) + prepared.bytes > quota {
                files.discard(staged)
                throw BlobError.tooLarge("Storage quota exceeded: you may store \(quota) bytes")
            }
            var record = prepared
            if let previous = try store.find(
                cloudName: record.cloudName, resourceType: record.resourceType, type: record.type,
                publicID: record.publicID, db), record.version <= previous.version
            {
                // A replacement gets a new version even within the same second: versioned URLs are served as
                // immutable, so the old one must keep meaning the old bytes.
                record.version = previous.version + 1
            }
            let (asset, replaced) = try store.upsert(record, db)
            _ = try files.publish(staged)
            if let replaced { try Self.removeUnreferenced(replaced.sha256, store: store, files: files, db) }
            return StoredAsset(asset: asset, existing: false, overwritten: replaced != nil)
        }
    }

    private func prepare(_ staged: StagedBlob, options: UploadOptions, preset: UploadPreset?) throws(BlobError)
        -> NewAssetRecord
    {
        let sniffed = FormatSniffer.sniff(staged.head)
        let resourceType: ResourceType
        switch options.resourceType {
        case "image":
            guard let sniffed, sniffed.resourceType == .image else { throw .badRequest("Invalid image file") }
            resourceType = .image
        case "video":
            guard let sniffed, sniffed.resourceType == .video else { throw .badRequest("Invalid video file") }
            resourceType = .video
        case "raw": resourceType = .raw
        case "auto": resourceType = sniffed?.resourceType ?? .raw
        default: throw .badRequest("Invalid resource type \(options.resourceType.prefix(32))")
        }
        let format: String
        if resourceType == .raw {
            format = options.filename.flatMap(PublicID.fileExtension) ?? ""
        } else {
            format = sniffed?.format ?? ""
            if let requested = options.format?.lowercased(), !requested.isEmpty, requested != format,
                !(requested == "jpeg" && format == "jpg")
            {
                throw .badRequest("Format conversion (\(format) to \(requested.prefix(16))) is not supported")
            }
        }
        if let allowed = preset?.formats, !allowed.contains(format) {
            throw .badRequest("\(format.isEmpty ? "This file" : format) is not an allowed format")
        }
        let limit = policy.maxBytes(for: resourceType.rawValue, preset: preset)
        guard staged.byteCount <= limit else {
            throw .tooLarge("File size too large. Got \(staged.byteCount). Maximum is \(limit).")
        }
        let publicID: String
        let folder = options.folder ?? preset?.folder
        do {
            publicID = try PublicID.make(
                publicID: options.publicID, folder: folder, useFilename: options.useFilename,
                uniqueFilename: options.uniqueFilename, filename: options.filename, resourceType: resourceType)
        } catch {
            throw .badRequest(error.description)
        }
        let type = options.type
        let now = clock()
        return NewAssetRecord(
            cloudName: credentials.cloudName, publicID: publicID,
            resourceType: AssetRecord.ResourceType(rawValue: resourceType.rawValue) ?? .raw, type: type,
            format: format, version: now / 1000, bytes: staged.byteCount, width: sniffed?.width,
            height: sniffed?.height, sha256: staged.sha256, etag: staged.md5,
            tags: options.tags + (preset?.tags ?? []), context: options.context,
            folder: publicID.contains("/")
                ? String(publicID[..<(publicID.lastIndex(of: "/") ?? publicID.endIndex)]) : "",
            // Cloudinary names a file that came without a name (a data URI) "file".
            originalFilename: options.filename.map { PublicID.originalFilename($0) ?? "file" } ?? "file",
            ownerUserID: options.ownerUserID,
            createdAt: now)
    }

    // MARK: Destroying and finding

    /// Deletes an asset (and its file when no other asset has the same bytes); false if there was none.
    public func destroy(resourceType: AssetRecord.ResourceType, type: AssetRecord.DeliveryType, publicID: String)
        async throws(BlobError) -> Bool
    {
        let cloud = credentials.cloudName
        let files = self.files
        return try await write { [store] db in
            guard
                let deleted = try store.delete(
                    cloudName: cloud, resourceType: resourceType, type: type, publicID: publicID, db)
            else { return false }
            try Self.removeUnreferenced(deleted.sha256, store: store, files: files, db)
            return true
        }
    }

    /// The asset a delivery URL names, or nil.
    public func asset(resourceType: AssetRecord.ResourceType, type: AssetRecord.DeliveryType, publicID: String)
        async throws(BlobError) -> AssetRecord?
    {
        let cloud = credentials.cloudName
        return try await read { [store] db in
            try store.find(cloudName: cloud, resourceType: resourceType, type: type, publicID: publicID, db)
        }
    }

    /// The caller's own uploads among `publicIDs` (message attachments, avatars), by public id.
    public func ownedAssets(publicIDs: [String], ownerUserID: Int64) async throws(BlobError) -> [String: AssetRecord] {
        let cloud = credentials.cloudName
        let found = try await read { [store] db in
            try store.find(cloudName: cloud, type: .authenticated, publicIDs: publicIDs, db)
                + store.find(cloudName: cloud, type: .upload, publicIDs: publicIDs, db)
        }
        var owned: [String: AssetRecord] = [:]
        for asset in found where asset.ownerUserID == ownerUserID {
            owned[asset.publicID] = asset
        }
        return owned
    }

    /// Makes one of the user's uploads public (`type=upload`, e.g. an avatar): a public asset with the same public
    /// id and bytes, created or replaced; the private one stays. Returns the public asset.
    public func makePublic(_ asset: AssetRecord) async throws(BlobError) -> AssetRecord {
        let now = clock()
        let copy = NewAssetRecord(
            cloudName: asset.cloudName, publicID: asset.publicID, resourceType: asset.resourceType, type: .upload,
            format: asset.format, version: max(now / 1000, asset.version), bytes: asset.bytes, width: asset.width,
            height: asset.height, sha256: asset.sha256, etag: asset.etag, tags: asset.tags, context: asset.context,
            folder: asset.folder, originalFilename: asset.originalFilename, ownerUserID: asset.ownerUserID,
            createdAt: now)
        let files = self.files
        return try await write { [store] db in
            var record = copy
            if let previous = try store.find(
                cloudName: copy.cloudName, resourceType: copy.resourceType, type: .upload, publicID: copy.publicID, db)
            {
                if previous.sha256 == copy.sha256 { return previous }
                record.version = max(record.version, previous.version + 1)
            }
            let (stored, replaced) = try store.upsert(record, db)
            if let replaced { try Self.removeUnreferenced(replaced.sha256, store: store, files: files, db) }
            return stored
        }
    }

    /// Removes the file with `sha256` once no asset refers to it: inside the writer job that dropped the last
    /// reference, so a concurrent upload of the same bytes either sees the row or finds the file gone.
    static func removeUnreferenced(_ sha256: String, store: AssetStore, files: BlobFileStore, _ db: Database) throws {
        if try store.referenceCount(sha256: sha256, db) == 0 { _ = try files.remove(sha256: sha256) }
    }

    /// Where an asset's bytes are on disk.
    public func path(of asset: AssetRecord) -> String? {
        files.path(sha256: asset.sha256)
    }

    // MARK: Database access

    func write<T: Sendable>(_ job: @escaping @Sendable (Database) throws -> T) async throws(BlobError) -> T {
        do {
            return try await writer.write(job)
        } catch {
            throw map(error)
        }
    }

    func read<T: Sendable>(_ job: @escaping @Sendable (Database) throws -> T) async throws(BlobError) -> T {
        do {
            return try await readers.read(job)
        } catch {
            throw map(error)
        }
    }

    private func map(_ error: any Error) -> BlobError {
        if let error = error as? BlobError { return error }
        logger.error("blob storage failed", ["error": "\(error)"])
        return .unavailable("The file could not be stored; try again")
    }
}
