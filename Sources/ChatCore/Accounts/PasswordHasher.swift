import Security

/// How account passwords become bcrypt hashes.
///
/// Passwords of up to 72 bytes are given to bcrypt as they are, so stored hashes are plain `$2b$` hashes that
/// other bcrypt implementations (Python's `bcrypt`, for one) verify, and hashes they made verify here.
/// bcrypt reads only the first 72 bytes, though, and the rules allow up to 128: two longer passwords sharing a
/// 72-byte prefix would be interchangeable. Those are given to bcrypt as the base64url SHA-256 of the whole
/// password (43 ASCII bytes, never NUL) instead. The choice depends only on the password's length, so
/// verification makes the same one. (Other bcrypt libraries refuse or truncate such passwords anyway.)
///
/// Both functions are blocking CPU work (about 0.2 s at cost 12): call them on the worker pool only.
enum PasswordHasher {
    /// bcrypt's input limit in bytes.
    static let bcryptLimit = 72

    static func bcryptInput(_ password: String) -> String {
        guard password.utf8.count > bcryptLimit else { return password }
        return Base64URL.encode(Digest.sha256(Array(password.utf8)))
    }

    static func hash(_ password: String, cost: Int) throws(BCryptError) -> String {
        try BCrypt.hash(bcryptInput(password), cost: cost)
    }

    static func verify(_ password: String, hash: String) -> Bool {
        BCrypt.verify(bcryptInput(password), hash: hash)
    }
}
