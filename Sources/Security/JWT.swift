/// The registered claims this server issues and requires (RFC 7519 §4.1), plus `sid`.
///
/// The `Codable` conformance is the plain field mapping (for storage or debugging); token
/// verification does not use it but ``JWTVerifier``'s strict parser.
public struct JWTClaims: Codable, Sendable, Equatable {
    /// Subject: the user id (RFC 7519 §4.1.2).
    public var sub: String
    /// Issued at, seconds since the epoch (RFC 7519 §4.1.6).
    public var iat: Int
    /// Not before, seconds since the epoch (RFC 7519 §4.1.5).
    public var nbf: Int
    /// Expiration time, seconds since the epoch (RFC 7519 §4.1.4).
    public var exp: Int
    /// Unique token id (RFC 7519 §4.1.7), e.g. for revocation lists.
    public var jti: String
    /// Issuer (RFC 7519 §4.1.1), compared exactly.
    public var iss: String
    /// Audience (RFC 7519 §4.1.3). Emitted as a single string; verification also accepts an array
    /// that contains the expected audience.
    public var aud: String
    /// Session id: the refresh-token family this access token was issued from, so revoking the
    /// session can reject its access tokens.
    public var sid: String?

    public init(
        sub: String, iat: Int, nbf: Int, exp: Int, jti: String, iss: String, aud: String, sid: String? = nil
    ) {
        self.sub = sub
        self.iat = iat
        self.nbf = nbf
        self.exp = exp
        self.jti = jti
        self.iss = iss
        self.aud = aud
        self.sid = sid
    }

    /// The claims set as compact JSON (RFC 7519 §7.1 step 1).
    var json: String {
        var members = [
            "\"iss\":" + JSONWriter.quoted(iss),
            "\"sub\":" + JSONWriter.quoted(sub),
            "\"aud\":" + JSONWriter.quoted(aud),
            "\"iat\":\(iat)",
            "\"nbf\":\(nbf)",
            "\"exp\":\(exp)",
            "\"jti\":" + JSONWriter.quoted(jti),
        ]
        if let sid { members.append("\"sid\":" + JSONWriter.quoted(sid)) }
        return "{" + members.joined(separator: ",") + "}"
    }
}

/// Why a token was rejected. Callers should answer 401 for all of them alike and log the case.
public enum JWTError: Error, Sendable, Equatable {
    /// Not three base64url parts of JSON objects, too long, duplicate members, a wrong-typed claim,
    /// or a header parameter this verifier refuses (`crit`, `jku`, `jwk`, `x5u`, `x5c`, bad `typ`).
    case malformed
    /// `alg` is anything but exactly "RS256" (RFC 8725 §3.1): `none`, HMAC, other RSA variants.
    case unsupportedAlgorithm
    /// No `kid`, or a `kid` not in the verifier's key set.
    case unknownKey
    /// The signature does not verify with the key named by `kid`.
    case badSignature
    /// `exp` plus leeway has passed (RFC 7519 §4.1.4).
    case expired
    /// `nbf` minus leeway is still in the future (RFC 7519 §4.1.5).
    case notYetValid
    /// `iss` differs from the expected issuer (RFC 8725 §3.8).
    case wrongIssuer
    /// `aud` neither is nor contains the expected audience (RFC 7519 §4.1.3, RFC 8725 §3.9).
    case wrongAudience
    /// A required claim is absent (or an empty string for `sub`/`jti`).
    case missingClaim(String)
}

/// Issues compact JWS tokens (RFC 7515 §7.1) signed with RS256.
public struct JWTSigner: Sendable {
    /// Key id placed in every header so verifiers pick the right key (RFC 7515 §4.1.4).
    public let kid: String
    private let key: RSAPrivateKey
    /// The encoded header is the same for every token: built once.
    private let encodedHeader: String

    public init(kid: String, key: RSAPrivateKey) {
        self.kid = kid
        self.key = key
        // RFC 7519 §5.1 recommends typ "JWT"; alg is fixed (RFC 8725 §2.1: never let input choose it).
        let header = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":" + JSONWriter.quoted(kid) + "}"
        encodedHeader = Base64URL.encode(header.utf8)
    }

    /// `base64url(header).base64url(claims).base64url(signature)`.
    public func sign(_ claims: JWTClaims) throws(CryptoError) -> String {
        let signingInput = encodedHeader + "." + Base64URL.encode(claims.json.utf8)
        let signature = try key.signRS256(signingInput.utf8)
        return signingInput + "." + Base64URL.encode(signature)
    }
}

/// Verifies RS256 access tokens against a fixed key set, issuer and audience, following the JWT
/// BCP (RFC 8725).
///
/// The verifier decides the algorithm, never the token: `alg` must be exactly "RS256" and the key is
/// looked up only by `kid` in the configured set; `jku`, `jwk`, `x5u`, `x5c` and `crit` headers are
/// refused, so a token can never supply its own key. The signature is checked over the received
/// ASCII `header.payload` before any claim is read. Immutable and cheap to share between threads;
/// build a new one when the key set changes (key rotation).
public struct JWTVerifier: Sendable {
    /// Tokens longer than this are rejected before any decoding work (bounds CPU and memory per request).
    public static let maximumTokenLength = 8 * 1024

    private let keys: [String: RSAPublicKey]
    private let issuer: String
    private let audience: String
    private let leeway: Int

    /// - Parameter leeway: seconds of clock skew tolerated on `exp` and `nbf` (RFC 7519 §4.1.4 allows
    ///   "some small leeway").
    public init(keys: [String: RSAPublicKey], issuer: String, audience: String, leeway: Int = 30) {
        precondition(leeway >= 0, "negative leeway")
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
    }

