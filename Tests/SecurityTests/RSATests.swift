import Security
import Testing

@Suite struct RSATests {
    @Test func generatedKeyRoundTripsThroughPKCS8PEM() throws {
        let key = try RSAPrivateKey.generate()
        #expect(key.publicKey.bits == 2048)
        let pem = key.pem
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        let reloaded = try RSAPrivateKey(pem: pem)
        #expect(reloaded.pem == pem)
        #expect(reloaded.publicKey.pem == key.publicKey.pem)
        #expect(key.publicKey.pem.hasPrefix("-----BEGIN PUBLIC KEY-----\n"))
    }

    @Test func generateRejectsSmallKeys() {
        #expect(throws: CryptoError.keyTooSmall(bits: 1024)) { try RSAPrivateKey.generate(bits: 1024) }
        #expect(throws: CryptoError.keyTooLarge(bits: 16384)) { try RSAPrivateKey.generate(bits: 16384) }
    }

    @Test func readsPKCS1PEMFromOpenSSL() throws {
        let key = try RSAPrivateKey(pem: Fixtures.rsa2048PKCS1)
        #expect(key.publicKey.bits == 2048)
        // Written back as PKCS#8, and that parses to the same key.
        #expect(key.pem.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(try RSAPrivateKey(pem: key.pem).publicKey.der == key.publicKey.der)
    }

    @Test(arguments: [
        (Fixtures.rsa1024PKCS1, CryptoError.keyTooSmall(bits: 1024)),
        (Fixtures.ecPrivate, CryptoError.unsupportedKeyType),
        (Fixtures.rsaPSSPrivate, CryptoError.unsupportedKeyType),
    ])
    func privateKeyRejects(pem: String, error: CryptoError) {
        #expect(throws: error) { try RSAPrivateKey(pem: pem) }
    }

    @Test(arguments: [
        (Fixtures.rsa1024Public, CryptoError.keyTooSmall(bits: 1024)), (Fixtures.ecPublic, .unsupportedKeyType),
    ])
    func publicKeyRejects(pem: String, error: CryptoError) {
        #expect(throws: error) { try RSAPublicKey(pem: pem) }
    }

    @Test(arguments: [
        "", "garbage", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        // A public key is not a private key.
        Fixtures.ecPublic,
    ])
    func unparseablePrivateKeysThrow(pem: String) {
        #expect(throws: CryptoError.self) { try RSAPrivateKey(pem: pem) }
    }

    @Test func encryptedPEMIsRejectedWithoutPrompting() throws {
        // An encrypted PKCS#8 header with junk inside: OpenSSL must not ask for a passphrase.
        let encrypted = """
            -----BEGIN ENCRYPTED PRIVATE KEY-----
            MIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQIAAAAAAAAAAACAggA
            -----END ENCRYPTED PRIVATE KEY-----

            """
        #expect(throws: CryptoError.self) { try RSAPrivateKey(pem: encrypted) }
    }

    @Test func publicKeyPEMRoundTrips() throws {
        let key = try RSAPrivateKey(pem: Fixtures.rsa2048PKCS1)
        let publicKey = try RSAPublicKey(pem: key.publicKey.pem)
        #expect(publicKey.pem == key.publicKey.pem)
        #expect(publicKey.bits == 2048)
    }

    @Test func jwkMatchesOpenSSLAndRoundTrips() throws {
        let key = try RSAPrivateKey(pem: Fixtures.rsa2048PKCS1)
        let jwk = key.publicKey.jwk(kid: "k1")
        #expect(jwk == JWK(kty: "RSA", use: "sig", alg: "RS256", kid: "k1", n: Fixtures.rsa2048Modulus, e: "AQAB"))
        let rebuilt = try RSAPublicKey(jwk: jwk)
        #expect(rebuilt.pem == key.publicKey.pem)
        #expect(rebuilt.jwk(kid: "k1") == jwk)
        // Without the optional members too.
        let bare = JWK(kty: "RSA", kid: "k1", n: jwk.n, e: jwk.e)
        #expect(try RSAPublicKey(jwk: bare).pem == key.publicKey.pem)
    }

    @Test func jwkRejectsBadKeys() throws {
        let good = try RSAPrivateKey(pem: Fixtures.rsa2048PKCS1).publicKey.jwk(kid: "k")
        var cases: [JWK] = []
        var wrongType = good
        wrongType.kty = "EC"
        cases.append(wrongType)
        var wrongUse = good
        wrongUse.use = "enc"
        cases.append(wrongUse)
        var wrongAlg = good
        wrongAlg.alg = "RS512"
        cases.append(wrongAlg)
        var leadingZero = good
        leadingZero.n = Base64URL.encode([0] + (Base64URL.decode(good.n) ?? []))
        cases.append(leadingZero)
        var badBase64 = good
        badBase64.n = good.n + "="
        cases.append(badBase64)
        var emptyExponent = good
        emptyExponent.e = ""
        cases.append(emptyExponent)
        var evenExponent = good
        evenExponent.e = Base64URL.encode([0x01, 0x00, 0x00])
        cases.append(evenExponent)
        var smallModulus = good
        smallModulus.n = Base64URL.encode((Base64URL.decode(good.n) ?? []).prefix(128))
        cases.append(smallModulus)
        var hugeModulus = good
        hugeModulus.n = Base64URL.encode([UInt8](repeating: 0xFF, count: 2048))
        cases.append(hugeModulus)
        for jwk in cases {
            #expect(throws: CryptoError.self, "\(jwk)") { try RSAPublicKey(jwk: jwk) }
        }
    }

    @Test func signatureMatchesOpenSSLByteForByte() throws {
        let key = try RSAPrivateKey(pem: Fixtures.rsa2048PKCS1)
        let signature = try key.signRS256(Array("hello".utf8))
        #expect(Base64URL.encode(signature) == Fixtures.helloSignature)
    }

    @Test func signAndVerify() throws {
        let key = try RSAPrivateKey(pem: Fixtures.rsa2048PKCS1)
        let message = Array("the message".utf8)
        let signature = try key.signRS256(message)
        #expect(signature.count == 256)
        #expect(key.publicKey.verifyRS256(signature: signature, message: message))
        #expect(key.publicKey.verifyRS256(signature: signature, message: "the message".utf8))

        #expect(!key.publicKey.verifyRS256(signature: signature, message: Array("the messagf".utf8)))
        var flipped = signature
        flipped[100] ^= 0x01
        #expect(!key.publicKey.verifyRS256(signature: flipped, message: message))
        #expect(!key.publicKey.verifyRS256(signature: signature.dropLast(), message: message))
        #expect(!key.publicKey.verifyRS256(signature: [UInt8](), message: message))
        #expect(!key.publicKey.verifyRS256(signature: [UInt8](repeating: 0, count: 256), message: message))

        let other = try RSAPrivateKey.generate()
        #expect(!other.publicKey.verifyRS256(signature: signature, message: message))
    }
}
