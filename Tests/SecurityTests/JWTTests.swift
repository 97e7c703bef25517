import Security
import Testing

/// Shared material for the JWT tests: the fixture key and a second, unrelated key.
enum JWTFixture {
    static let issuer = "https://chat.example"
    static let audience = "chat-api"
    static let kid = "key-1"
    static let now = 1_700_000_000

    static func key() throws -> RSAPrivateKey { try RSAPrivateKey(pem: Fixtures.rsa2048PKCS1) }

    /// Generated once per test process (global initialization is thread-safe and lazy).
    static let otherKey: RSAPrivateKey? = try? RSAPrivateKey.generate()

    static func verifier(leeway: Int = 30) throws -> JWTVerifier {
        JWTVerifier(keys: [kid: try key().publicKey], issuer: issuer, audience: audience, leeway: leeway)
    }

    static func claims(sid: String? = "session-1") -> JWTClaims {
        JWTClaims(sub: "alice", iat: now, nbf: now, exp: now + 900, jti: "jti-1", iss: issuer, aud: audience, sid: sid)
    }

    /// Registered claims as raw JSON member values, in output order.
    static let payloadMembers: [(String, String)] = [
        ("iss", "\"\(issuer)\""), ("sub", "\"alice\""), ("aud", "\"\(audience)\""), ("iat", "\(now)"),
        ("nbf", "\(now)"), ("exp", "\(now + 900)"), ("jti", "\"jti-1\""),
    ]

