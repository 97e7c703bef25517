import Security
import Storage
import Testing

@testable import ChatCore

@Suite struct AccountServiceAdminTests {
    @Test func createUserMakesAnAccountWithoutASession() async throws {
        try await withAccounts { fixture in
            let admin = try await fixture.service.createUser(
                username: "Root", email: "root@example.com", password: "root-password", isAdmin: true)
            #expect(admin.username == "root" && admin.isAdmin && admin.displayName == "root")
            let plain = try await fixture.service.createUser(
                username: "plain", email: "plain@example.com", password: "plain-password", displayName: "Plain P")
            #expect(!plain.isAdmin && plain.displayName == "Plain P")
            #expect(try fixture.read { db in try db.queryOne("SELECT count(*) FROM sessions")?[0].int } == 0)

            let duplicate = await accountError {
                try await fixture.service.createUser(username: "root", email: "x@example.com", password: "password-9")
            }
            #expect(duplicate == .usernameTaken)
            let invalid = await accountError {
                try await fixture.service.createUser(username: "r", email: "x", password: "p")
            }
            if case .validation(let fields) = invalid {
                #expect(Set(fields.keys) == ["username", "email", "password"])
            } else {
                Issue.record("expected validation, got \(String(describing: invalid))")
            }

            // The admin flag reaches principals.
            let signedIn = try await fixture.service.login(
                login: "root", password: "root-password", client: AccountFixture.client)
            #expect(try await fixture.service.authenticate(signedIn.tokens.accessToken).isAdmin)
        }
    }

    @Test func listUsersIncludesEveryAccountOldestFirst() async throws {
        try await withAccounts { fixture in
            let first = try await fixture.register("first")
            try await fixture.register("second")
            try await fixture.register("third")
            try await fixture.service.setDisabled(username: "second", true)
            let principal = try await fixture.service.authenticate(first.tokens.accessToken)
            try await fixture.service.deleteAccount(principal, password: "first-password")

            let all = try await fixture.service.listUsers()
            #expect(all.map(\.username) == ["deleted-\(first.user.id)", "second", "third"])
            #expect(all.map(\.isDeleted) == [true, false, false])
            #expect(all.map(\.isDisabled) == [false, true, false])
            #expect(try await fixture.service.listUsers(limit: 2).count == 2)
            let bad = await accountError { try await fixture.service.listUsers(limit: 0) }
            #expect(bad == .validation(["limit": "must be at least 1"]))
        }
    }

    @Test func flagsAndPasswordResetAreByUsername() async throws {
        try await withAccounts { fixture in
            let signedIn = try await fixture.register("gina")
            let promoted = try await fixture.service.setAdmin(username: "GINA", true)
            #expect(promoted.isAdmin)
            #expect(try await fixture.service.setAdmin(username: "gina", false).isAdmin == false)
            let disabled = try await fixture.service.setDisabled(username: "gina", true)
            #expect(disabled.isDisabled)

            for missing in [
                { try await fixture.service.setAdmin(username: "nobody", true) },
                { try await fixture.service.setDisabled(username: "nobody", true) },
            ] as [() async throws -> User] {
                #expect(await accountError(missing) == .notFound)
            }
            let noReset = await accountError {
                try await fixture.service.resetPassword(username: "nobody", newPassword: "whatever-1")
            }
            #expect(noReset == .notFound)
            let weak = await accountError {
                try await fixture.service.resetPassword(username: "gina", newPassword: "gina")
            }
            #expect(weak == .validation(["password": "must be 8 to 128 bytes"]))

            try await fixture.service.setDisabled(username: "gina", false)
            try await fixture.service.resetPassword(username: "gina", newPassword: "reset-password-1")
            // Every session is revoked, the old password is gone, the new one works.
            let rejected = await accountError { try await fixture.service.authenticate(signedIn.tokens.accessToken) }
            #expect(rejected == .invalidToken("session revoked"))
            let old = await accountError { try await fixture.login("gina") }
            #expect(old == .invalidCredentials)
            _ = try await fixture.service.login(
                login: "gina", password: "reset-password-1", client: AccountFixture.client)
        }
    }

    @Test func seedingInsertsTenThousandUsersWithOneSharedHash() async throws {
        try await withAccounts { fixture in
            try await fixture.register("existing")
            let inserted = try await fixture.service.seedUsers(count: 10_000, cost: 4, password: "seeded-password")
            #expect(inserted == 10_000)
            let counts = try fixture.read { db in
                (
                    users: try AccountStore().userCount(db),
                    hashes: try db.queryOne(
                        "SELECT count(DISTINCT password_hash) FROM users WHERE username <> 'existing'")?[0].int
                )
            }
            #expect(counts.users == 10_001)
            #expect(counts.hashes == 1)

            // Seeded accounts are ordinary ones: valid names, searchable, able to sign in.
            let sample = try #require(
                try fixture.read { db in try AccountStore().listUsers(afterID: 1, limit: 50, db) }.last)
            #expect(AccountValidation.usernameError(sample.username) == nil)
            #expect(AccountValidation.displayNameError(sample.displayName) == nil)
            #expect(sample.email == "\(sample.username)@example.com")
            #expect(BCrypt.cost(of: sample.passwordHash) == 4)
            let signedIn = try await fixture.service.login(
                login: sample.username, password: "seeded-password", client: AccountFixture.client)
            #expect(signedIn.user.id == sample.id)
            let found = try await fixture.service.searchUsers(prefix: sample.username, limit: 5)
            #expect(found.users.map(\.id).contains(sample.id))

            #expect(try await fixture.service.seedUsers(count: 0) == 0)
            let invalid = await accountError { try await fixture.service.seedUsers(count: -1, cost: 3) }
            #expect(invalid == .validation(["count": "must not be negative", "cost": "must be from 4 to 31"]))
        }
    }
}
