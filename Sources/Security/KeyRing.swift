import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why the key directory could not be loaded or changed.
public enum KeyRingError: Error, Sendable, Equatable {
    /// A system call failed (`errno` kept for the log).
    case io(operation: String, path: String, errno: Int32)
    /// The directory or a key file is accessible to group/others or owned by another user: private
    /// keys must be readable by the server user alone.
    case insecurePermissions(path: String)
    /// keys.json is not valid metadata, or a key file does not match its kid.
    case corrupt(String)
    /// keys.json lists a key whose file is missing.
    case missingKeyFile(kid: String)
    /// No non-retired key exists and generation was not allowed.
    case noActiveKey
    /// A key failed to generate or parse.
    case key(CryptoError)
}

/// Public facts about one key in a ``KeyRing``.
public struct KeyInfo: Sendable, Equatable {
    public var kid: String
    /// Seconds since the epoch.
    public var createdAt: Int
    /// When the key stopped signing (seconds since the epoch), or nil while it may still sign.
    public var retiredAt: Int?
    public var bits: Int

    public init(kid: String, createdAt: Int, retiredAt: Int?, bits: Int) {
        self.kid = kid
        self.createdAt = createdAt
        self.retiredAt = retiredAt
        self.bits = bits
    }
}

/// The server's JWT signing keys, persisted in a directory, with rotation.
///
/// Layout: `<kid>.pem` (PKCS#8 private key, mode 0600) per key and `keys.json` (metadata:
/// `[{"kid", "created_at", "retired_at"?}]`), in a directory of mode 0700. The directory and key
/// files must not be accessible to group or others (as ssh insists for its keys). A key's id is
/// base64url of the first 12 bytes of SHA-256 over its DER public key: stable across restarts and
/// collision-free in practice.
///
/// Crash safety: a key file is written and fsynced before keys.json names it, and keys.json is
/// replaced atomically (temporary file, fsync, rename, directory fsync). A crash in between leaves
/// at most a key file that keys.json does not list; such orphans were never used to sign and are
/// ignored. Only one process may modify a directory at a time.
///
/// Thread-safe: readers take a short lock on an in-memory snapshot, while ``rotate(now:)`` and
/// friends generate keys and write files without blocking them.
public final class KeyRing: Sendable {
    public let directory: String

    private struct Entry: Sendable {
        var kid: String
        var createdAt: Int
        var retiredAt: Int?
        var key: RSAPrivateKey
    }

    /// keys.json record.
    private struct Metadata: Codable, Equatable {
        var kid: String
        var createdAt: Int
        var retiredAt: Int?

        init(kid: String, createdAt: Int, retiredAt: Int?) {
            self.kid = kid
            self.createdAt = createdAt
            self.retiredAt = retiredAt
        }

        init(_ entry: Entry) {
            self.init(kid: entry.kid, createdAt: entry.createdAt, retiredAt: entry.retiredAt)
        }

        enum CodingKeys: String, CodingKey {
            case kid
            case createdAt = "created_at"
            case retiredAt = "retired_at"
        }
    }

    /// Entries in keys.json order: oldest first.
    private let entries: Mutex<[Entry]>
    /// Serializes modifications (file writes and the snapshot swap); never held by readers.
    private let writer = Mutex<Void>(())

    /// Opens (creating if needed) the key directory and loads every key listed in keys.json.
    ///
    /// - Parameter generateIfEmpty: when no key may sign (new directory, or all retired), generate
    ///   one; otherwise throw ``KeyRingError/noActiveKey``.
    public init(directory: String, generateIfEmpty: Bool = true) throws(KeyRingError) {
        self.directory = directory
        try Self.prepareDirectory(directory)
        let loaded = try Self.load(directory)
        entries = Mutex(loaded)
        if !loaded.contains(where: { $0.retiredAt == nil }) {
            guard generateIfEmpty else { throw .noActiveKey }
            try generate()
        }
    }