    /// A claims JSON object with some members replaced or added (raw JSON text) and some removed.
    static func payload(_ overrides: [String: String] = [:], removing: Set<String> = []) -> String {
        var members: [String] = []
        for (name, value) in payloadMembers where !removing.contains(name) {
            members.append("\"\(name)\":" + (overrides[name] ?? value))
        }
        for (name, value) in overrides.sorted(by: { $0.key < $1.key })
        where !payloadMembers.contains(where: { $0.0 == name }) {
            members.append("\"\(name)\":\(value)")
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    static let header = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"\(kid)\"}"

    /// A compact JWS over arbitrary header and payload text, correctly RS256-signed with `key`:
    /// models a token whose signature is fine but whose content must still be refused.
    static func signed(header: String = header, payload: String = payload(), with key: RSAPrivateKey? = nil) throws
        -> String
    {
        let input = Base64URL.encode(header.utf8) + "." + Base64URL.encode(payload.utf8)
        let signature = try (key ?? self.key()).signRS256(Array(input.utf8))
        return input + "." + Base64URL.encode(signature)
    }

    /// A compact JWS whose third part is HMAC-SHA-256 under `secret`.
    static func hmacSigned(header: String, secret: [UInt8]) -> String {
        let input = Base64URL.encode(header.utf8) + "." + Base64URL.encode(payload().utf8)
        return input + "." + Base64URL.encode(Digest.hmacSHA256(key: secret, message: Array(input.utf8)))
    }
}

/// One forged or invalid token and the error it must produce.
struct Attack: Sendable, CustomTestStringConvertible {
    let name: String
    let expected: JWTError
    let token: @Sendable () throws -> String

    var testDescription: String { name }

    init(_ name: String, _ expected: JWTError, _ token: @escaping @Sendable () throws -> String) {
        self.name = name
        self.expected = expected
        self.token = token
    }

    typealias F = JWTFixture

    static func header(_ members: String) -> String { "{" + members + "}" }

    static let all: [Attack] = [
        // RFC 8725 §2.1 / §3.1: the token must not pick the algorithm.
        Attack("alg none without signature", .unsupportedAlgorithm) {
            Base64URL.encode(header("\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"key-1\"").utf8) + "."
                + Base64URL.encode(F.payload().utf8) + "."
        },
        Attack("alg none with a signature part", .unsupportedAlgorithm) {
            let valid = try F.signed().split(separator: ".")
            return Base64URL.encode(header("\"alg\":\"none\",\"kid\":\"key-1\"").utf8) + "." + valid[1] + "." + valid[2]
        },
        Attack("alg None", .unsupportedAlgorithm) {
            try F.signed(header: header("\"alg\":\"None\",\"kid\":\"key-1\""))
        },
        Attack("alg NONE", .unsupportedAlgorithm) {
            try F.signed(header: header("\"alg\":\"NONE\",\"kid\":\"key-1\""))
        },
        Attack("alg rs256", .unsupportedAlgorithm) {
            try F.signed(header: header("\"alg\":\"rs256\",\"kid\":\"key-1\""))
        },
        Attack("alg RS512", .unsupportedAlgorithm) {
            try F.signed(header: header("\"alg\":\"RS512\",\"kid\":\"key-1\""))
        },
        Attack("alg PS256", .unsupportedAlgorithm) {
            try F.signed(header: header("\"alg\":\"PS256\",\"kid\":\"key-1\""))
        },
        Attack("alg missing", .unsupportedAlgorithm) { try F.signed(header: header("\"kid\":\"key-1\"")) },
        Attack("alg not a string", .unsupportedAlgorithm) {
            try F.signed(header: header("\"alg\":[\"RS256\"],\"kid\":\"key-1\""))
        },
        Attack("alg with trailing space", .unsupportedAlgorithm) {
            try F.signed(header: header("\"alg\":\"RS256 \",\"kid\":\"key-1\""))
        },
        // Key confusion: HMAC keyed with the public key, as a naive library would verify HS256.
        Attack("HS256 keyed with the public key PEM", .unsupportedAlgorithm) {
            F.hmacSigned(
                header: header("\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"key-1\""),
                secret: Array(try F.key().publicKey.pem.utf8))
        },
        Attack("HS256 keyed with the public key DER", .unsupportedAlgorithm) {
            F.hmacSigned(
                header: header("\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"key-1\""), secret: try F.key().publicKey.der
            )
        },
        Attack("HS256 header with an RS256 signature", .unsupportedAlgorithm) {
            try F.signed(header: header("\"alg\":\"HS256\",\"kid\":\"key-1\""))
        },
        // Signature tampering.
        Attack("stripped signature", .badSignature) {
            let valid = try F.signed()
            return String(valid[..<(valid.lastIndex(of: ".") ?? valid.endIndex)]) + "."
        },
        Attack("signature by another key under our kid", .badSignature) {
            guard let other = F.otherKey else { throw CryptoError.operationFailed("no second key") }
            return try F.signed(with: other)
        },
        Attack("payload changed, signature kept", .badSignature) {
            let valid = try F.signed().split(separator: ".")
            let forged = Base64URL.encode(F.payload(["sub": "\"admin\""]).utf8)
            return valid[0] + "." + forged + "." + valid[2]
        },
        Attack("header re-encoded with the same meaning, signature kept", .badSignature) {
            let valid = try F.signed().split(separator: ".")
            let reordered = Base64URL.encode("{\"kid\":\"key-1\",\"typ\":\"JWT\",\"alg\":\"RS256\"}".utf8)
            return reordered + "." + valid[1] + "." + valid[2]
        },
        Attack("signature bit flipped", .badSignature) {
            let valid = try F.signed().split(separator: ".")
            var signature = Base64URL.decode(valid[2]) ?? []
            signature[signature.count / 2] ^= 0x80
            return valid[0] + "." + valid[1] + "." + Base64URL.encode(signature)
        },
        Attack("signature truncated", .badSignature) {
            let valid = try F.signed().split(separator: ".")
            return valid[0] + "." + valid[1] + "." + Base64URL.encode((Base64URL.decode(valid[2]) ?? []).dropLast())
        },
        // Key selection: only our configured keys, never keys carried in the token (RFC 8725 §3.10).
        Attack("unknown kid", .unknownKey) { try F.signed(header: header("\"alg\":\"RS256\",\"kid\":\"key-2\"")) },
        Attack("missing kid", .unknownKey) { try F.signed(header: header("\"alg\":\"RS256\",\"typ\":\"JWT\"")) },
        Attack("kid not a string", .unknownKey) { try F.signed(header: header("\"alg\":\"RS256\",\"kid\":1")) },
        Attack("jku header", .malformed) {
            try F.signed(header: header("\"alg\":\"RS256\",\"kid\":\"key-1\",\"jku\":\"https://evil.example/jwks\""))
        },
        Attack("jwk header", .malformed) {
            let jwk = try F.key().publicKey.jwk(kid: "key-1")
            return try F.signed(
                header: header(
                    "\"alg\":\"RS256\",\"kid\":\"key-1\",\"jwk\":{\"kty\":\"RSA\",\"n\":\"\(jwk.n)\",\"e\":\"AQAB\"}"))
        },
        Attack("x5u header", .malformed) {
            try F.signed(header: header("\"alg\":\"RS256\",\"kid\":\"key-1\",\"x5u\":\"https://evil.example/cert\""))
        },
        Attack("x5c header", .malformed) {
            try F.signed(header: header("\"alg\":\"RS256\",\"kid\":\"key-1\",\"x5c\":[\"MIIB\"]"))
        },
        Attack("crit header", .malformed) {
            try F.signed(header: header("\"alg\":\"RS256\",\"kid\":\"key-1\",\"crit\":[\"exp\"],\"exp\":1"))
        },
        Attack("typ JOSE+JSON", .malformed) {
            try F.signed(header: header("\"alg\":\"RS256\",\"kid\":\"key-1\",\"typ\":\"JOSE+JSON\""))
        },
        Attack("typ not a string", .malformed) {
            try F.signed(header: header("\"alg\":\"RS256\",\"kid\":\"key-1\",\"typ\":null"))
        },
        // Duplicate member names: a parser differential could read the other one (RFC 7515 §5.2).
        Attack("duplicate alg", .malformed) {
            try F.signed(header: header("\"alg\":\"RS256\",\"kid\":\"key-1\",\"alg\":\"RS256\""))
        },
        Attack("duplicate alg spelled with an escape", .malformed) {
            try F.signed(header: header("\"alg\":\"RS256\",\"kid\":\"key-1\",\"\\u0061lg\":\"none\""))
        },
        Attack("header with a byte order mark", .malformed) {
            try F.signed(header: "\u{FEFF}" + F.header)
        },
        Attack("duplicate sub", .malformed) {
            try F.signed(payload: String(F.payload().dropLast()) + ",\"sub\":\"admin\"}")
        },
        Attack("duplicate exp", .malformed) {
            try F.signed(payload: String(F.payload().dropLast()) + ",\"exp\":99999999999}")
        },
        // Time, issuer, audience.
        Attack("expired beyond leeway", .expired) { try F.signed(payload: F.payload(["exp": "\(F.now - 31)"])) },
        Attack("not yet valid beyond leeway", .notYetValid) {
            try F.signed(payload: F.payload(["nbf": "\(F.now + 31)"]))
        },
        Attack("wrong issuer", .wrongIssuer) { try F.signed(payload: F.payload(["iss": "\"https://evil.example\""])) },
        Attack("issuer differs in case", .wrongIssuer) {
            try F.signed(payload: F.payload(["iss": "\"https://Chat.example\""]))
        },
        Attack("wrong audience", .wrongAudience) { try F.signed(payload: F.payload(["aud": "\"other-api\""])) },
        Attack("audience array without ours", .wrongAudience) {
            try F.signed(payload: F.payload(["aud": "[\"a\",\"b\"]"]))
        },
        Attack("empty audience array", .wrongAudience) { try F.signed(payload: F.payload(["aud": "[]"])) },
        Attack("audience array with a non-string", .malformed) {
            try F.signed(payload: F.payload(["aud": "[\"chat-api\",1]"]))
        },
        // Claim types: NumericDate is a JSON integer (RFC 7519 §2).
        Attack("exp as a string", .malformed) { try F.signed(payload: F.payload(["exp": "\"\(F.now + 900)\""])) },
        Attack("exp as a fraction", .malformed) { try F.signed(payload: F.payload(["exp": "\(F.now + 900).5"])) },
        Attack("exp with an exponent", .malformed) { try F.signed(payload: F.payload(["exp": "1.7e9"])) },
        Attack("exp beyond Int", .malformed) { try F.signed(payload: F.payload(["exp": "99999999999999999999"])) },
        Attack("nbf as a string", .malformed) { try F.signed(payload: F.payload(["nbf": "\"0\""])) },
        Attack("iat as a boolean", .malformed) { try F.signed(payload: F.payload(["iat": "true"])) },
        Attack("sub as a number", .malformed) { try F.signed(payload: F.payload(["sub": "42"])) },
        Attack("iss as null", .malformed) { try F.signed(payload: F.payload(["iss": "null"])) },
        Attack("aud as an object", .malformed) { try F.signed(payload: F.payload(["aud": "{}"])) },
        Attack("sid as a number", .malformed) { try F.signed(payload: F.payload(["sid": "7"])) },
        Attack("missing exp", .missingClaim("exp")) { try F.signed(payload: F.payload(removing: ["exp"])) },
        Attack("missing nbf", .missingClaim("nbf")) { try F.signed(payload: F.payload(removing: ["nbf"])) },
        Attack("missing iat", .missingClaim("iat")) { try F.signed(payload: F.payload(removing: ["iat"])) },
        Attack("missing iss", .missingClaim("iss")) { try F.signed(payload: F.payload(removing: ["iss"])) },
        Attack("missing aud", .missingClaim("aud")) { try F.signed(payload: F.payload(removing: ["aud"])) },
        Attack("missing sub", .missingClaim("sub")) { try F.signed(payload: F.payload(removing: ["sub"])) },
        Attack("empty sub", .missingClaim("sub")) { try F.signed(payload: F.payload(["sub": "\"\""])) },
        Attack("missing jti", .missingClaim("jti")) { try F.signed(payload: F.payload(removing: ["jti"])) },
        // Structure and encoding.
        Attack("empty token", .malformed) { "" },
        Attack("two dots only", .malformed) { ".." },
        Attack("two parts", .malformed) {
            let valid = try F.signed()
            return String(valid[..<(valid.lastIndex(of: ".") ?? valid.endIndex)])
        },
        Attack("four parts", .malformed) { try F.signed() + ".AAAA" },
        Attack("five parts (JWE shape)", .malformed) { try F.signed() + ".AAAA.AAAA" },
        Attack("padded signature", .malformed) { try F.signed() + "=" },
        Attack("whitespace around the token", .malformed) { " " + (try F.signed()) },
        Attack("bad base64 in the header", .malformed) {
            "e$J." + (try F.signed()).split(separator: ".")[1...].joined(separator: ".")
        },
        Attack("standard base64 in the signature", .malformed) {
            let valid = try F.signed().split(separator: ".")
            let standard = String(valid[2].map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
            return valid[0] + "." + valid[1] + "." + standard + "+/"
        },
        Attack("empty header", .malformed) {
            "." + (try F.signed()).split(separator: ".")[1...].joined(separator: ".")
        },
        Attack("header is a JSON array", .malformed) { try F.signed(header: "[\"RS256\"]") },
        Attack("header is not JSON", .malformed) { try F.signed(header: "alg=RS256") },
        Attack("payload is a JSON string", .malformed) { try F.signed(payload: "\"alice\"") },
        Attack("payload with trailing data", .malformed) { try F.signed(payload: F.payload() + "{}") },
        Attack("payload with a trailing comma", .malformed) {
            try F.signed(payload: String(F.payload().dropLast()) + ",}")
        },
        Attack("payload with a lone surrogate escape", .malformed) {
            try F.signed(payload: F.payload(["sub": "\"\\ud800\""]))
        },
        Attack("payload with a raw control character", .malformed) {
            try F.signed(payload: F.payload(["sub": "\"a\u{01}b\""]))
        },
        Attack("payload with a leading-zero number", .malformed) {
            try F.signed(payload: F.payload(["exp": "0\(F.now + 900)"]))
        },
        Attack("payload nested too deep", .malformed) {
            try F.signed(
                payload: F.payload(["x": String(repeating: "[", count: 100) + String(repeating: "]", count: 100)]))
        },
        Attack("oversize token", .malformed) {
            try F.signed(payload: F.payload(["pad": "\"" + String(repeating: "a", count: 6000) + "\""]))
        },
    ]
}

@Suite struct JWTTests {
    typealias F = JWTFixture

    @Test(arguments: Attack.all)
    func attackIsRejected(_ attack: Attack) throws {
        let token = try attack.token()
        let verifier = try F.verifier()
        #expect(throws: attack.expected) { try verifier.verify(token, now: F.now) }
    }

    @Test func validTokenRoundTrips() throws {
        let signer = JWTSigner(kid: F.kid, key: try F.key())
        for claims in [F.claims(), F.claims(sid: nil)] {
            let token = try signer.sign(claims)
            #expect(try F.verifier().verify(token, now: F.now) == claims)
        }
    }

    @Test func headerIsExactlyAlgTypKid() throws {
        let token = try JWTSigner(kid: F.kid, key: try F.key()).sign(F.claims())
        let encodedHeader = try #require(token.split(separator: ".").first)
        let header = try #require(Base64URL.decode(encodedHeader))
        #expect(String(decoding: header, as: UTF8.self) == "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"key-1\"}")
    }

    @Test func stringsWithEscapesRoundTrip() throws {
        var claims = F.claims()
        claims.sub = "quote\" backslash\\ newline\n tab\t nul\u{0} bell\u{7} é 😀 \u{2028}"
        claims.jti = "</script>"
        claims.sid = "{\"json\":true}"
        let kid = "kid \"with\" quotes\\"
        let signer = JWTSigner(kid: kid, key: try F.key())
        let verifier = JWTVerifier(keys: [kid: try F.key().publicKey], issuer: F.issuer, audience: F.audience)
        #expect(try verifier.verify(try signer.sign(claims), now: F.now) == claims)
    }

    /// Token made by Python and signed by the openssl CLI: different JSON layout, escapes, array aud.
    @Test func externallyProducedTokenVerifies() throws {
        let verifier = JWTVerifier(
            keys: [Fixtures.rsa2048Kid: try F.key().publicKey], issuer: "https://chat.example", audience: "chat-api")
        let claims = try verifier.verify(Fixtures.externalToken, now: 1_700_000_100)
        #expect(
            claims
                == JWTClaims(
                    sub: "user-é😀", iat: 1_700_000_000, nbf: 1_700_000_000, exp: 1_700_000_900, jti: "j-1",
                    iss: "https://chat.example", aud: "chat-api", sid: "s-9"))
        #expect(throws: JWTError.expired) { try verifier.verify(Fixtures.externalToken, now: 1_700_000_931) }
    }

    @Test(
        arguments: [
            (F.now + 900 + 30, nil), (F.now + 900 + 31, JWTError.expired), (F.now - 30, nil),
            (F.now - 31, JWTError.notYetValid), (F.now, nil),
        ] as [(Int, JWTError?)])
    func leewayBoundaries(now: Int, expected: JWTError?) throws {
        let token = try JWTSigner(kid: F.kid, key: try F.key()).sign(F.claims())
        let verifier = try F.verifier()
        if let expected {
            #expect(throws: expected) { try verifier.verify(token, now: now) }
        } else {
            #expect(try verifier.verify(token, now: now) == F.claims())
        }
    }

    @Test func zeroLeewayIsExact() throws {
        let token = try JWTSigner(kid: F.kid, key: try F.key()).sign(F.claims())
        let verifier = try F.verifier(leeway: 0)
        #expect(try verifier.verify(token, now: F.now + 900).exp == F.now + 900)
        #expect(throws: JWTError.expired) { try verifier.verify(token, now: F.now + 901) }
        #expect(throws: JWTError.notYetValid) { try verifier.verify(token, now: F.now - 1) }
    }

    @Test(arguments: ["[\"chat-api\"]", "[\"other\",\"chat-api\"]", "\"chat-api\""])
    func audienceForms(aud: String) throws {
        let token = try F.signed(payload: F.payload(["aud": aud]))
        #expect(try F.verifier().verify(token, now: F.now).aud == F.audience)
    }

    @Test(arguments: ["\"JWT\"", "\"jwt\"", "\"Jwt\""])
    func typIsCaseInsensitive(typ: String) throws {
        let token = try F.signed(header: "{\"alg\":\"RS256\",\"kid\":\"key-1\",\"typ\":\(typ)}")
        #expect(try F.verifier().verify(token, now: F.now).sub == "alice")
    }

    @Test func typMayBeAbsentAndUnknownClaimsAreIgnored() throws {
        let token = try F.signed(
            header: "{\"alg\":\"RS256\",\"kid\":\"key-1\"}",
            payload: F.payload(["roles": "[\"admin\",{\"deep\":[1.5e3,null,false]}]", "n": "-0"]))
        #expect(try F.verifier().verify(token, now: F.now).sub == "alice")
    }

    /// Extreme NumericDate values must compare without overflowing.
    @Test func extremeTimesDoNotTrap() throws {
        let farFuture = try F.signed(payload: F.payload(["exp": "\(Int.max)", "nbf": "\(Int.min)"]))
        #expect(try F.verifier().verify(farFuture, now: F.now).exp == Int.max)
        let ancient = try F.signed(payload: F.payload(["exp": "\(Int.min)"]))
        #expect(throws: JWTError.expired) { try F.verifier().verify(ancient, now: F.now) }
        let late = try F.signed(payload: F.payload(["nbf": "\(Int.max)", "exp": "\(Int.max)"]))
        #expect(throws: JWTError.notYetValid) { try F.verifier().verify(late, now: Int.max - 31) }
        // now + leeway saturates at Int.max rather than wrapping negative.
        #expect(try F.verifier().verify(late, now: Int.max - 5).nbf == Int.max)
    }

    @Test func lengthLimitBoundary() throws {
        // Length of the token for a given padding claim, computed without signing: a 2048-bit
        // signature is 256 bytes, 342 base64url characters.
        func padded(_ count: Int) -> String { F.payload(["pad": "\"" + String(repeating: "a", count: count) + "\""]) }
        func length(_ count: Int) -> Int {
            Base64URL.encode(F.header.utf8).utf8.count + 1 + Base64URL.encode(padded(count).utf8).utf8.count + 1 + 342
        }
        var largest = 0
        while length(largest + 1) <= JWTVerifier.maximumTokenLength { largest += 1 }
        let verifier = try F.verifier()
        let atLimit = try F.signed(payload: padded(largest))
        #expect(atLimit.utf8.count == length(largest))
        #expect(atLimit.utf8.count > JWTVerifier.maximumTokenLength - 2)
        #expect(try verifier.verify(atLimit, now: F.now).sub == "alice")
        let over = try F.signed(payload: padded(largest + 1))
        #expect(over.utf8.count > JWTVerifier.maximumTokenLength)
        #expect(throws: JWTError.malformed) { try verifier.verify(over, now: F.now) }
    }

    @Test func verifierOnlyUsesTheKeyNamedByKid() throws {
        let other = try #require(F.otherKey)
        let verifier = JWTVerifier(
            keys: ["a": try F.key().publicKey, "b": other.publicKey], issuer: F.issuer, audience: F.audience)
        let signedByB = try JWTSigner(kid: "b", key: other).sign(F.claims())
        #expect(try verifier.verify(signedByB, now: F.now).sub == "alice")
        // Same signature presented as kid "a": must not fall back to trying other keys.
        let relabeled = try JWTSigner(kid: "a", key: other).sign(F.claims())
        #expect(throws: JWTError.badSignature) { try verifier.verify(relabeled, now: F.now) }
    }
}
