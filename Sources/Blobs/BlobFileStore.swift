import Glibc
import SystemSupport

/// A blob written to a temporary file, fsynced and hashed, not yet visible under its hash.
public struct StagedBlob: Sendable, Equatable {
    /// The temporary file, inside the store's `tmp/` directory.
    public var temporaryPath: String
    /// Lowercase hex SHA-256 of the bytes (64 characters): the blob's name in the store.
    public var sha256: String
    /// Lowercase hex MD5 of the bytes (32 characters): Cloudinary's `etag`.
    public var md5: String
    public var byteCount: Int64
    /// The first bytes (up to ``BlobWriter/sniffPrefixLength``), for ``FormatSniffer``.
    public var head: [UInt8]
}

/// Errors of the blob store besides the system calls' (`SystemError`).
public enum BlobStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// More bytes than the writer's limit were written; the temporary file is already removed.
    case tooLarge(limit: Int64)
    /// The writer was used after `finish()` or `abort()`.
    case writerClosed
    /// A chunked upload's partial file is not as long as the session says it is.
    case partialFileMismatch(expected: Int64, actual: Int64)
    /// An upload id that cannot name a partial file.
    case invalidUploadID
    /// A staged blob whose `sha256` is not 64 lowercase hex digits.
    case invalidSHA256

    public var description: String {
        switch self {
        case .tooLarge(let limit): return "the file is larger than the limit of \(limit) bytes"
        case .writerClosed: return "the blob writer is already closed"
        case .partialFileMismatch(let expected, let actual):
            return "the partial upload file has \(actual) bytes, expected \(expected)"
        case .invalidUploadID: return "invalid upload id"
        case .invalidSHA256: return "invalid SHA-256"
        }
    }
}

/// The bytes of all blobs, on local disk under `<data>/blobs/`, content-addressed: a blob is the file
/// `<root>/ab/cd/<sha256 hex>` named by the SHA-256 of its bytes, so the same bytes uploaded twice (or under
/// two public ids) are one file. Metadata (public ids, references) is in SQLite (`AssetStore`).
///
/// Writes never expose a half-written file: bytes stream into `<root>/tmp/` (``BlobWriter``), are fsynced,
/// and a rename (atomic within one file system) moves them into place, followed by an fsync of the
/// directory so the rename itself survives a crash. Temporary files left by a crash are swept at start
/// (``sweepTemporaryFiles(olderThan:now:)``).
///
/// Every method does blocking file I/O: call them on a worker pool (`SystemSupport.WorkerPool`), never on
/// an event loop.
///
/// ## Publishing and removing without losing a referenced file
/// A file is removed when its last reference (asset row) goes. A concurrent upload of the same bytes could
/// find the file present, and then see it removed before its own row is inserted. To exclude that,
/// ``publish(_:)`` and ``remove(sha256:)`` must run in the database writer's jobs: `publish` in the job that
/// inserts the asset row referencing the hash, `remove` in the job that deleted the last reference and saw
/// `AssetStore.referenceCount(sha256:)` reach 0. The writer's serial order then makes each pair atomic. Both
/// are short (a rename, an unlink and directory fsyncs); the heavy part, ``BlobWriter/finish()`` with its
/// fsync of the data, runs before, on the worker pool.
public struct BlobFileStore: Sendable {
    /// `<data>/blobs`.
    public let root: String

    /// `<root>/tmp`: uploads in progress and partial chunked uploads.
    public var temporaryDirectory: String { root + "/tmp" }

    /// The store under `<dataDirectory>/blobs`, creating the directories (mode 0700) if needed.
    public init(dataDirectory: String) throws {
        try self.init(root: dataDirectory + "/blobs")
    }

    /// The store at `root`, creating it and `root/tmp` (mode 0700) if needed.
    public init(root: String) throws {
        self.root = root
        try FileIO.makeDirectory(root)
        try FileIO.makeDirectory(root + "/tmp")
    }

    // MARK: Paths

    /// Whether `text` is a SHA-256 as this store names blobs: 64 lowercase hex digits.
    public static func isValidSHA256(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 64
            && text.utf8.allSatisfy {
                ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                    || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f"))
            }
    }

