import COpenSSL

/// An explicitly fetched digest algorithm, kept for the process lifetime.
///
/// OpenSSL 3 looks up the provider implementation again on every use of the legacy `EVP_sha256()`
/// handle (a locked store lookup); an explicitly fetched `EVP_MD` skips that, which matters on the
/// token-verification hot path.
final class MessageDigest: @unchecked Sendable {
    // @unchecked: a fetched EVP_MD is immutable and reference counted; OpenSSL documents it as safe to
    // share between threads. It is never freed (process-lifetime singleton).
    let pointer: OpaquePointer
    /// The name OpenSSL's `*_ex` functions take (`mdname`).
    let name: String

    private init(name: String, fallback: () -> OpaquePointer?) {
        self.name = name
        guard let fetched = EVP_MD_fetch(nil, name, nil) ?? fallback() else {
            fatalError("OpenSSL has no \(name) implementation")
        }
        pointer = fetched
    }

    static let sha256 = MessageDigest(name: "SHA256") { EVP_sha256() }
    static let sha1 = MessageDigest(name: "SHA1") { EVP_sha1() }
}

/// Reads and clears this thread's OpenSSL error queue.
enum OpenSSLError {
    /// The queued error descriptions, oldest first, joined by "; ".
    ///
    /// Always called after a failed OpenSSL call, so that stale errors never accumulate in the
    /// thread-local queue or get attributed to a later, unrelated call.
    static func drain() -> String {
        var messages: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.isEmpty ? "unknown OpenSSL error" : messages.joined(separator: "; ")
    }
}

/// Reads everything written to a memory BIO.
func readAll(_ bio: OpaquePointer) -> [UInt8] {
    let pending = Int(BIO_ctrl_pending(bio))
    guard pending > 0 else { return [] }
    return [UInt8](unsafeUninitializedCapacity: pending) { buffer, initialized in
        let read = BIO_read(bio, buffer.baseAddress, Int32(pending))
        initialized = max(0, Int(read))
    }
}
