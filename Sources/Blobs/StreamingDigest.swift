import COpenSSL

/// An incremental message digest over OpenSSL's EVP interface, for hashing uploads as they stream to disk.
///
/// `Security.Digest` hashes whole buffers; an upload of a gigabyte arrives in pieces and must not be held in
/// memory, so the blob writer feeds each piece here. Not thread-safe: one owner at a time.
final class StreamingDigest {
    /// A digest algorithm fetched once for the process (OpenSSL 3 would look it up on every use otherwise).
    final class Algorithm: @unchecked Sendable {
        // @unchecked: a fetched EVP_MD is immutable and documented as shareable between threads; never freed.
        let pointer: OpaquePointer
        let size: Int

        private init(name: String, size: Int, fallback: () -> OpaquePointer?) {
            guard let fetched = EVP_MD_fetch(nil, name, nil) ?? fallback() else {
                fatalError("OpenSSL has no \(name) implementation")
            }
            pointer = fetched
            self.size = size
        }

        static let sha256 = Algorithm(name: "SHA256", size: 32) { EVP_sha256() }
        /// MD5 only because Cloudinary's `etag` is the MD5 of the bytes; never for anything that needs security.
        static let md5 = Algorithm(name: "MD5", size: 16) { EVP_md5() }
    }

    private let context: OpaquePointer
    private let algorithm: Algorithm

    init(_ algorithm: Algorithm) {
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, algorithm.pointer, nil) == 1 else {
            // Only allocation failure or a missing provider: a broken process.
            fatalError("EVP_DigestInit_ex failed")
        }
        self.context = context
        self.algorithm = algorithm
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        guard EVP_DigestUpdate(context, base, bytes.count) == 1 else { fatalError("EVP_DigestUpdate failed") }
    }

    /// The digest of everything given; the object must not be used afterwards.
    func finish() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: algorithm.size) { output, initialized in
            var length: UInt32 = 0
            guard EVP_DigestFinal_ex(context, output.baseAddress, &length) == 1, Int(length) == algorithm.size else {
                fatalError("EVP_DigestFinal_ex failed")
            }
            initialized = algorithm.size
        }
    }
}