    /// `<root>/ab/cd/<sha256>`; nil unless `sha256` is 64 lowercase hex digits (never a path from input).
    public func path(sha256: String) -> String? {
        guard Self.isValidSHA256(sha256) else { return nil }
        return directory(sha256: sha256) + "/" + sha256
    }

    private func directory(sha256: String) -> String {
        let bytes = Array(sha256.utf8)
        return root + "/" + String(decoding: bytes[0..<2], as: UTF8.self) + "/"
            + String(decoding: bytes[2..<4], as: UTF8.self)
    }

    /// Whether the blob's file exists.
    public func contains(sha256: String) -> Bool {
        guard let path = path(sha256: sha256) else { return false }
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    // MARK: Writing

    /// A writer streaming into a new temporary file. `limit`: the most bytes it accepts
    /// (``BlobStoreError/tooLarge(limit:)`` beyond, with the file removed).
    public func makeWriter(limit: Int64? = nil) throws -> BlobWriter {
        try BlobWriter(directory: temporaryDirectory, limit: limit)
    }

    /// Moves a staged blob into place under its hash and fsyncs the directories it changed. If the blob is
    /// already stored (same bytes), the staged file is removed instead and `false` returned; `true` when
    /// this call stored it. See the type's notes on running this in the writer job.
    @discardableResult
    public func publish(_ staged: StagedBlob) throws -> Bool {
        guard let destination = path(sha256: staged.sha256) else { throw BlobStoreError.invalidSHA256 }
        if contains(sha256: staged.sha256) {
            FileIO.unlinkIgnoringMissing(staged.temporaryPath)
            return false
        }
        let directory = directory(sha256: staged.sha256)
        let createdParent = try FileIO.makeDirectory(String(directory.dropLast(3)))
        let createdDirectory = try FileIO.makeDirectory(directory)
        try FileIO.check("rename") { rename(staged.temporaryPath, destination) }
        try FileIO.fsyncDirectory(directory)
        if createdDirectory { try FileIO.fsyncDirectory(String(directory.dropLast(3))) }
        if createdParent { try FileIO.fsyncDirectory(root) }
        return true
    }

    /// Removes a staged blob's temporary file (an upload that failed after staging).
    public func discard(_ staged: StagedBlob) {
        FileIO.unlinkIgnoringMissing(staged.temporaryPath)
    }

    /// Removes a blob's file, when its last reference is gone. Returns whether there was one. Empty fan-out
    /// directories are left in place (at most 65,536 of them).
    @discardableResult
    public func remove(sha256: String) throws -> Bool {
        guard let path = path(sha256: sha256) else { return false }
        if unlink(path) == 0 {
            try FileIO.fsyncDirectory(directory(sha256: sha256))
            return true
        }
        let error = errno
        if error == ENOENT { return false }
        throw SystemError("unlink", errno: error)
    }

    // MARK: Chunked uploads

    /// The partial file of a chunked upload: `<root>/tmp/chunked-<uploadID>`. The id must be 1 to 64 of
    /// `A-Z a-z 0-9 - _` (the SDK sends 16 of `a-z0-9`).
    public func partialPath(uploadID: String) throws -> String {
        guard ChunkedUpload.isValidUploadID(uploadID) else { throw BlobStoreError.invalidUploadID }
        return temporaryDirectory + "/chunked-" + uploadID
    }

    /// Opens the partial file of a chunked upload to append the chunk starting at `offset` (created for
    /// offset 0). The file must hold at least `offset` bytes; anything past it (a chunk whose request failed
    /// half-way) is cut off first.
    public func openChunk(uploadID: String, offset: Int64, limit: Int64? = nil) throws -> ChunkWriter {
        try ChunkWriter(path: partialPath(uploadID: uploadID), offset: offset, limit: limit)
    }

    /// Removes a chunked upload's partial file (abandoned or expired upload).
    public func removePartial(uploadID: String) {
        guard let path = try? partialPath(uploadID: uploadID) else { return }
        FileIO.unlinkIgnoringMissing(path)
    }

    /// Stages a complete partial file: reads it once to hash it (SHA-256 and MD5), fsyncs it, and returns it
    /// ready for ``publish(_:)``. `expectedBytes`: the upload's total, checked against the file.
    public func stagePartial(uploadID: String, expectedBytes: Int64) throws -> StagedBlob {
        let path = try partialPath(uploadID: uploadID)
        let descriptor = try FileIO.check("open") { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(descriptor) }
        let hasher = BlobHasher()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try FileIO.check("read") { Glibc.read(descriptor, buffer.baseAddress, buffer.count) }
            if count == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        guard hasher.byteCount == expectedBytes else {
            throw BlobStoreError.partialFileMismatch(expected: expectedBytes, actual: hasher.byteCount)
        }
        try FileIO.check("fsync") { fsync(descriptor) }
        return hasher.finish(temporaryPath: path)
    }

    // MARK: Sweeping

    /// Removes temporary files (`<root>/tmp/*`) last modified more than `seconds` ago: uploads cut off by a
    /// crash, and partial chunked uploads nobody finished. Run at start (before accepting uploads) or
    /// periodically with a bound well above the chunked-upload expiry. Returns how many were removed.
    @discardableResult
    public func sweepTemporaryFiles(olderThan seconds: Int64, now: Int64) throws -> Int {
        guard let directory = opendir(temporaryDirectory) else { throw SystemError("opendir") }
        defer { closedir(directory) }
        var removed = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let path = temporaryDirectory + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            if Int64(info.st_mtim.tv_sec) < now - seconds, unlink(path) == 0 {
                removed += 1
            }
        }
        return removed
    }
}

