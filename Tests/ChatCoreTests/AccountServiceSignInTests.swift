import Security
import Storage
import Testing

@testable import ChatCore

@Suite struct AccountServiceSignInTests {
    // MARK: register

    @Test func registerCreatesTheAccountAndASignedInSession() async throws {
        try await withAccounts { fixture in
            let result = try await fixture.service.register(
                username: "Alice", email: " Alice@Example.COM ", password: "correct horse", displayName: nil,
                client: AccountFixture.client)
            let user = result.user
            #expect(user.username == "alice")
            #expect(user.email == "Alice@example.com")
            #expect(user.displayName == "alice")
            #expect(user.bio == "" && user.avatarURL == "")
            #expect(!user.isAdmin && !user.isDisabled && !user.isDeleted)
            #expect(user.createdAt == fixture.clock.now && user.updatedAt == fixture.clock.now)

            let tokens = result.tokens
            #expect(tokens.accessExpiresIn == 900)
            #expect(tokens.refreshExpiresIn == 2_592_000)
            #expect(tokens.refreshToken.utf8.count == 43)
            #expect(Base64URL.decode(tokens.refreshToken)?.count == 32)

            // The access token authenticates as this user on this session.
            let principal = try await fixture.service.authenticate(tokens.accessToken)
            #expect(principal.userID == user.id)
            #expect(principal.sessionID == tokens.sessionID)
            #expect(!principal.isAdmin)
            #expect(principal.expiresAt == fixture.clock.now / 1000 * 1000 + 900_000)

            // Only the refresh token's hash is stored.
            let stored = try fixture.read { db in
                try db.query("SELECT token_hash FROM refresh_tokens").compactMap { $0[0].string }
            }
            #expect(stored == [Digest.sha256Hex(tokens.refreshToken)])
            let sessions = try await fixture.service.sessions(principal)
            #expect(sessions.count == 1)
            #expect(sessions.first?.ip == "192.0.2.1")
            #expect(sessions.first?.device == "test-agent/1.0")
            #expect(sessions.first?.current == true)
        }
    }

    @Test func registerRejectsInvalidInputWithEveryField() async throws {
        try await withAccounts { fixture in
            let error = await accountError {
                try await fixture.service.register(
                    username: "x", email: "bad", password: "short", displayName: "", client: AccountFixture.client)
            }
            guard case .validation(let fields) = error else {
                Issue.record("expected validation, got \(String(describing: error))")
                return
            }
            #expect(Set(fields.keys) == ["username", "email", "password", "display_name"])
            let users = try fixture.read { db in try AccountStore().userCount(db) }
            #expect(users == 0)
        }
    }

    @Test func duplicateUsernameAndEmailAreReportedApart() async throws {
        try await withAccounts { fixture in
            try await fixture.register("alice")
            let sameName = await accountError {
                try await fixture.service.register(
                    username: "ALICE", email: "other@example.com", password: "password-1", client: AccountFixture.client
                )
            }
            #expect(sameName == .usernameTaken)
            // Email uniqueness ignores case, in the local part too.
            let sameEmail = await accountError {
                try await fixture.service.register(
                    username: "alice2", email: "ALICE@EXAMPLE.com", password: "password-1",
                    client: AccountFixture.client)
            }
            #expect(sameEmail == .emailTaken)
            // Both taken: the username is named.
            let both = await accountError {
                try await fixture.service.register(
                    username: "alice", email: "alice@example.com", password: "password-1",
                    client: AccountFixture.client)
            }
            #expect(both == .usernameTaken)
            #expect(try fixture.read { db in try AccountStore().userCount(db) } == 1)
        }
    }

    // MARK: login

    @Test func loginWorksByUsernameAndByEmailInAnyCase() async throws {
        try await withAccounts { fixture in
            let registered = try await fixture.register("bob")
            for login in ["bob", "BOB", "bob@example.com", "  Bob@EXAMPLE.COM "] {
                let result = try await fixture.service.login(
                    login: login, password: "bob-password", client: ClientInfo(ip: "198.51.100.2", device: login))
                #expect(result.user.id == registered.user.id)
                #expect(result.tokens.sessionID != registered.tokens.sessionID)
                let principal = try await fixture.service.authenticate(result.tokens.accessToken)
                #expect(principal.sessionID == result.tokens.sessionID)
            }
            let principal = try await fixture.service.authenticate(registered.tokens.accessToken)
            #expect(try await fixture.service.sessions(principal).count == 5)
        }
    }

