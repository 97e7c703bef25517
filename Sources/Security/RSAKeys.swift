import COpenSSL

/// Why a key could not be created, parsed or used.
public enum CryptoError: Error, Sendable, Equatable {
    /// The input is not a parseable key of the expected kind (wrong PEM type, encrypted PEM, bad JWK).
    case invalidKey(String)
    /// The key is RSA-PSS, EC, Ed25519, ...: only plain RSA keys are accepted.
    case unsupportedKeyType
    /// RSA keys below 2048 bits are rejected (RFC 7518 §3.3, NIST SP 800-131A).
    case keyTooSmall(bits: Int)
    /// RSA keys above ``RSAKeyLimits/maximumBits`` are rejected: verification cost grows with the
    /// modulus, so an oversized key would turn every token check into a denial of service.
    case keyTooLarge(bits: Int)
    /// OpenSSL failed while generating, signing or encoding.
    case operationFailed(String)
}

/// The RSA modulus sizes this module accepts.
public enum RSAKeyLimits {
    /// RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used" with RS256.
    public static let minimumBits = 2048
    /// Generous for any real deployment, small enough to bound verification time.
    public static let maximumBits = 8192
}

/// An owned `EVP_PKEY*`, freed when the last reference goes away.
///
/// @unchecked Sendable: OpenSSL 3 treats an `EVP_PKEY` as immutable once built (internal caches are
/// locked), and every sign/verify uses its own fresh `EVP_MD_CTX`, so sharing one between threads is
/// safe. Nothing here mutates the key after init.
final class PKey: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { EVP_PKEY_free(pointer) }

    var bits: Int { Int(EVP_PKEY_get_bits(pointer)) }

    /// Accepts only plain RSA keys of an allowed size that pass OpenSSL's public-key checks.
    func validateRSA() throws(CryptoError) {
        // EVP_PKEY_RSA_PSS keys carry parameter restrictions JWS RS256 does not use: reject them too.
        guard EVP_PKEY_get_base_id(pointer) == EVP_PKEY_RSA else { throw .unsupportedKeyType }
        guard bits >= RSAKeyLimits.minimumBits else { throw .keyTooSmall(bits: bits) }
        guard bits <= RSAKeyLimits.maximumBits else { throw .keyTooLarge(bits: bits) }
        guard let context = EVP_PKEY_CTX_new_from_pkey(nil, pointer, nil) else {
            throw .operationFailed(OpenSSLError.drain())
        }
        defer { EVP_PKEY_CTX_free(context) }
        // SP 800-56B partial public-key validation: odd modulus without small factors, odd public
        // exponent with 2^16 < e < 2^256 (so e = 3 keys are refused).
        guard EVP_PKEY_public_check(context) == 1 else {
            throw .invalidKey("RSA public key check failed: \(OpenSSLError.drain())")
        }
    }

    /// DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) of the public half.
    func publicKeyDER() throws(CryptoError) -> [UInt8] {
        let length = i2d_PUBKEY(pointer, nil)
        guard length > 0 else { throw .operationFailed(OpenSSLError.drain()) }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_PUBKEY(pointer, &cursor)
        }
        guard written == length else { throw .operationFailed(OpenSSLError.drain()) }
        return der
    }

    /// A big-number parameter ("n", "e") as minimal big-endian bytes (RFC 7518 §6.3.1.1).
    func bigNumber(_ name: String) throws(CryptoError) -> [UInt8] {
        var number: OpaquePointer?
        guard EVP_PKEY_get_bn_param(pointer, name, &number) == 1, let number else {
            throw .operationFailed(OpenSSLError.drain())
        }
        defer { BN_free(number) }
        let size = Int((BN_num_bits(number) + 7) / 8)
        var bytes = [UInt8](repeating: 0, count: size)
        let written = bytes.withUnsafeMutableBufferPointer { BN_bn2bin(number, $0.baseAddress) }
        guard Int(written) == size else { throw .operationFailed(OpenSSLError.drain()) }
        return bytes
    }

    /// PEM text produced by `write` into a memory BIO.
    ///
    /// Encoding a valid key into memory fails only if OpenSSL cannot allocate, which leaves the
    /// process unable to do anything useful: that traps instead of burdening every caller with `try`.
    func pem(_ write: (OpaquePointer, OpaquePointer) -> Int32) -> String {
        guard let bio = BIO_new(BIO_s_mem()), write(bio, pointer) == 1 else {
            fatalError("PEM encoding failed: \(OpenSSLError.drain())")
        }
        defer { BIO_free(bio) }
        return String(decoding: readAll(bio), as: UTF8.self)
    }

    /// Parses PEM text with `read` from a read-only memory BIO over its bytes.
    static func parsePEM(_ pem: String, _ read: (OpaquePointer) -> OpaquePointer?) throws(CryptoError) -> PKey {
        var text = pem
        let pointer = text.withUTF8 { bytes -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(clamping: bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return read(bio)
        }
        guard let pointer else { throw .invalidKey("not a PEM key of the expected type: \(OpenSSLError.drain())") }
        return PKey(pointer)
    }
}

