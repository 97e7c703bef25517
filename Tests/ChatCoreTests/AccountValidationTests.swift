import Testing

@testable import ChatCore

@Suite struct AccountValidationTests {
    // MARK: username

    @Test(arguments: [
        ("alice", "alice", true),
        ("Alice", "alice", true),
        ("ALICE_2.b-c", "alice_2.b-c", true),
        ("abc", "abc", true),
        (String(repeating: "a", count: 32), String(repeating: "a", count: 32), true),
        ("ab", "ab", false),
        (String(repeating: "a", count: 33), String(repeating: "a", count: 33), false),
        ("", "", false),
        ("al ice", "al ice", false),
        ("alice!", "alice!", false),
        ("zoë", "zoë", false),
        ("al@ice", "al@ice", false),
        ("deleted-12", "deleted-12", false),
        ("Deleted-7", "deleted-7", false),
        ("deleted-", "deleted-", false),
        ("deleted-x", "deleted-x", true),
        ("deleted_12", "deleted_12", true),
    ])
    func username(raw: String, normalized: String, valid: Bool) {
        #expect(AccountValidation.normalizeUsername(raw) == normalized)
        #expect((AccountValidation.usernameError(normalized) == nil) == valid)
    }

    // MARK: email

    @Test(arguments: [
        ("a@b.co", "a@b.co", true),
        ("  Alice@Example.COM \n", "Alice@example.com", true),
        ("first.last+tag@sub.example.org", "first.last+tag@sub.example.org", true),
        ("no-at.example.com", "no-at.example.com", false),
        ("two@@example.com", "two@@example.com", false),
        ("a@b@example.com", "a@b@example.com", false),
        ("@example.com", "@example.com", false),
        ("alice@", "alice@", false),
        ("alice@localhost", "alice@localhost", false),
        ("ali ce@example.com", "ali ce@example.com", false),
        ("alice@exa\u{7}mple.com", "alice@exa\u{7}mple.com", false),
        ("alice\u{A0}x@example.com", "alice\u{A0}x@example.com", false),
    ])
    func email(raw: String, normalized: String, valid: Bool) {
        #expect(AccountValidation.normalizeEmail(raw) == normalized)
        #expect((AccountValidation.emailError(normalized) == nil) == valid)
    }

    @Test func emailLengthIsCountedInBytes() {
        let domain = "@example.com"
        let fits = String(repeating: "a", count: 254 - domain.utf8.count) + domain
        #expect(AccountValidation.emailError(fits) == nil)
        #expect(AccountValidation.emailError("a" + fits) != nil)
        // 2-byte characters: 125 of them in the local part make it too long in bytes, not in characters.
        let wide = String(repeating: "é", count: 125) + domain
        #expect(wide.count < 254 && wide.utf8.count > 254)
        #expect(AccountValidation.emailError(wide) != nil)
    }

    // MARK: password

    @Test(arguments: [
        ("password1", "alice", true),
        ("12345678", "alice", true),
        ("1234567", "alice", false),
        (String(repeating: "p", count: 128), "alice", true),
        (String(repeating: "p", count: 129), "alice", false),
        // 4 bytes per character: 32 characters are 128 bytes, 33 are 132.
        (String(repeating: "😀", count: 32), "alice", true),
        (String(repeating: "😀", count: 33), "alice", false),
        // 2 characters of 4 bytes are 8 bytes: long enough in bytes though short in characters.
        ("😀😀", "alice", true),
        ("alice.smith", "alice.smith", false),
        ("ALICE.SMITH", "alice.smith", false),
        ("pass\0word1", "alice", false),
    ])
    func password(password: String, username: String, valid: Bool) {
        #expect((AccountValidation.passwordError(password, username: username) == nil) == valid)
    }

    // MARK: display name, bio, avatar

    @Test(arguments: [
        ("Alice", "Alice", true),
        ("  Alice Smith  ", "Alice Smith", true),
        ("Zoë 🌱", "Zoë 🌱", true),
        ("   ", "", false),
        ("", "", false),
        (String(repeating: "x", count: 64), String(repeating: "x", count: 64), true),
        (String(repeating: "x", count: 65), String(repeating: "x", count: 65), false),
        // Characters, not bytes: 64 two-byte characters are fine.
        (String(repeating: "é", count: 64), String(repeating: "é", count: 64), true),
        ("Ali\nce", "Ali\nce", false),
        ("Ali\u{1B}ce", "Ali\u{1B}ce", false),
    ])
    func displayName(raw: String, normalized: String, valid: Bool) {
        #expect(AccountValidation.normalizeDisplayName(raw) == normalized)
        #expect((AccountValidation.displayNameError(normalized) == nil) == valid)
    }

