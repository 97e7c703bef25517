import Dispatch
import Foundation
import Security
import Testing

/// Runs `body` with a path inside a fresh temporary directory (the path itself does not exist yet).
private func withKeyDirectory(_ body: (String) throws -> Void) throws {
    let parent = FileManager.default.temporaryDirectory.appendingPathComponent("security-tests-\(UUID().uuidString)")
        .path
    try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: parent) }
    try body(parent + "/keys")
}

/// Permission bits of `path` (following symlinks), read with stat(2).
private func mode(_ path: String) throws -> mode_t {
    var info = stat()
    guard stat(path, &info) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    return info.st_mode & 0o7777
}

private func entries(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
}

/// Writes a file with mode 0600, as the key ring expects.
private func writePrivate(_ path: String, _ text: String) throws {
    #expect(
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]))
}

private let lifetime = 900

@Suite struct KeyRingTests {
    @Test func emptyDirectoryGetsOnePrivateKey() throws {
        try withKeyDirectory { directory in
            let ring = try KeyRing(directory: directory)
            let keys = ring.list()
            #expect(keys.count == 1)
            let kid = try #require(keys.first?.kid)
            #expect(keys.first?.retiredAt == nil)
            #expect(keys.first?.bits == 2048)
            #expect(ring.active.kid == kid)
            #expect(try mode(directory) == 0o700)
            #expect(try mode(directory + "/\(kid).pem") == 0o600)
            #expect(try mode(directory + "/keys.json") == 0o600)
            // No temporary files left behind.
            #expect(try entries(directory) == ["\(kid).pem", "keys.json"].sorted())
            // kid = base64url(SHA-256(DER)[0..<12]).
            let publicKey = try #require(ring.verificationKeys(now: 0, maxTokenLifetime: lifetime)[kid])
            #expect(kid == Base64URL.encode(Digest.sha256(publicKey.der).prefix(12)))
            #expect(kid.utf8.count == 16)
        }
    }

    @Test func reloadingGivesTheSameKeys() throws {
        try withKeyDirectory { directory in
            let ring = try KeyRing(directory: directory)
            let token = try ring.signer.sign(JWTFixture.claims())
            let reloaded = try KeyRing(directory: directory)
            #expect(reloaded.list() == ring.list())
            #expect(reloaded.active == ring.active)
            let verifier = JWTVerifier(
                keys: reloaded.verificationKeys(now: JWTFixture.now, maxTokenLifetime: lifetime),
                issuer: JWTFixture.issuer, audience: JWTFixture.audience)
            #expect(try verifier.verify(token, now: JWTFixture.now) == JWTFixture.claims())
        }
    }

    @Test func aRingPicksUpAnotherProcesssRotation() throws {
        try withKeyDirectory { directory in
            let server = try KeyRing(directory: directory)
            #expect(try server.reloadIfChanged() == false)  // its own writes are not news
            let tool = try KeyRing(directory: directory)  // `chat keys rotate` in another process
            let (old, new) = try tool.rotate(now: 1_000)
            #expect(server.active.kid == old)
            #expect(try server.reloadIfChanged())
            #expect(server.active.kid == new)
            #expect(server.list() == tool.list())
            #expect(try server.reloadIfChanged() == false)
            _ = try tool.prune(now: 1_000 + 10 * lifetime, maxTokenLifetime: lifetime)
            #expect(try server.reloadIfChanged())
            #expect(server.list().map(\.kid) == [new])
        }
    }

