import Glibc
import Synchronization
import SystemSupport

/// Streams one upload into a temporary file of the ``BlobFileStore`` while hashing it (SHA-256 for its name,
/// MD5 for Cloudinary's `etag`), counting its bytes and keeping its first 64 KiB for ``FormatSniffer``. Memory
/// use is independent of the upload's size.
///
/// ``finish()`` fsyncs and closes the file and returns a ``StagedBlob`` for ``BlobFileStore/publish(_:)``;
/// ``abort()`` removes it. A writer released without either removes its file too. All calls do blocking
/// I/O (run them on a worker pool); they are serialized by a lock, so the writer may move between threads.
public final class BlobWriter: Sendable {
    /// How many leading bytes are kept for sniffing.
    public static let sniffPrefixLength = 64 * 1024

    private struct State {
        var descriptor: Int32
        var hasher: BlobHasher?
    }

    /// The temporary file.
    public let temporaryPath: String
    public let limit: Int64?
    // BlobHasher is a class used only under this lock.
    private let state: Mutex<State>

    init(directory: String, limit: Int64?) throws {
        var path = ""
        var descriptor: Int32 = -1
        // A random name: O_EXCL makes a collision an error, retried with another name.
        for _ in 0..<8 {
            path = directory + "/upload-" + PublicID.randomCharacters(20)
            descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if descriptor >= 0 || errno != EEXIST { break }
        }
        guard descriptor >= 0 else { throw SystemError("open \(path)") }
        temporaryPath = path
        self.limit = limit
        state = Mutex(State(descriptor: descriptor, hasher: BlobHasher()))
    }

    deinit {
        abort()
    }

    /// Bytes written so far.
    public var byteCount: Int64 {
        state.withLock { $0.hasher?.byteCount ?? 0 }
    }

    /// Appends `bytes`. Past the limit, removes the file and throws ``BlobStoreError/tooLarge(limit:)``.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try state.withLock { state in
            guard let hasher = state.hasher else { throw BlobStoreError.writerClosed }
            if let limit, hasher.byteCount + Int64(bytes.count) > limit {
                Self.close(&state, removing: temporaryPath)
                throw BlobStoreError.tooLarge(limit: limit)
            }
            do {
                try FileIO.writeAll(state.descriptor, bytes)
            } catch {
                Self.close(&state, removing: temporaryPath)
                throw error
            }
            hasher.update(bytes)
        }
    }

    /// Appends `bytes` (an array, a slice, `Data`…).
    public func write(_ bytes: some Collection<UInt8>) throws {
        if let done: Void = try bytes.withContiguousStorageIfAvailable({ try write(UnsafeRawBufferPointer($0)) }) {
            return done
        }
        try Array(bytes).withUnsafeBytes { try write($0) }
    }

    /// Fsyncs and closes the file; the result names it, with its digests and first bytes.
    public func finish() throws -> StagedBlob {
        try state.withLock { state in
            guard let hasher = state.hasher else { throw BlobStoreError.writerClosed }
            do {
                try FileIO.check("fsync") { fsync(state.descriptor) }
            } catch {
                Self.close(&state, removing: temporaryPath)
                throw error
            }
            Glibc.close(state.descriptor)
            state.descriptor = -1
            state.hasher = nil
            return hasher.finish(temporaryPath: temporaryPath)
        }
    }

    /// Closes and removes the file, unless ``finish()`` already handed it over. Safe to call repeatedly.
    public func abort() {
        state.withLock { state in
            if state.hasher != nil { Self.close(&state, removing: temporaryPath) }
        }
    }

    private static func close(_ state: inout State, removing path: String) {
        if state.descriptor >= 0 { Glibc.close(state.descriptor) }
        state.descriptor = -1
        state.hasher = nil
        FileIO.unlinkIgnoringMissing(path)
    }
}

/// Appends one chunk of a chunked upload to its partial file (``BlobFileStore/openChunk(uploadID:offset:limit:)``).
/// Nothing is hashed here: the complete file is hashed once by ``BlobFileStore/stagePartial(uploadID:expectedBytes:)``,
/// so nothing has to survive between requests but the file and the session row.
///
/// Call ``finish()`` (fsync, so the session row may then advance) or ``abort()`` (truncate back to where the
/// chunk started, keeping the earlier chunks). Blocking I/O; serialized by a lock.
public final class ChunkWriter: Sendable {
    public let path: String
    /// Where this chunk starts in the file.
    public let offset: Int64
    /// The most bytes this chunk may add.
    public let limit: Int64?
    private let state: Mutex<(descriptor: Int32, written: Int64)>

    init(path: String, offset: Int64, limit: Int64?) throws {
        let flags = O_WRONLY | O_CLOEXEC | (offset == 0 ? O_CREAT : 0)
        let descriptor = try FileIO.check("open \(path)") { open(path, flags, 0o600) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let error = SystemError("fstat")
            Glibc.close(descriptor)
            throw error
        }
        let size = Int64(info.st_size)
        do {
            guard size >= offset else { throw BlobStoreError.partialFileMismatch(expected: offset, actual: size) }
            if size > offset { try FileIO.check("ftruncate") { ftruncate(descriptor, off_t(offset)) } }
            try FileIO.check("lseek") { lseek(descriptor, off_t(offset), SEEK_SET) }
        } catch {
            Glibc.close(descriptor)
            throw error
        }
        self.path = path
        self.offset = offset
        self.limit = limit
        state = Mutex((descriptor, 0))
    }

    deinit {
        abort()
    }

    /// Bytes of this chunk written so far.
    public var byteCount: Int64 { state.withLock { $0.written } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try state.withLock { state in
            guard state.descriptor >= 0 else { throw BlobStoreError.writerClosed }
            if let limit, state.written + Int64(bytes.count) > limit {
                Self.truncateAndClose(&state, to: offset)
                throw BlobStoreError.tooLarge(limit: limit)
            }
            try FileIO.writeAll(state.descriptor, bytes)
            state.written += Int64(bytes.count)
        }
    }

    public func write(_ bytes: some Collection<UInt8>) throws {
        if let done: Void = try bytes.withContiguousStorageIfAvailable({ try write(UnsafeRawBufferPointer($0)) }) {
            return done
        }
        try Array(bytes).withUnsafeBytes { try write($0) }
    }

    /// Fsyncs and closes; returns the bytes this chunk added.
    @discardableResult
    public func finish() throws -> Int64 {
        try state.withLock { state in
            guard state.descriptor >= 0 else { throw BlobStoreError.writerClosed }
            defer {
                Glibc.close(state.descriptor)
                state.descriptor = -1
            }
            try FileIO.check("fsync") { fsync(state.descriptor) }
            return state.written
        }
    }

    /// Cuts the file back to where this chunk started and closes it. Safe to call repeatedly.
    public func abort() {
        state.withLock { state in
            if state.descriptor >= 0 { Self.truncateAndClose(&state, to: offset) }
        }
    }

    private static func truncateAndClose(_ state: inout (descriptor: Int32, written: Int64), to offset: Int64) {
        _ = ftruncate(state.descriptor, off_t(offset))
        Glibc.close(state.descriptor)
        state.descriptor = -1
    }
}
