import COpenSSL

/// Cryptographically secure random bytes from OpenSSL's CSPRNG (`RAND_bytes`), seeded by the
/// operating system.
public enum SecureRandom {
    /// `count` random bytes.
    ///
    /// Traps if OpenSSL's CSPRNG reports failure (it could not be seeded): every caller uses these
    /// bytes for secrets (tokens, salts, keys), and continuing with predictable bytes would be
    /// worse than stopping the process.
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0, "negative byte count")
        guard count > 0 else { return [] }
        let result = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            // RAND_bytes takes an Int32 length; request in chunks so any Int count works.
            var offset = 0
            while offset < count {
                let chunk = Int32(min(count - offset, Int(Int32.max)))
                guard let base = buffer.baseAddress, RAND_bytes(base + offset, chunk) == 1 else {
                    fatalError("RAND_bytes failed: the CSPRNG cannot produce secure random bytes")
                }
                offset += Int(chunk)
            }
            initialized = count
        }
        return result
    }

    /// A random token of `byteCount` bytes (256 bits by default), base64url-encoded without
    /// padding (RFC 4648 §5), so it is safe in URLs, cookies and file names.
    public static func token(byteCount: Int = 32) -> String {
        Base64URL.encode(bytes(byteCount))
    }
}