    /// Re-reads the directory if keys.json changed since this ring last read or wrote it (another process ran
    /// `chat keys rotate` or `prune`), so a running server signs with a rotated key without a restart. Cheap when
    /// nothing changed: one small file read and compare. Blocking (file I/O): call it off the event loops.
    /// Returns whether the ring changed; on an error the ring keeps what it had.
    @discardableResult
    public func reloadIfChanged() throws(KeyRingError) -> Bool {
        try writer.withLock { _ throws(KeyRingError) in
            let current = entries.withLock { $0 }
            let onDisk: [UInt8]
            do throws(KeyRingError) {
                onDisk = try Self.readPrivateFile(directory + "/keys.json")
            } catch .io(_, _, ENOENT) {
                return false
            }
            let listed = try? JSONDecoder().decode([Metadata].self, from: Data(onDisk))
            guard listed != current.map(Metadata.init) else { return false }
            let loaded = try Self.load(directory)
            guard loaded.contains(where: { $0.retiredAt == nil }) else { throw .noActiveKey }
            entries.withLock { $0 = loaded }
            return true
        }
    }

    /// The most recently added non-retired key: the one new tokens are signed with.
    public var active: KeyInfo {
        entries.withLock { entries in
            info(Self.activeEntry(in: entries))
        }
    }

    /// A signer for the active key.
    public var signer: JWTSigner {
        entries.withLock { entries in
            let entry = Self.activeEntry(in: entries)
            return JWTSigner(kid: entry.kid, key: entry.key)
        }
    }

    /// Public keys that tokens may still be signed with at `now`: every non-retired key, and each
    /// retired key while `retired_at + maxTokenLifetime > now` (a token signed just before rotation
    /// stays verifiable until it expires). Include the verifier's leeway in `maxTokenLifetime`.
    public func verificationKeys(now: Int, maxTokenLifetime: Int) -> [String: RSAPublicKey] {
        entries.withLock { entries in
            var keys: [String: RSAPublicKey] = [:]
            for entry in entries where Self.isVerifiable(entry, now: now, maxTokenLifetime: maxTokenLifetime) {
                keys[entry.kid] = entry.key.publicKey
            }
            return keys
        }
    }

    /// The JWK Set (RFC 7517 §5) of ``verificationKeys(now:maxTokenLifetime:)``, oldest first.
    public func jwks(now: Int, maxTokenLifetime: Int) -> JWKSet {
        let verifiable = entries.withLock { entries in
            entries.filter { Self.isVerifiable($0, now: now, maxTokenLifetime: maxTokenLifetime) }
        }
        return JWKSet(keys: verifiable.map { $0.key.publicKey.jwk(kid: $0.kid) })
    }

    /// All keys, oldest first.
    public func list() -> [KeyInfo] {
        entries.withLock { entries in entries.map(info) }
    }

    /// Adds a freshly generated 2048-bit key, which becomes the active one, and returns its kid.
    /// The previous key is not retired (see ``rotate(now:)``), so it stays trusted for verification.
    @discardableResult
    public func generate(now: Int = KeyRing.currentTime()) throws(KeyRingError) -> String {
        try addKey(now: now, retiringOthers: false).new
    }

    /// Generates a new active key and retires the previous active one (and any other non-retired
    /// key) at `now`, in one keys.json update.
    @discardableResult
    public func rotate(now: Int) throws(KeyRingError) -> (old: String?, new: String) {
        try addKey(now: now, retiringOthers: true)
    }

    /// Deletes retired keys whose tokens have all expired (`retired_at + maxTokenLifetime <= now`),
    /// returning their kids. keys.json is updated before the files go, so a crash (or a failed
    /// unlink) leaves only orphans.
    @discardableResult
    public func prune(now: Int, maxTokenLifetime: Int) throws(KeyRingError) -> [String] {
        try modify { entries throws(KeyRingError) in
            let pruned = entries.filter { !Self.isVerifiable($0, now: now, maxTokenLifetime: maxTokenLifetime) }
            guard !pruned.isEmpty else { return [] }
            var remaining = entries
            remaining.removeAll { !Self.isVerifiable($0, now: now, maxTokenLifetime: maxTokenLifetime) }
            try writeMetadata(remaining)
            entries = remaining
            // keys.json no longer lists them, so the ring has changed whatever happens next. A file
            // that cannot be deleted is merely an orphan, ignored on load: not worth failing over.
            for entry in pruned { unlink(keyPath(entry.kid)) }
            try? Self.syncDirectory(directory)
            return pruned.map(\.kid)
        }
    }