    /// The claims of `token` if it is valid at `now` (seconds since the epoch).
    public func verify(_ token: String, now: Int) throws(JWTError) -> JWTClaims {
        guard token.utf8.count <= Self.maximumTokenLength else { throw .malformed }
        var token = token
        // withUTF8 only rethrows untyped errors: carry the typed one out in a Result.
        let result = token.withUTF8 { bytes in Result { () throws(JWTError) in try verify(bytes, now: now) } }
        return try result.get()
    }

    private func verify(_ token: UnsafeBufferPointer<UInt8>, now: Int) throws(JWTError) -> JWTClaims {
        // Compact serialization: exactly three parts (RFC 7515 §7.1); five would be JWE (RFC 7516).
        guard let firstDot = token.firstIndex(of: UInt8(ascii: ".")) else { throw .malformed }
        let rest = UnsafeBufferPointer(rebasing: token[(firstDot + 1)...])
        guard let secondDotInRest = rest.firstIndex(of: UInt8(ascii: ".")) else { throw .malformed }
        let secondDot = firstDot + 1 + secondDotInRest
        guard !token[(secondDot + 1)...].contains(UInt8(ascii: ".")) else { throw .malformed }

        let header = try decodeObject(UnsafeBufferPointer(rebasing: token[..<firstDot]))
        let key = try checkHeader(header)

        guard let signature = Base64URL.decode(bytes: UnsafeBufferPointer(rebasing: token[(secondDot + 1)...])) else {
            throw .malformed
        }
        let signingInput = UnsafeBufferPointer(rebasing: token[..<secondDot])
        let verified = signature.withUnsafeBufferPointer { signature in
            key.verifyRS256(signature: signature, message: signingInput)
        }
        guard verified else { throw .badSignature }

        // Only now, with the signature checked, is the payload looked at.
        let payload = try decodeObject(UnsafeBufferPointer(rebasing: token[(firstDot + 1)..<secondDot]))
        return try checkClaims(payload, now: now)
    }

    /// Base64url-decodes a part and parses it as a JSON object.
    private func decodeObject(_ part: UnsafeBufferPointer<UInt8>) throws(JWTError) -> [String: JSONValue] {
        guard !part.isEmpty, let json = Base64URL.decode(bytes: part),
            case .object(let members)? = try? JSONParser.parse(json)
        else { throw .malformed }
        return members
    }

    /// Applies the header rules and returns the key to verify with.
    private func checkHeader(_ header: [String: JSONValue]) throws(JWTError) -> RSAPublicKey {
        // RFC 8725 §3.1: exactly the one expected algorithm; a case-variant or "none" is not it.
        guard header["alg"] == .string("RS256") else { throw .unsupportedAlgorithm }
        // Keys come only from our configuration, never from the token (RFC 8725 §3.10 / §2.6). `crit`
        // names extensions we do not implement, which RFC 7515 §4.1.11 says must make the token invalid.
        for refused in ["jku", "jwk", "x5u", "x5c", "crit"] where header[refused] != nil { throw .malformed }
        if let typ = header["typ"] {
            // RFC 7519 §5.1: "JWT", compared case-insensitively (it is a media type, RFC 7515 §4.1.9).
            guard case .string(let value) = typ, value.lowercased() == "jwt" else { throw .malformed }
        }
        guard case .string(let kid)? = header["kid"], let key = keys[kid] else { throw .unknownKey }
        return key
    }

    private func checkClaims(_ payload: [String: JSONValue], now: Int) throws(JWTError) -> JWTClaims {
        let exp = try integer("exp", in: payload)
        let nbf = try integer("nbf", in: payload)
        let iat = try integer("iat", in: payload)
        let iss = try string("iss", in: payload)
        let sub = try string("sub", in: payload)
        let jti = try string("jti", in: payload)
        let sid: String?
        switch payload["sid"] {
        case nil: sid = nil
        case .string(let value)?: sid = value
        default: throw .malformed
        }
        guard let audience = payload["aud"] else { throw .missingClaim("aud") }
        guard !sub.isEmpty else { throw .missingClaim("sub") }
        guard !jti.isEmpty else { throw .missingClaim("jti") }

        // Saturating so that extreme claim values cannot overflow (and trap) the comparison.
        guard now <= exp.addingSaturating(leeway) else { throw .expired }
        guard now.addingSaturating(leeway) >= nbf else { throw .notYetValid }
        guard iss == issuer else { throw .wrongIssuer }
        switch audience {
        case .string(let value):
            guard value == self.audience else { throw .wrongAudience }
        case .array(let values):
            var found = false
            for value in values {
                guard case .string(let entry) = value else { throw .malformed }
                if entry == self.audience { found = true }
            }
            guard found else { throw .wrongAudience }
        default:
            throw .malformed
        }
        return JWTClaims(sub: sub, iat: iat, nbf: nbf, exp: exp, jti: jti, iss: iss, aud: self.audience, sid: sid)
    }

    /// A required NumericDate claim (RFC 7519 §2): a JSON integer, never a string or fraction.
    private func integer(_ name: String, in payload: [String: JSONValue]) throws(JWTError) -> Int {
        switch payload[name] {
        case nil: throw .missingClaim(name)
        case .integer(let value)?: return value
        default: throw .malformed
        }
    }

    private func string(_ name: String, in payload: [String: JSONValue]) throws(JWTError) -> String {
        switch payload[name] {
        case nil: throw .missingClaim(name)
        case .string(let value)?: return value
        default: throw .malformed
        }
    }
}

extension Int {
    fileprivate func addingSaturating(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }
}