/// Refuses the passphrase prompt: without a callback OpenSSL would ask on the terminal for an
/// encrypted PEM, blocking a server. Encrypted keys therefore fail to parse.
private func noPassphrase(
    _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int32, _ writing: Int32, _ context: UnsafeMutableRawPointer?
) -> Int32 {
    -1
}

/// An RSA private key for RS256 signing (RFC 7518 §3.3).
///
/// Immutable and safe to share between threads: each signature uses its own `EVP_MD_CTX`.
public final class RSAPrivateKey: Sendable {
    let key: PKey
    /// The public half, derived once (a separate key object without private material).
    public let publicKey: RSAPublicKey

    private init(key: PKey) throws(CryptoError) {
        try key.validateRSA()
        self.key = key
        publicKey = try RSAPublicKey(der: try key.publicKeyDER())
    }

    /// Generates a new key with public exponent 65537.
    public static func generate(bits: Int = 2048) throws(CryptoError) -> RSAPrivateKey {
        guard bits >= RSAKeyLimits.minimumBits else { throw .keyTooSmall(bits: bits) }
        guard bits <= RSAKeyLimits.maximumBits else { throw .keyTooLarge(bits: bits) }
        // EVP_RSA_gen / EVP_PKEY_Q_keygen are variadic macros Swift cannot call; this is their expansion.
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil) else {
            throw .operationFailed(OpenSSLError.drain())
        }
        defer { EVP_PKEY_CTX_free(context) }
        var pointer: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_rsa_keygen_bits(context, Int32(bits)) == 1,
            EVP_PKEY_generate(context, &pointer) == 1, let pointer
        else { throw .operationFailed(OpenSSLError.drain()) }
        return try RSAPrivateKey(key: PKey(pointer))
    }

    /// Parses a PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`) PEM key.
    /// Encrypted keys, non-RSA keys and keys under 2048 bits are rejected.
    public convenience init(pem: String) throws(CryptoError) {
        let key = try PKey.parsePEM(pem) { PEM_read_bio_PrivateKey($0, nil, noPassphrase, nil) }
        try self.init(key: key)
    }

    /// Unencrypted PKCS#8 PEM (RFC 5958), the format ``init(pem:)`` and `openssl pkey` read.
    /// Secret: store only in files readable by the server user alone.
    public var pem: String {
        key.pem { PEM_write_bio_PKCS8PrivateKey($0, $1, nil, nil, 0, nil, nil) }
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message` (RFC 8017 §8.2; JWS "RS256", RFC 7518 §3.3).
    public func signRS256(_ message: some Collection<UInt8>) throws(CryptoError) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw .operationFailed(OpenSSLError.drain()) }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer?
        // Padding is set explicitly rather than relying on OpenSSL's default for RSA keys.
        guard EVP_DigestSignInit_ex(context, &keyContext, MessageDigest.sha256.name, nil, nil, key.pointer, nil) == 1,
            EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PADDING) == 1
        else { throw .operationFailed(OpenSSLError.drain()) }
        let result = withContiguousBytes(message) { message -> [UInt8]? in
            var length = 0
            guard EVP_DigestSign(context, nil, &length, message.baseAddress, message.count) == 1 else { return nil }
            var signature = [UInt8](repeating: 0, count: length)
            guard EVP_DigestSign(context, &signature, &length, message.baseAddress, message.count) == 1 else {
                return nil
            }
            return Array(signature.prefix(length))
        }
        guard let result else { throw .operationFailed(OpenSSLError.drain()) }
        return result
    }
}

/// An RSA public key for RS256 verification and JWK publication (RFC 7517, RFC 7518 §6.3.1).
///
/// Immutable and safe to share between threads; the parsed `EVP_PKEY` is kept, so verification never
/// re-parses PEM.
public final class RSAPublicKey: Sendable {
    let key: PKey
    /// Modulus size in bits.
    public let bits: Int
    /// Signature size in bytes: a valid RS256 signature is exactly this long (RFC 8017 §8.2.2).
    let signatureSize: Int

    private init(key: PKey) throws(CryptoError) {
        try key.validateRSA()
        self.key = key
        bits = key.bits
        signatureSize = (bits + 7) / 8
        der = try key.publicKeyDER()
    }

    /// Parses DER SubjectPublicKeyInfo.
    convenience init(der: [UInt8]) throws(CryptoError) {
        let pointer = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor = buffer.baseAddress
            return d2i_PUBKEY(nil, &cursor, buffer.count)
        }
        guard let pointer else { throw .invalidKey("bad SubjectPublicKeyInfo: \(OpenSSLError.drain())") }
        try self.init(key: PKey(pointer))
    }

    /// Parses a `BEGIN PUBLIC KEY` (SubjectPublicKeyInfo, RFC 5280) PEM key, the form ``pem``
    /// writes and `openssl pkey -pubout` prints.
    public convenience init(pem: String) throws(CryptoError) {
        try self.init(key: PKey.parsePEM(pem) { PEM_read_bio_PUBKEY($0, nil, noPassphrase, nil) })
    }

    /// Builds the key from a JWK's modulus and exponent (RFC 7518 §6.3.1).
    ///
    /// Requires `kty` "RSA"; `use` and `alg`, when present, must be "sig" and "RS256" (RFC 7517
    /// §4.2, §4.4) so a key meant for something else is never used to accept signatures. `n` and `e`
    /// must be minimal: RFC 7518 §6.3.1.1 forbids leading zero octets.
    public convenience init(jwk: JWK) throws(CryptoError) {
        guard jwk.kty == "RSA" else { throw .unsupportedKeyType }
        if let use = jwk.use, use != "sig" { throw .invalidKey("JWK use is \(use), not sig") }
        if let alg = jwk.alg, alg != "RS256" { throw .invalidKey("JWK alg is \(alg), not RS256") }
        guard let modulus = Base64URL.decode(jwk.n), let exponent = Base64URL.decode(jwk.e),
            let modulusFirst = modulus.first, modulusFirst != 0, let exponentFirst = exponent.first, exponentFirst != 0
        else { throw .invalidKey("JWK n/e must be non-empty minimal base64url integers") }
        // Bound before handing to OpenSSL, which would otherwise happily build a huge key.
        guard modulus.count <= RSAKeyLimits.maximumBits / 8 else { throw .keyTooLarge(bits: modulus.count * 8) }
        guard exponent.count <= 8 else { throw .invalidKey("JWK e is longer than 64 bits") }
        try self.init(key: PKey.fromRSAComponents(modulus: modulus, exponent: exponent))
    }

    /// SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`).
    public var pem: String {
        key.pem { PEM_write_bio_PUBKEY($0, $1) }
    }

    /// DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7); ``KeyRing`` derives key ids from its hash.
    public let der: [UInt8]

    /// The public key as a JWK (RFC 7517 §4, RFC 7518 §6.3.1): kty RSA, use sig, alg RS256, `kid`,
    /// and `n`/`e` as minimal big-endian base64url.
    public func jwk(kid: String) -> JWK {
        // Reading n and e from a validated RSA key fails only on allocation failure.
        guard let modulus = try? key.bigNumber("n"), let exponent = try? key.bigNumber("e") else {
            fatalError("cannot read RSA parameters: \(OpenSSLError.drain())")
        }
        return JWK(
            kty: "RSA", use: "sig", alg: "RS256", kid: kid, n: Base64URL.encode(modulus), e: Base64URL.encode(exponent))
    }

    /// Checks an RSASSA-PKCS1-v1_5 SHA-256 signature (RFC 8017 §8.2.2). Any failure is `false`.
    public func verifyRS256(signature: some Collection<UInt8>, message: some Collection<UInt8>) -> Bool {
        // Length first: cheap, and OpenSSL would reject a wrong-length signature anyway.
        guard signature.count == signatureSize else { return false }
        return withContiguousBytes(signature) { signature in
            withContiguousBytes(message) { message in
                verifyRS256(signature: signature, message: message)
            }
        }
    }

    func verifyRS256(signature: UnsafeBufferPointer<UInt8>, message: UnsafeBufferPointer<UInt8>) -> Bool {
        guard signature.count == signatureSize, let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer?
        let verified =
            EVP_DigestVerifyInit_ex(context, &keyContext, MessageDigest.sha256.name, nil, nil, key.pointer, nil) == 1
            && EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PADDING) == 1
            && EVP_DigestVerify(context, signature.baseAddress, signature.count, message.baseAddress, message.count)
                == 1
        if !verified {
            // A bad signature queues an error on this thread: clear it so it cannot leak into later calls.
            ERR_clear_error()
        }
        return verified
    }
}