    /// Seconds since the epoch from the system clock.
    public static func currentTime() -> Int { Int(time(nil)) }

    // MARK: - State

    private static func activeEntry(in entries: [Entry]) -> Entry {
        // Newest means most recently added (keys.json keeps insertion order), not the largest
        // created_at: a clock stepped backwards must not bring an older key back into use.
        guard let newest = entries.last(where: { $0.retiredAt == nil }) else {
            // init guarantees a non-retired key; rotate adds one and prune keeps all non-retired keys.
            preconditionFailure("KeyRing without an active key")
        }
        return newest
    }

    private static func isVerifiable(_ entry: Entry, now: Int, maxTokenLifetime: Int) -> Bool {
        guard let retiredAt = entry.retiredAt else { return true }
        let (end, overflow) = retiredAt.addingReportingOverflow(maxTokenLifetime)
        return overflow || end > now
    }

    private func info(_ entry: Entry) -> KeyInfo {
        KeyInfo(kid: entry.kid, createdAt: entry.createdAt, retiredAt: entry.retiredAt, bits: entry.key.publicKey.bits)
    }

    /// Runs a modification on a copy of the entries under the writer lock, then publishes the copy.
    /// `body` must write files before returning; readers see the old snapshot until then.
    private func modify<R>(_ body: (inout [Entry]) throws(KeyRingError) -> R) throws(KeyRingError) -> R {
        try writer.withLock { _ throws(KeyRingError) in
            var copy = entries.withLock { $0 }
            let result = try body(&copy)
            entries.withLock { $0 = copy }
            return result
        }
    }

    /// Generates a key outside any lock, writes its file, then keys.json listing it (and the
    /// retirements); the in-memory ring changes only once both are on disk.
    private func addKey(now: Int, retiringOthers: Bool) throws(KeyRingError) -> (old: String?, new: String) {
        let key = try Self.generateKey()
        let kid = Self.kid(for: key.publicKey)
        return try modify { entries throws(KeyRingError) in
            guard !entries.contains(where: { $0.kid == kid }) else { throw .corrupt("duplicate kid \(kid)") }
            let old = entries.last { $0.retiredAt == nil }?.kid
            try Self.writeNewFile(keyPath(kid), Array(key.pem.utf8))
            var updated = entries
            if retiringOthers {
                for index in updated.indices where updated[index].retiredAt == nil { updated[index].retiredAt = now }
            }
            updated.append(Entry(kid: kid, createdAt: now, retiredAt: nil, key: key))
            // On failure the key file stays behind as an orphan, which loading ignores. Deleting it
            // here could be wrong: if only the directory fsync failed, keys.json already lists it.
            try writeMetadata(updated)
            entries = updated
            return (old, kid)
        }
    }

    private static func generateKey() throws(KeyRingError) -> RSAPrivateKey {
        do {
            return try RSAPrivateKey.generate(bits: 2048)
        } catch {
            throw .key(error)
        }
    }

    /// base64url(SHA-256(DER SubjectPublicKeyInfo)[0..<12]): 16 characters.
    static func kid(for key: RSAPublicKey) -> String {
        Base64URL.encode(Digest.sha256(key.der).prefix(12))
    }

    // MARK: - Files

    private var metadataPath: String { directory + "/keys.json" }
    private func keyPath(_ kid: String) -> String { directory + "/" + kid + ".pem" }