/// SHA-256, MD5, the byte count and the first bytes of a stream, as ``BlobWriter`` and chunked uploads need.
///
/// Not thread-safe. `@unchecked Sendable` only so that ``BlobWriter`` can keep one inside its `Mutex`: every
/// use is under that lock (or, in `stagePartial`, local to one call).
final class BlobHasher: @unchecked Sendable {
    private let sha256 = StreamingDigest(.sha256)
    private let md5 = StreamingDigest(.md5)
    private(set) var byteCount: Int64 = 0
    private(set) var head: [UInt8] = []

    func update(_ bytes: UnsafeRawBufferPointer) {
        sha256.update(bytes)
        md5.update(bytes)
        byteCount += Int64(bytes.count)
        if head.count < BlobWriter.sniffPrefixLength {
            head.append(contentsOf: bytes.prefix(BlobWriter.sniffPrefixLength - head.count))
        }
    }

    func finish(temporaryPath: String) -> StagedBlob {
        StagedBlob(
            temporaryPath: temporaryPath, sha256: CloudinarySignature.hex(sha256.finish()),
            md5: CloudinarySignature.hex(md5.finish()), byteCount: byteCount, head: head)
    }
}

/// Small wrappers over the system calls the store uses.
enum FileIO {
    /// Runs a system call, retrying on EINTR; -1 becomes a `SystemError` naming the call.
    @discardableResult
    static func check<T: BinaryInteger>(_ call: String, _ body: () -> T) throws -> T {
        try retryingInterrupts(call, body)
    }

    /// Creates a directory with mode 0700; returns whether it was created (false: it existed).
    @discardableResult
    static func makeDirectory(_ path: String) throws -> Bool {
        if mkdir(path, 0o700) == 0 { return true }
        let error = errno
        guard error == EEXIST else { throw SystemError("mkdir \(path)", errno: error) }
        return false
    }

    static func fsyncDirectory(_ path: String) throws {
        let descriptor = try check("open \(path)") { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(descriptor) }
        try check("fsync \(path)") { fsync(descriptor) }
    }

    static func unlinkIgnoringMissing(_ path: String) {
        _ = unlink(path)
    }

    /// Writes all of `bytes` to `descriptor`, continuing after short writes.
    static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            guard let base = bytes.baseAddress else { return }
            let written = try check("write") { write(descriptor, base + offset, bytes.count - offset) }
            offset += written
        }
    }
}
