import COpenSSL

/// One-shot message digests and HMAC through OpenSSL's EVP interface.
public enum Digest {
    /// SHA-256 (FIPS 180-4) of `bytes`: 32 bytes.
    public static func sha256(_ bytes: some Collection<UInt8>) -> [UInt8] {
        digest(bytes, algorithm: MessageDigest.sha256, size: 32)
    }

    /// Lowercase hexadecimal SHA-256 of the UTF-8 bytes of `text` (64 characters), e.g. for
    /// storing refresh tokens by hash.
    public static func sha256Hex(_ text: String) -> String {
        hex(sha256(Array(text.utf8)))
    }

    /// SHA-1 of `bytes`: 20 bytes. Only for protocols that mandate it (the WebSocket accept key of
    /// RFC 6455 §4.2.2, third-party API signatures); never for anything collision resistance
    /// matters for.
    public static func sha1(_ bytes: some Collection<UInt8>) -> [UInt8] {
        digest(bytes, algorithm: MessageDigest.sha1, size: 20)
    }

    /// HMAC-SHA-256 (RFC 2104) of `message` under `key`: 32 bytes.
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let result = key.withUnsafeBufferPointer { key in
            message.withUnsafeBufferPointer { message in
                output.withUnsafeMutableBufferPointer { output in
                    HMAC(
                        MessageDigest.sha256.pointer, key.baseAddress, Int32(key.count), message.baseAddress,
                        message.count, output.baseAddress, &length)
                }
            }
        }
        // HMAC fails only if OpenSSL cannot allocate or the digest is unavailable: a broken process.
        guard result != nil, length == 32 else { fatalError("HMAC-SHA-256 failed: \(OpenSSLError.drain())") }
        return output
    }

    private static func digest(_ bytes: some Collection<UInt8>, algorithm: MessageDigest, size: Int) -> [UInt8] {
        withContiguousBytes(bytes) { input in
            [UInt8](unsafeUninitializedCapacity: size) { output, initialized in
                var length: UInt32 = 0
                guard
                    EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, algorithm.pointer, nil)
                        == 1,
                    Int(length) == size
                else { fatalError("EVP_Digest failed: \(OpenSSLError.drain())") }
                initialized = size
            }
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: bytes.count * 2) { output in
            for (index, byte) in bytes.enumerated() {
                output[2 * index] = digits[Int(byte >> 4)]
                output[2 * index + 1] = digits[Int(byte & 0x0F)]
            }
            return bytes.count * 2
        }
    }
}

/// Compares two byte strings in time independent of their contents (`CRYPTO_memcmp`), for MACs,
/// token hashes and password hashes, where an early exit would tell an attacker how many leading
/// bytes matched.
///
/// Different lengths return false at once: lengths are not secret here (MACs and hashes have fixed
/// sizes), and the contents are never examined in that case.
public func constantTimeEqual(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    guard !a.isEmpty else { return true }
    return withContiguousBytes(a) { a in
        withContiguousBytes(b) { b in
            CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0
        }
    }
}

/// Runs `body` on contiguous storage of `bytes`, copying only collections that have none.
func withContiguousBytes<R>(_ bytes: some Collection<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows
    -> R
{
    if let result = try bytes.withContiguousStorageIfAvailable(body) {
        return result
    }
    return try Array(bytes).withUnsafeBufferPointer(body)
}
