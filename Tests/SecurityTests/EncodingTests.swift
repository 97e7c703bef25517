import Security
import Testing

@Suite struct Base64URLTests {
    /// RFC 4648 §10 test vectors (unpadded).
    @Test(arguments: [
        ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"),
        ("foobar", "Zm9vYmFy"),
    ])
    func rfc4648Vectors(plain: String, encoded: String) {
        #expect(Base64URL.encode(plain.utf8) == encoded)
        #expect(Base64URL.decode(encoded) == Array(plain.utf8))
    }

    /// The URL-safe alphabet uses '-' and '_' where standard base64 has '+' and '/'.
    @Test(
        arguments: [
            ([0xFB, 0xFF], "-_8"), ([0xFB, 0xFF, 0xBF], "-_-_"), ([0xFF], "_w"), ([0x00, 0x00, 0x00], "AAAA"),
        ] as [([UInt8], String)])
    func urlSafeCharacters(bytes: [UInt8], encoded: String) {
        #expect(Base64URL.encode(bytes) == encoded)
        #expect(Base64URL.decode(encoded) == bytes)
    }

    @Test func allByteValuesRoundTrip() {
        let bytes = (0...255).map { UInt8($0) }
        for length in 0...bytes.count {
            let prefix = Array(bytes.prefix(length))
            let encoded = Base64URL.encode(prefix)
            #expect(!encoded.contains("="))
            #expect(Base64URL.decode(encoded) == prefix)
            // A Substring takes the same path as a String.
            #expect(Base64URL.decode(encoded[...]) == prefix)
        }
    }

    @Test(arguments: [
        "Zg==",  // padding
        "Zm8=",
        "Zm9v\n",  // whitespace
        " Zm9v",
        "Zm 9v",
        "Zm9v+A",  // standard-alphabet characters
        "Zm9v/A",
        "Z",  // a single leftover character cannot encode a byte
        "Zm9vY",
        "Zh",  // non-zero trailing bits: not the canonical encoding of "f"
        "Zm9",
        "Zm9v\u{FF}A",  // non-ASCII
        "Zm9v.A",
        "Zm9v\u{0}A",
    ])
    func rejectsNonCanonicalText(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }
}

@Suite struct DigestTests {
    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("héllo", "3c48591d8d098a4538f5e013dfcf406e948eac4d3277b10bf614e295d6068179"),
    ])
    func sha256(text: String, expected: String) {
        #expect(hex(Digest.sha256(Array(text.utf8))) == expected)
        #expect(hex(Digest.sha256(text.utf8)) == expected)  // a non-Array collection
        #expect(Digest.sha256Hex(text) == expected)
    }

    @Test(arguments: [
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        // RFC 6455 §1.3: the WebSocket accept key for the sample nonce ("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=").
        ("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11", "b37a4f2cc0624f1690f64606cf385945b2bec4ea"),
    ])
    func sha1(text: String, expected: String) {
        #expect(hex(Digest.sha1(Array(text.utf8))) == expected)
    }

    /// RFC 4231 §4.2 (test case 1) and §4.3 (test case 2).
    @Test(
        arguments: [
            (
                [UInt8](repeating: 0x0B, count: 20), "Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
            ),
            (
                Array("Jefe".utf8), "what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
            ),
        ] as [([UInt8], String, String)])
    func hmacSHA256(key: [UInt8], message: String, expected: String) {
        #expect(hex(Digest.hmacSHA256(key: key, message: Array(message.utf8))) == expected)
    }

    @Test func constantTimeEqualComparesContentAndLength() {
        #expect(constantTimeEqual([UInt8](), [UInt8]()))
        #expect(constantTimeEqual([1, 2, 3] as [UInt8], [1, 2, 3] as [UInt8]))
        #expect(constantTimeEqual("abc".utf8, [0x61, 0x62, 0x63] as [UInt8]))
        #expect(!constantTimeEqual([1, 2, 3] as [UInt8], [1, 2, 4] as [UInt8]))
        #expect(!constantTimeEqual([1, 2, 3] as [UInt8], [0, 2, 3] as [UInt8]))
        #expect(!constantTimeEqual([1, 2, 3] as [UInt8], [1, 2] as [UInt8]))
        #expect(!constantTimeEqual([UInt8](), [0] as [UInt8]))
    }
}

@Suite struct SecureRandomTests {
    @Test func bytesHaveTheRequestedCountAndDiffer() {
        #expect(SecureRandom.bytes(0).isEmpty)
        #expect(SecureRandom.bytes(1).count == 1)
        let a = SecureRandom.bytes(32)
        let b = SecureRandom.bytes(32)
        #expect(a.count == 32)
        // 2^-256 chance of a false failure.
        #expect(a != b)
    }

    @Test func tokenIsUnpaddedBase64URLOfTheRequestedSize() {
        let token = SecureRandom.token()
        #expect(token.count == 43)  // 32 bytes
        #expect(Base64URL.decode(token)?.count == 32)
        #expect(SecureRandom.token(byteCount: 16).count == 22)
        #expect(SecureRandom.token() != token)
    }
}