    @Test func wrongPasswordUnknownAndDeletedUsersAreAllInvalidCredentials() async throws {
        try await withAccounts { fixture in
            let carol = try await fixture.register("carol")
            let wrong = await accountError {
                try await fixture.service.login(
                    login: "carol", password: "not-her-password", client: AccountFixture.client)
            }
            #expect(wrong == .invalidCredentials)
            let unknown = await accountError {
                try await fixture.service.login(login: "nobody", password: "whatever1", client: AccountFixture.client)
            }
            #expect(unknown == .invalidCredentials)
            let unknownEmail = await accountError {
                try await fixture.service.login(
                    login: "nobody@example.com", password: "whatever1", client: AccountFixture.client)
            }
            #expect(unknownEmail == .invalidCredentials)

            let principal = try await fixture.service.authenticate(carol.tokens.accessToken)
            try await fixture.service.deleteAccount(principal, password: "carol-password")
            for login in ["carol", "carol@example.com", "deleted-\(carol.user.id)"] {
                let deleted = await accountError {
                    try await fixture.service.login(
                        login: login, password: "carol-password", client: AccountFixture.client)
                }
                #expect(deleted == .invalidCredentials)
            }
        }
    }

    @Test func loginValidatesThatBothFieldsArePresent() async throws {
        try await withAccounts { fixture in
            let error = await accountError {
                try await fixture.service.login(login: "", password: "", client: AccountFixture.client)
            }
            #expect(error == .validation(["login": "is required", "password": "is required"]))
        }
    }

    @Test func disabledAccountIsReportedOnlyAfterTheRightPassword() async throws {
        try await withAccounts { fixture in
            try await fixture.register("dave")
            try await fixture.service.setDisabled(username: "dave", true)
            let wrong = await accountError {
                try await fixture.service.login(
                    login: "dave", password: "wrong-password", client: AccountFixture.client)
            }
            #expect(wrong == .invalidCredentials)
            let right = await accountError { try await fixture.login("dave") }
            #expect(right == .accountDisabled)
            try await fixture.service.setDisabled(username: "dave", false)
            #expect(try await fixture.login("dave").user.username == "dave")
        }
    }

    @Test func loginRehashesAPasswordStoredAtALowerCost() async throws {
        try await withAccounts { fixture in
            try await fixture.register("erin")
            let before = try fixture.read { db in try AccountStore().user(username: "erin", db)?.passwordHash }
            #expect(before.flatMap(BCrypt.cost(of:)) == 4)

            // The same database served with a higher configured cost.
            let stronger = fixture.otherProcess(policy: AccountPolicy(bcryptCost: 5))
            let result = try await stronger.login(
                login: "erin", password: "erin-password", client: AccountFixture.client)
            #expect(result.user.username == "erin")
            let after = try fixture.read { db in try AccountStore().user(username: "erin", db)?.passwordHash }
            #expect(after.flatMap(BCrypt.cost(of:)) == 5)
            #expect(after != before)
            // The new hash still verifies the same password, at either policy.
            #expect(try await fixture.login("erin").user.username == "erin")

            // A wrong password does not rehash.
            let wrong = await accountError {
                try await stronger.login(login: "erin", password: "bad-password", client: AccountFixture.client)
            }
            #expect(wrong == .invalidCredentials)
            #expect(try fixture.read { db in try AccountStore().user(username: "erin", db)?.passwordHash } == after)
        }
    }

    @Test func passwordsLongerThanBcryptsLimitAreComparedInFull() async throws {
        try await withAccounts { fixture in
            // bcrypt alone reads 72 bytes; these differ only after byte 100.
            let base = String(repeating: "p", count: 100)
            _ = try await fixture.service.register(
                username: "frank", email: "frank@example.com", password: base + "-one", client: AccountFixture.client)
            let other = await accountError {
                try await fixture.service.login(login: "frank", password: base + "-two", client: AccountFixture.client)
            }
            #expect(other == .invalidCredentials)
            #expect(
                try await fixture.service.login(login: "frank", password: base + "-one", client: AccountFixture.client)
                    .user.username == "frank")
        }
    }
}
