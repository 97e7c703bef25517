import Glibc
import Security
import SystemSupport

/// Why credentials could not be loaded or were refused.
public enum BlobCredentialsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A value that breaks Cloudinary's rules or would break a `CLOUDINARY_URL`.
    case invalid(field: String, value: String, reason: String)
    /// A line of the credentials file that is not `key=value` with a known key.
    case malformedFile(path: String, line: Int)

    public var description: String {
        switch self {
        case .invalid(let field, let value, let reason): return "invalid \(field) \"\(value)\": \(reason)"
        case .malformedFile(let path, let line): return "\(path):\(line): expected cloud_name=, api_key= or api_secret="
        }
    }
}

/// The cloud name and API key pair that Upload API requests are signed with (`[blobs] cloud_name`, `api_key`,
/// `api_secret` in the config).
///
/// When the config does not set them, they are generated on first start, like Cloudinary's own: a 15-digit
/// `api_key` and a 27-character URL-safe `api_secret`, with cloud name `local`; and stored in
/// `<data>/blobs/credentials` (mode 0600, `key=value` lines) so they survive restarts. Values set in the
/// config win over the file, field by field.
public struct BlobCredentials: Sendable, Equatable {
    public static let defaultCloudName = "local"
    public static let fileName = "credentials"

    public var cloudName: String
    public var apiKey: String
    public var apiSecret: String

    /// Validating initializer: the cloud name per ``isValidCloudName(_:)``, key and secret per
    /// ``isValidKeyOrSecret(_:)``.
    public init(cloudName: String, apiKey: String, apiSecret: String) throws(BlobCredentialsError) {
        guard Self.isValidCloudName(cloudName) else {
            throw .invalid(
                field: "cloud_name", value: cloudName,
                reason: "2 to 128 characters of a-z, A-Z, 0-9 and '-', beginning with a letter")
        }
        guard Self.isValidKeyOrSecret(apiKey) else {
            throw .invalid(field: "api_key", value: apiKey, reason: "1 to 128 characters of A-Z, a-z, 0-9, '-', '_'")
        }
        guard Self.isValidKeyOrSecret(apiSecret) else {
            throw .invalid(field: "api_secret", value: "…", reason: "1 to 128 characters of A-Z, a-z, 0-9, '-', '_'")
        }
        self.cloudName = cloudName
        self.apiKey = apiKey
        self.apiSecret = apiSecret
    }