    @Test(arguments: [
        ("", true),
        ("Hello there", true),
        ("Line one\nLine two", true),
        ("Windows\r\nlines", true),
        (String(repeating: "b", count: 500), true),
        (String(repeating: "b", count: 501), false),
        ("tab\there", false),
        ("bell\u{7}", false),
    ])
    func bio(bio: String, valid: Bool) {
        #expect((AccountValidation.bioError(bio) == nil) == valid)
    }

    @Test(arguments: [
        ("", true),
        ("https://cdn.example.com/a.png", true),
        ("http://example.com/a.png?size=64", true),
        ("HTTPS://EXAMPLE.COM/A.PNG", true),
        ("ftp://example.com/a.png", false),
        ("javascript:alert(1)", false),
        ("//example.com/a.png", false),
        ("https://", false),
        ("https:///path", false),
        ("https://exa mple.com/a.png", false),
        ("https://example.com/\u{0}", false),
    ])
    func avatarURL(url: String, valid: Bool) {
        #expect((AccountValidation.avatarURLError(url) == nil) == valid)
    }

    @Test func avatarURLLengthIsCountedInBytes() {
        let base = "https://example.com/"
        let fits = base + String(repeating: "a", count: 2048 - base.utf8.count)
        #expect(AccountValidation.avatarURLError(fits) == nil)
        #expect(AccountValidation.avatarURLError(fits + "a") != nil)
    }

    // MARK: whole requests

    @Test func registrationReportsEveryBadFieldAtOnce() {
        do {
            _ = try AccountValidation.validateRegistration(
                username: "a", email: "nope", password: "short", displayName: " ")
            Issue.record("expected a validation error")
        } catch {
            guard case .validation(let fields) = error else {
                Issue.record("expected validation, got \(error)")
                return
            }
            #expect(Set(fields.keys) == ["username", "email", "password", "display_name"])
        }
    }

    @Test func registrationNormalizesAndDefaultsTheDisplayName() throws {
        let account = try AccountValidation.validateRegistration(
            username: "Alice", email: " Alice@Example.COM ", password: "correct horse", displayName: nil)
        #expect(account.username == "alice")
        #expect(account.email == "Alice@example.com")
        #expect(account.displayName == "alice")
        let named = try AccountValidation.validateRegistration(
            username: "bob", email: "bob@example.com", password: "correct horse", displayName: "  Bob B.  ")
        #expect(named.displayName == "Bob B.")
    }

    @Test func passwordEqualToTheLowerCasedUsernameIsRejected() {
        // The username is lower-cased before the comparison, so "Password1" vs "password1" counts as equal.
        #expect(throws: AccountError.validation(["password": "must not be the username"])) {
            try AccountValidation.validateRegistration(
                username: "Password1", email: "p@example.com", password: "PASSWORD1", displayName: nil)
        }
    }

    @Test func profileChangesValidateOnlyTheGivenFields() throws {
        let unchanged = try AccountValidation.validateProfileChanges(displayName: nil, bio: nil, avatarURL: nil)
        #expect(unchanged.displayName == nil && unchanged.bio == nil && unchanged.avatarURL == nil)
        let trimmed = try AccountValidation.validateProfileChanges(displayName: " New ", bio: "b", avatarURL: "")
        #expect(trimmed.displayName == "New")
        do {
            _ = try AccountValidation.validateProfileChanges(
                displayName: "", bio: String(repeating: "b", count: 501), avatarURL: "ftp://x")
            Issue.record("expected a validation error")
        } catch {
            guard case .validation(let fields) = error else {
                Issue.record("expected validation, got \(error)")
                return
            }
            #expect(Set(fields.keys) == ["display_name", "bio", "avatar_url"])
        }
    }

    @Test func loginNeedsBothFields() {
        #expect(throws: AccountError.validation(["login": "is required", "password": "is required"])) {
            try AccountValidation.validateLogin(login: "  ", password: "")
        }
        #expect(throws: Never.self) { try AccountValidation.validateLogin(login: "alice", password: "x") }
    }

    @Test(arguments: [(0, false), (1, true), (20, true), (100, true), (101, false), (-5, false)])
    func searchLimit(limit: Int, valid: Bool) {
        #expect((AccountValidation.searchLimitError(limit) == nil) == valid)
    }
}
