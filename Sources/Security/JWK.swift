/// A JSON Web Key for an RSA public key (RFC 7517 §4, RFC 7518 §6.3.1): the shape served at the
/// JWKS endpoint. Only public parameters exist here; private JWKs are never produced.
public struct JWK: Codable, Sendable, Equatable {
    /// Key type: "RSA" (RFC 7517 §4.1).
    public var kty: String
    /// Intended use: "sig" (RFC 7517 §4.2).
    public var use: String?
    /// Algorithm: "RS256" (RFC 7517 §4.4).
    public var alg: String?
    /// Key id, matched against the JWS `kid` header (RFC 7517 §4.5).
    public var kid: String
    /// Modulus, minimal big-endian base64url (RFC 7518 §6.3.1.1).
    public var n: String
    /// Public exponent, minimal big-endian base64url (RFC 7518 §6.3.1.2).
    public var e: String

    public init(kty: String, use: String? = nil, alg: String? = nil, kid: String, n: String, e: String) {
        self.kty = kty
        self.use = use
        self.alg = alg
        self.kid = kid
        self.n = n
        self.e = e
    }
}

/// A JWK Set (RFC 7517 §5): `{"keys":[...]}`.
public struct JWKSet: Codable, Sendable, Equatable {
    public var keys: [JWK]

    public init(keys: [JWK]) { self.keys = keys }
}