    @Test func rotationKeepsTheOldKeyForItsTokensThenPrunes() throws {
        try withKeyDirectory { directory in
            let ring = try KeyRing(directory: directory)
            let first = ring.active.kid
            let before = try ring.signer.sign(JWTFixture.claims())

            let rotatedAt = JWTFixture.now + 10
            let (old, new) = try ring.rotate(now: rotatedAt)
            #expect(old == first)
            #expect(new != first)
            #expect(ring.active.kid == new)
            #expect(ring.signer.kid == new)
            #expect(ring.list().first { $0.kid == first }?.retiredAt == rotatedAt)

            // Within the window both keys verify, and both are published.
            let during = rotatedAt + lifetime - 1
            let keys = ring.verificationKeys(now: during, maxTokenLifetime: lifetime)
            #expect(Set(keys.keys) == [first, new])
            #expect(Set(ring.jwks(now: during, maxTokenLifetime: lifetime).keys.map(\.kid)) == [first, new])
            let verifier = JWTVerifier(keys: keys, issuer: JWTFixture.issuer, audience: JWTFixture.audience)
            #expect(try verifier.verify(before, now: JWTFixture.now + 20).sub == "alice")
            let after = try ring.signer.sign(JWTFixture.claims())
            #expect(try verifier.verify(after, now: JWTFixture.now + 20).sub == "alice")

            // Nothing to prune yet; a reload sees the retirement.
            #expect(try ring.prune(now: during, maxTokenLifetime: lifetime).isEmpty)
            let reloadedList = try KeyRing(directory: directory).list()
            #expect(reloadedList == ring.list())

            // Once the window has passed, the old key is no longer trusted, then deleted.
            let end = rotatedAt + lifetime
            #expect(Set(ring.verificationKeys(now: end, maxTokenLifetime: lifetime).keys) == [new])
            #expect(ring.jwks(now: end, maxTokenLifetime: lifetime).keys.map(\.kid) == [new])
            #expect(try ring.prune(now: end, maxTokenLifetime: lifetime) == [first])
            #expect(ring.list().map(\.kid) == [new])
            #expect(try entries(directory) == ["\(new).pem", "keys.json"].sorted())
            #expect(try KeyRing(directory: directory).list().map(\.kid) == [new])
        }
    }

    @Test func generateAddsANewActiveKeyWithoutRetiring() throws {
        try withKeyDirectory { directory in
            let ring = try KeyRing(directory: directory)
            let first = ring.active.kid
            let second = try ring.generate(now: KeyRing.currentTime() + 1)
            #expect(ring.active.kid == second)
            #expect(ring.list().allSatisfy { $0.retiredAt == nil })
            #expect(Set(ring.verificationKeys(now: 0, maxTokenLifetime: 0).keys) == [first, second])
            #expect(try KeyRing(directory: directory).active.kid == second)
        }
    }

    @Test func jwksServesPublicParametersOnly() throws {
        try withKeyDirectory { directory in
            let ring = try KeyRing(directory: directory)
            let set = ring.jwks(now: 0, maxTokenLifetime: lifetime)
            let json = String(decoding: try JSONEncoder().encode(set), as: UTF8.self)
            #expect(json.contains("\"kty\":\"RSA\""))
            #expect(!json.contains("\"d\""))
            let decoded = try JSONDecoder().decode(JWKSet.self, from: Data(json.utf8))
            #expect(decoded == set)
            let jwk = try #require(decoded.keys.first)
            #expect(try RSAPublicKey(jwk: jwk).der == ring.verificationKeys(now: 0, maxTokenLifetime: 0)[jwk.kid]?.der)
        }
    }

    @Test func emptyDirectoryWithoutGenerationThrows() throws {
        try withKeyDirectory { directory in
            #expect(throws: KeyRingError.noActiveKey) { try KeyRing(directory: directory, generateIfEmpty: false) }
        }
    }

    /// A key placed by hand (from openssl) loads, and its kid matches one computed independently.
    @Test func loadsAnOpenSSLKeyWithItsIndependentlyComputedKid() throws {
        try withKeyDirectory { directory in
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            try writePrivate(directory + "/\(Fixtures.rsa2048Kid).pem", Fixtures.rsa2048PKCS1)
            try writePrivate(directory + "/keys.json", "[{\"kid\":\"\(Fixtures.rsa2048Kid)\",\"created_at\":5}]")
            let ring = try KeyRing(directory: directory, generateIfEmpty: false)
            #expect(ring.list() == [KeyInfo(kid: Fixtures.rsa2048Kid, createdAt: 5, retiredAt: nil, bits: 2048)])
        }
    }

