import Security
import Testing

@Suite struct BCryptTests {
    @Test func hashHasTheRequestedCostAndVerifies() throws {
        let hash = try BCrypt.hash("hunter2", cost: 4)
        #expect(hash.hasPrefix("$2b$04$"))
        #expect(hash.utf8.count == 60)
        #expect(BCrypt.cost(of: hash) == 4)
        #expect(BCrypt.verify("hunter2", hash: hash))
        #expect(!BCrypt.verify("hunter3", hash: hash))
        #expect(!BCrypt.verify("", hash: hash))
        #expect(!BCrypt.verify("Hunter2", hash: hash))
    }

    @Test func productionCost() throws {
        let hash = try BCrypt.hash("correct horse battery staple", cost: 10)
        #expect(hash.hasPrefix("$2b$10$"))
        #expect(BCrypt.verify("correct horse battery staple", hash: hash))
        #expect(!BCrypt.verify("correct horse battery stapl", hash: hash))
    }

    @Test func saltsDiffer() throws {
        let a = try BCrypt.hash("same", cost: 4)
        let b = try BCrypt.hash("same", cost: 4)
        #expect(a != b)
        #expect(BCrypt.verify("same", hash: a) && BCrypt.verify("same", hash: b))
    }

    @Test func unicodePasswords() throws {
        let hash = try BCrypt.hash("pässwörd 🔑", cost: 4)
        #expect(BCrypt.verify("pässwörd 🔑", hash: hash))
        // The precomposed and decomposed forms are different bytes: no normalization happens here.
        #expect(!BCrypt.verify("pa\u{308}sswörd 🔑", hash: hash))
    }

    /// Interop: a hash made by Python's bcrypt package verifies, in all three accepted prefixes
    /// (identical algorithm for passwords without 8-bit characters).
    @Test(arguments: ["$2b$", "$2a$", "$2y$"])
    func pythonBcryptVector(prefix: String) {
        let hash = prefix + Fixtures.pythonBcryptCorrectHorse.dropFirst(4)
        #expect(BCrypt.verify("correct horse", hash: hash))
        #expect(!BCrypt.verify("correct horse ", hash: hash))
        #expect(!BCrypt.verify("Correct horse", hash: hash))
        #expect(BCrypt.cost(of: hash) == 5)
    }

    @Test(arguments: [
        "", "$2b$", "*0", "*1", "$2b$05$",
        "$2b$99$kT6yq05NwXhuJb/eLul2Lu25gWEmjyt50Tr5Pbk2gVFN67jNrIfni",  // cost out of range
        "$2b$03$kT6yq05NwXhuJb/eLul2Lu25gWEmjyt50Tr5Pbk2gVFN67jNrIfni",
        "$2b$5$kT6yq05NwXhuJb/eLul2Lu25gWEmjyt50Tr5Pbk2gVFN67jNrIfni",  // one-digit cost
        "$2b$05$kT6yq05NwXhuJb/eLul2Lu25gWEmjyt50Tr5Pbk2gVFN67jNrIfn",  // truncated
        "$2b$05$kT6yq05NwXhuJb/eLul2Lu25gWEmjyt50Tr5Pbk2gVFN67jNrIfnii",  // too long
        "$2b$05$kT6yq05NwXhuJb/eLul2Lu25gWEmjyt50Tr5Pbk2gVFN67jNrIf+i",  // '+' is not bcrypt base64
        "$2x$05$kT6yq05NwXhuJb/eLul2Lu25gWEmjyt50Tr5Pbk2gVFN67jNrIfni",  // buggy-variant prefix
        "$2$05$kT6yq05NwXhuJb/eLul2Lu25gWEmjyt50Tr5Pbk2gVFN67jNrIfni",
        "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/",  // md5-crypt of "password"
        "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/",
        "saltsaltsalt",  // DES-crypt shape
    ])
    func malformedHashesNeverVerify(hash: String) {
        #expect(!BCrypt.verify("password", hash: hash))
        #expect(!BCrypt.verify("", hash: hash))
        #expect(!BCrypt.verify("correct horse", hash: hash))
        #expect(BCrypt.cost(of: hash) == nil)
    }

    @Test func passwordsWithNULAreRejected() throws {
        #expect(throws: BCryptError.passwordContainsNUL) { try BCrypt.hash("pass\u{0}word", cost: 4) }
        // bcrypt would stop at the NUL and compare only "pass": verify must not fall for that.
        let hash = try BCrypt.hash("pass", cost: 4)
        #expect(!BCrypt.verify("pass\u{0}word", hash: hash))
        #expect(!BCrypt.verify("pass\u{0}", hash: hash))
        #expect(BCrypt.verify("pass", hash: hash))
    }

    /// Documents bcrypt's 72-byte limit: only the first 72 bytes of the password count.
    @Test func onlyTheFirst72BytesCount() throws {
        let base = String(repeating: "a", count: 72)
        let hash = try BCrypt.hash(base, cost: 4)
        #expect(BCrypt.verify(base + "anything", hash: hash))
        #expect(!BCrypt.verify(String(base.dropLast()), hash: hash))
    }

    @Test(arguments: [-1, 0, 3, 32, 99])
    func invalidCostsThrow(cost: Int) {
        #expect(throws: BCryptError.invalidCost(cost)) { try BCrypt.hash("x", cost: cost) }
    }

    @Test func dummyHashIsValidCachedAndMatchesNothing() {
        let dummy = BCrypt.dummyHash(cost: 4)
        #expect(dummy.hasPrefix("$2b$04$"))
        #expect(BCrypt.cost(of: dummy) == 4)
        #expect(BCrypt.dummyHash(cost: 4) == dummy)
        #expect(BCrypt.dummyHash(cost: 5) != dummy)
        #expect(BCrypt.cost(of: BCrypt.dummyHash(cost: 5)) == 5)
        #expect(!BCrypt.verify("", hash: dummy))
        #expect(!BCrypt.verify("password", hash: dummy))
    }
}