/// A NUL-terminated C string with static lifetime.
private func cString(_ literal: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(literal.utf8Start).assumingMemoryBound(to: CChar.self)
}

extension PKey {
    /// An RSA public key from big-endian modulus and exponent (OpenSSL 3 `EVP_PKEY_fromdata`).
    static func fromRSAComponents(modulus: [UInt8], exponent: [UInt8]) throws(CryptoError) -> PKey {
        guard let n = BN_bin2bn(modulus, Int32(modulus.count), nil) else {
            throw .operationFailed(OpenSSLError.drain())
        }
        defer { BN_free(n) }
        guard let e = BN_bin2bn(exponent, Int32(exponent.count), nil) else {
            throw .operationFailed(OpenSSLError.drain())
        }
        defer { BN_free(e) }
        guard let builder = OSSL_PARAM_BLD_new() else { throw .operationFailed(OpenSSLError.drain()) }
        defer { OSSL_PARAM_BLD_free(builder) }
        // The builder, and the OSSL_PARAM array it produces, keep these name pointers rather than
        // copies: they must be static literals, not Swift strings bridged only for one call.
        guard OSSL_PARAM_BLD_push_BN(builder, cString("n"), n) == 1,
            OSSL_PARAM_BLD_push_BN(builder, cString("e"), e) == 1,
            let parameters = OSSL_PARAM_BLD_to_param(builder)
        else { throw .operationFailed(OpenSSLError.drain()) }
        defer { OSSL_PARAM_free(parameters) }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil) else {
            throw .operationFailed(OpenSSLError.drain())
        }
        defer { EVP_PKEY_CTX_free(context) }
        var pointer: OpaquePointer?
        guard EVP_PKEY_fromdata_init(context) == 1,
            EVP_PKEY_fromdata(context, &pointer, CHAT_EVP_PKEY_PUBLIC_KEY, parameters) == 1, let pointer
        else { throw .invalidKey("OpenSSL rejected the RSA parameters: \(OpenSSLError.drain())") }
        return PKey(pointer)
    }
}