    @Test func refusesDirectoriesAndKeysOthersCanRead() throws {
        try withKeyDirectory { directory in
            let ring = try KeyRing(directory: directory)
            let keyFile = directory + "/\(ring.active.kid).pem"
            #expect(chmod(keyFile, 0o644) == 0)
            #expect(throws: KeyRingError.insecurePermissions(path: keyFile)) { try KeyRing(directory: directory) }
            #expect(chmod(keyFile, 0o600) == 0)
            #expect(chmod(directory, 0o750) == 0)
            #expect(throws: KeyRingError.insecurePermissions(path: directory)) { try KeyRing(directory: directory) }
            #expect(chmod(directory, 0o700) == 0)
            #expect(try KeyRing(directory: directory).active == ring.active)
        }
    }

    @Test func corruptMetadataIsRefused() throws {
        try withKeyDirectory { directory in
            let ring = try KeyRing(directory: directory)
            let kid = ring.active.kid
            let metadata = directory + "/keys.json"
            let cases: [(String, KeyRingError?)] = [
                ("[{\"kid\":\"AAAAAAAAAAAAAAAA\",\"created_at\":1}]", .missingKeyFile(kid: "AAAAAAAAAAAAAAAA")),
                ("[{\"kid\":\"../../etc/passwd\",\"created_at\":1}]", nil),
                ("[{\"kid\":\"\(kid)\",\"created_at\":1},{\"kid\":\"\(kid)\",\"created_at\":2}]", nil),
                ("[{\"kid\":\"\(kid)\",\"created_at\":\"yesterday\"}]", nil),
                ("{}", nil),
                ("not json", nil),
            ]
            for (text, expected) in cases {
                try FileManager.default.removeItem(atPath: metadata)
                try writePrivate(metadata, text)
                if let expected {
                    #expect(throws: expected, "\(text)") { try KeyRing(directory: directory) }
                } else {
                    #expect(throws: KeyRingError.self, "\(text)") { try KeyRing(directory: directory) }
                }
            }
        }
    }

    @Test func keyFileMustMatchItsKid() throws {
        try withKeyDirectory { directory in
            let ring = try KeyRing(directory: directory)
            let keyFile = directory + "/\(ring.active.kid).pem"
            try FileManager.default.removeItem(atPath: keyFile)
            try writePrivate(keyFile, Fixtures.rsa2048PKCS1)
            #expect(throws: KeyRingError.self) { try KeyRing(directory: directory) }
        }
    }

    @Test func orphanKeyFilesAreIgnored() throws {
        try withKeyDirectory { directory in
            let ring = try KeyRing(directory: directory)
            // As if a crash happened after writing a key file but before keys.json listed it.
            try writePrivate(directory + "/\(Fixtures.rsa2048Kid).pem", Fixtures.rsa2048PKCS1)
            let reloaded = try KeyRing(directory: directory)
            #expect(reloaded.list() == ring.list())
        }
    }

    @Test func readersSeeAConsistentRingDuringRotation() throws {
        try withKeyDirectory { directory in
            let ring = try KeyRing(directory: directory)
            let claims = JWTFixture.claims()
            DispatchQueue.concurrentPerform(iterations: 4) { worker in
                if worker == 0 {
                    for step in 1...3 { _ = try? ring.rotate(now: JWTFixture.now + step) }
                } else {
                    for _ in 0..<200 {
                        // Whatever key signs must be trusted by the verification set of the same moment.
                        let signer = ring.signer
                        let keys = ring.verificationKeys(now: JWTFixture.now, maxTokenLifetime: lifetime)
                        #expect(keys[signer.kid] != nil)
                        let verifier = JWTVerifier(keys: keys, issuer: JWTFixture.issuer, audience: JWTFixture.audience)
                        if let token = try? signer.sign(claims) {
                            #expect((try? verifier.verify(token, now: JWTFixture.now)) == claims)
                        } else {
                            Issue.record("signing failed")
                        }
                    }
                }
            }
            #expect(ring.list().count == 4)
            #expect(ring.list().filter { $0.retiredAt == nil }.map(\.kid) == [ring.active.kid])
        }
    }
}