    /// Cloudinary's rule for cloud names (<https://cloudinary.com/documentation/ts_permitted_naming_conventions>):
    /// 2 to 128 characters of `a-z A-Z 0-9 -`, beginning with a letter. They are URL path segments here.
    public static func isValidCloudName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (2...128).contains(bytes.count), let first = bytes.first, isLetter(first) else { return false }
        return bytes.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") }
    }

    /// Keys and secrets: 1 to 128 characters of the URL-safe base64 alphabet, so that they fit unescaped in a
    /// `CLOUDINARY_URL` and an HTTP Basic header.
    public static func isValidKeyOrSecret(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        return (1...128).contains(bytes.count)
            && bytes.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    // MARK: Generation

    /// A new random pair with `cloudName`: `api_key` 15 decimal digits (no leading zero), `api_secret` 27
    /// characters of the URL-safe base64 alphabet (162 random bits), both from the CSPRNG.
    public static func generate(cloudName: String = defaultCloudName) throws(BlobCredentialsError) -> BlobCredentials {
        var key = ""
        while key.utf8.count < 15 {
            // 250 = 25 * 10: bytes at or above it would favour low digits.
            for byte in SecureRandom.bytes(32) where byte < 250 && key.utf8.count < 15 {
                let digit = byte % 10
                if key.isEmpty && digit == 0 { continue }
                key.append(Character(Unicode.Scalar(UInt8(ascii: "0") + digit)))
            }
        }
        let secret = String(Base64URL.encode(SecureRandom.bytes(21)).prefix(27))
        return try BlobCredentials(cloudName: cloudName, apiKey: key, apiSecret: secret)
    }

    // MARK: Loading

    /// The credentials to use: each of `cloudName`, `apiKey`, `apiSecret` from the arguments (the config)
    /// when given, else from `<blobsDirectory>/credentials`; if the file does not exist and the config does
    /// not set both key and secret, a generated pair is written there first (atomically, mode 0600).
    ///
    /// Blocking file I/O; run at start.
    public static func loadOrCreate(
        blobsDirectory: String, cloudName: String? = nil, apiKey: String? = nil, apiSecret: String? = nil
    ) throws -> BlobCredentials {
        if let apiKey, let apiSecret {
            return try BlobCredentials(
                cloudName: cloudName ?? (try? read(blobsDirectory: blobsDirectory))?.cloudName ?? defaultCloudName,
                apiKey: apiKey, apiSecret: apiSecret)
        }
        let stored: BlobCredentials
        if let existing = try read(blobsDirectory: blobsDirectory) {
            stored = existing
        } else {
            stored = try generate(cloudName: cloudName ?? defaultCloudName)
            try write(stored, blobsDirectory: blobsDirectory)
        }
        return try BlobCredentials(
            cloudName: cloudName ?? stored.cloudName, apiKey: apiKey ?? stored.apiKey,
            apiSecret: apiSecret ?? stored.apiSecret)
    }

    /// The stored credentials, or nil when there is no file. A file readable by others is made 0600.
    public static func read(blobsDirectory: String) throws -> BlobCredentials? {
        let path = blobsDirectory + "/" + fileName
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw SystemError("open \(path)")
        }
        defer { close(descriptor) }
        var info = stat()
        if fstat(descriptor, &info) == 0, info.st_mode & 0o077 != 0 { _ = fchmod(descriptor, 0o600) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 65536 {
            let count = try FileIO.check("read \(path)") { Glibc.read(descriptor, &buffer, buffer.count) }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        var values: [String: String] = [:]
        for (index, line) in String(decoding: bytes, as: UTF8.self).split(separator: "\n").enumerated() {
            let trimmed = line.trimmingSuffix { $0 == "\r" || $0 == " " }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let equals = trimmed.firstIndex(of: "="),
                ["cloud_name", "api_key", "api_secret"].contains(trimmed[..<equals])
            else { throw BlobCredentialsError.malformedFile(path: path, line: index + 1) }
            values[String(trimmed[..<equals])] = String(trimmed[trimmed.index(after: equals)...])
        }
        guard let key = values["api_key"], let secret = values["api_secret"] else {
            throw BlobCredentialsError.malformedFile(path: path, line: 0)
        }
        return try BlobCredentials(cloudName: values["cloud_name"] ?? defaultCloudName, apiKey: key, apiSecret: secret)
    }

    /// Writes the credentials file atomically (temporary file, fsync, rename, directory fsync), mode 0600.
    public static func write(_ credentials: BlobCredentials, blobsDirectory: String) throws {
        try FileIO.makeDirectory(blobsDirectory)
        let path = blobsDirectory + "/" + fileName
        let temporary = path + ".tmp-" + PublicID.randomCharacters(8)
        let text =
            "# Upload API credentials of this chat server (Cloudinary-compatible). Keep secret.\n"
            + "cloud_name=\(credentials.cloudName)\napi_key=\(credentials.apiKey)\napi_secret=\(credentials.apiSecret)\n"
        let descriptor = try FileIO.check("open \(temporary)") {
            open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        }
        do {
            try Array(text.utf8).withUnsafeBytes { try FileIO.writeAll(descriptor, $0) }
            try FileIO.check("fsync \(temporary)") { fsync(descriptor) }
            close(descriptor)
            try FileIO.check("rename \(temporary)") { rename(temporary, path) }
        } catch {
            close(descriptor)
            FileIO.unlinkIgnoringMissing(temporary)
            throw error
        }
        try FileIO.fsyncDirectory(blobsDirectory)
    }

    // MARK: Output

    /// A ready `CLOUDINARY_URL` for the SDKs: `cloudinary://<key>:<secret>@<cloud>?upload_prefix=<scheme>://<host>:<port>`
    /// (an IPv6 host in brackets).
    /// The key of token-based delivery URLs (``CloudinaryAuthToken``), derived from the secret so that it needs
    /// no storage of its own and changes with it: HMAC-SHA-256 of a fixed label under the secret.
    public var authTokenKey: [UInt8] {
        Digest.hmacSHA256(key: Array(apiSecret.utf8), message: Array("chat auth_token key".utf8))
    }

    /// ``authTokenKey`` as the SDKs take it (`auth_token={"key": …}`): hex.
    public var authTokenKeyHex: String { CloudinarySignature.hex(authTokenKey) }

    public func cloudinaryURL(host: String, port: Int, scheme: String = "http") -> String {
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "cloudinary://\(apiKey):\(apiSecret)@\(cloudName)?upload_prefix=\(scheme)://\(hostPart):\(port)"
    }

    /// Whether `key`/`secret` (for instance from HTTP Basic authentication) are these credentials; compared
    /// in constant time.
    public func matches(apiKey key: String, apiSecret secret: String) -> Bool {
        let keyMatches = constantTimeEqual(Array(key.utf8), Array(apiKey.utf8))
        let secretMatches = constantTimeEqual(Array(secret.utf8), Array(apiSecret.utf8))
        return keyMatches && secretMatches
    }
}

extension Substring {
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
        var result = self
        while let last = result.last, predicate(last) { result = result.dropLast() }
        return result
    }
}