    private func writeMetadata(_ entries: [Entry]) throws(KeyRingError) {
        let records = entries.map { Metadata(kid: $0.kid, createdAt: $0.createdAt, retiredAt: $0.retiredAt) }
        let data: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            data = try encoder.encode(records)
        } catch {
            throw .corrupt("cannot encode keys.json: \(error)")
        }
        // Atomic replace: readers (and a crash) see the old or the new file, never a partial one.
        let temporary = directory + "/.keys.json." + SecureRandom.token(byteCount: 9) + ".tmp"
        try Self.writeNewFile(temporary, Array(data) + [0x0A])
        guard rename(temporary, metadataPath) == 0 else {
            let error = errno
            unlink(temporary)
            throw .io(operation: "rename", path: metadataPath, errno: error)
        }
        try Self.syncDirectory(directory)
    }

    /// Creates `path` exclusively with mode 0600 (so it is never readable by others, not even briefly),
    /// writes `bytes` and fsyncs it.
    private static func writeNewFile(_ path: String, _ bytes: [UInt8]) throws(KeyRingError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(operation: "open", path: path, errno: errno) }
        var failure: KeyRingError?
        var offset = 0
        while offset < bytes.count, failure == nil {
            let written = bytes.withUnsafeBytes { buffer in
                write(fd, UnsafeRawBufferPointer(rebasing: buffer[offset...]).baseAddress, buffer.count - offset)
            }
            if written > 0 {
                offset += written
            } else if written < 0, errno != EINTR {
                failure = .io(operation: "write", path: path, errno: errno)
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = .io(operation: "fsync", path: path, errno: errno) }
        if close(fd) != 0, failure == nil { failure = .io(operation: "close", path: path, errno: errno) }
        if let failure {
            unlink(path)
            throw failure
        }
    }

    /// Makes renames and new directory entries durable.
    private static func syncDirectory(_ path: String) throws(KeyRingError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .io(operation: "fsync", path: path, errno: errno) }
    }

    /// Creates the directory with mode 0700, or checks an existing one is private to this user.
    private static func prepareDirectory(_ path: String) throws(KeyRingError) {
        if mkdir(path, 0o700) != 0 {
            guard errno == EEXIST else { throw .io(operation: "mkdir", path: path, errno: errno) }
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw .io(operation: "stat", path: path, errno: errno) }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .io(operation: "stat", path: path, errno: ENOTDIR) }
        try checkPrivate(info, path: path)
    }

    private static func checkPrivate(_ info: stat, path: String) throws(KeyRingError) {
        guard info.st_uid == geteuid(), info.st_mode & 0o077 == 0 else { throw .insecurePermissions(path: path) }
    }

    /// Reads a small private regular file, refusing symlinks and files others can read.
    private static func readPrivateFile(_ path: String, limit: Int = 1 << 20) throws(KeyRingError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw .io(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(operation: "fstat", path: path, errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) <= limit else {
            throw .corrupt("\(path) is not a regular file of at most \(limit) bytes")
        }
        try checkPrivate(info, path: path)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read", path: path, errno: errno)
            }
            bytes += chunk[..<count]
            guard bytes.count <= limit else { throw .corrupt("\(path) grew beyond \(limit) bytes") }
        }
        return bytes
    }

    private static func load(_ directory: String) throws(KeyRingError) -> [Entry] {
        let path = directory + "/keys.json"
        let bytes: [UInt8]
        do {
            bytes = try readPrivateFile(path)
        } catch .io(_, _, ENOENT) {
            return []
        }
        let records: [Metadata]
        do {
            records = try JSONDecoder().decode([Metadata].self, from: Data(bytes))
        } catch {
            throw .corrupt("keys.json: \(error)")
        }
        var entries: [Entry] = []
        for record in records {
            // The kid becomes a file name: only the 16-character base64url form we create is allowed.
            guard record.kid.utf8.count == 16, let decoded = Base64URL.decode(record.kid), decoded.count == 12 else {
                throw .corrupt("keys.json: invalid kid \(record.kid)")
            }
            guard !entries.contains(where: { $0.kid == record.kid }) else {
                throw .corrupt("keys.json: duplicate kid \(record.kid)")
            }
            let keyPath = directory + "/" + record.kid + ".pem"
            let pem: [UInt8]
            do {
                pem = try readPrivateFile(keyPath)
            } catch .io(_, _, ENOENT) {
                throw .missingKeyFile(kid: record.kid)
            }
            let key: RSAPrivateKey
            do {
                key = try RSAPrivateKey(pem: String(decoding: pem, as: UTF8.self))
            } catch {
                throw .key(error)
            }
            guard kid(for: key.publicKey) == record.kid else {
                throw .corrupt("\(keyPath) holds a different key than its kid says")
            }
            entries.append(Entry(kid: record.kid, createdAt: record.createdAt, retiredAt: record.retiredAt, key: key))
        }
        return entries
    }
}
