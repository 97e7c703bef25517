import Storage
import Testing

@testable import ChatCore

@Suite struct AccountServiceProfileTests {
    // MARK: own account

    @Test func meAndUpdateProfile() async throws {
        try await withAccounts { fixture in
            let signedIn = try await fixture.register("alice", displayName: "Alice")
            let id = signedIn.user.id
            #expect(try await fixture.service.me(userID: id) == signedIn.user)

            fixture.clock.advance(seconds: 5)
            let updated = try await fixture.service.updateProfile(
                userID: id, displayName: "  Alice A.  ", bio: "Hello\nworld", avatarURL: "https://cdn.example.com/a.png"
            )
            #expect(updated.displayName == "Alice A.")
            #expect(updated.bio == "Hello\nworld")
            #expect(updated.avatarURL == "https://cdn.example.com/a.png")
            #expect(updated.updatedAt == fixture.clock.now)
            #expect(updated.createdAt == signedIn.user.createdAt)

            // Absent fields stay; an empty avatar clears it.
            let partial = try await fixture.service.updateProfile(userID: id, avatarURL: "")
            #expect(partial.displayName == "Alice A." && partial.bio == "Hello\nworld" && partial.avatarURL == "")
            #expect(try await fixture.service.me(userID: id) == partial)

            let invalid = await accountError {
                try await fixture.service.updateProfile(userID: id, displayName: " ", avatarURL: "ftp://x")
            }
            #expect(
                invalid
                    == .validation([
                        "display_name": "must be 1 to 64 characters",
                        "avatar_url": "must be an http:// or https:// URL",
                    ]))
            #expect(try await fixture.service.me(userID: id) == partial)

            let missing = await accountError { try await fixture.service.updateProfile(userID: 9_999, bio: "x") }
            #expect(missing == .notFound)
            let nobody = await accountError { try await fixture.service.me(userID: 9_999) }
            #expect(nobody == .notFound)
        }
    }

    // MARK: password change

    @Test func changingThePasswordKeepsOnlyTheCurrentSession() async throws {
        try await withAccounts { fixture in
            let current = try await fixture.register("bob")
            let other = try await fixture.login("bob")
            let third = try await fixture.login("bob")
            let principal = try await fixture.service.authenticate(current.tokens.accessToken)
            _ = try await fixture.service.authenticate(other.tokens.accessToken)

            let wrong = await accountError {
                try await fixture.service.changePassword(
                    principal, currentPassword: "not-it-at-all", newPassword: "new-password-1")
            }
            #expect(wrong == .invalidCredentials)
            let weak = await accountError {
                try await fixture.service.changePassword(
                    principal, currentPassword: "bob-password", newPassword: "short")
            }
            #expect(weak == .validation(["new_password": "must be 8 to 128 bytes"]))
            let sameAsName = await accountError {
                try await fixture.service.changePassword(principal, currentPassword: "bob-password", newPassword: "BOB")
            }
            #expect(sameAsName != nil)

            try await fixture.service.changePassword(
                principal, currentPassword: "bob-password", newPassword: "new-password-1")
            // The current session survives; the others are revoked at once.
            #expect(fixture.service.authenticateCached(current.tokens.accessToken).principal != nil)
            #expect(
                fixture.service.authenticateCached(other.tokens.accessToken)
                    == .invalid(.invalidToken("session revoked")))
            let thirdRefresh = await accountError {
                try await fixture.service.refresh(
                    refreshToken: third.tokens.refreshToken, client: AccountFixture.client)
            }
            #expect(thirdRefresh == .invalidRefreshToken)
            #expect(try await fixture.service.sessions(principal).map(\.id) == [current.tokens.sessionID])
            _ = try await fixture.service.refresh(
                refreshToken: current.tokens.refreshToken, client: AccountFixture.client)

            // Only the new password signs in now.
            let old = await accountError { try await fixture.login("bob") }
            #expect(old == .invalidCredentials)
            _ = try await fixture.service.login(login: "bob", password: "new-password-1", client: AccountFixture.client)
        }
    }

    // MARK: deletion

    @Test func deletingAnonymisesFreesTheEmailAndRevokesEverySession() async throws {
        try await withAccounts { fixture in
            let first = try await fixture.register("carol", displayName: "Carol C.")
            let second = try await fixture.login("carol")
            let id = first.user.id
            let principal = try await fixture.service.authenticate(first.tokens.accessToken)
            _ = try await fixture.service.updateProfile(userID: id, bio: "bio", avatarURL: "https://example.com/c.png")

            let wrong = await accountError { try await fixture.service.deleteAccount(principal, password: "nope-nope") }
            #expect(wrong == .invalidCredentials)
            #expect(try await fixture.service.me(userID: id).isDeleted == false)

            fixture.clock.advance(seconds: 1)
            try await fixture.service.deleteAccount(principal, password: "carol-password")
            for token in [first.tokens.accessToken, second.tokens.accessToken] {
                #expect(fixture.service.authenticateCached(token) == .invalid(.invalidToken("account deleted")))
            }
            let profile = try await fixture.service.profile(id: id)
            #expect(profile.username == "deleted-\(id)")
            #expect(profile.displayName == "Deleted user")
            #expect(profile.bio == "" && profile.avatarURL == "" && profile.email == nil)
            #expect(profile.isDeleted && !profile.isAdmin)
            #expect(profile.createdAt == first.user.createdAt)
            let me = await accountError { try await fixture.service.me(userID: id) }
            #expect(me == .notFound)
            let stored = try fixture.read { db in try AccountStore().user(id: id, db) }
            #expect(stored?.passwordHash == "")
            let revoked = try fixture.read { db in
                try db.queryOne(
                    "SELECT count(*) FROM sessions WHERE user_id = ? AND revoked_at IS NULL", [.integer(id)])?[0]
                    .int
            }
            #expect(revoked == 0)

            // The email and the username are free again.
            let again = try await fixture.service.register(
                username: "carol", email: "CAROL@example.com", password: "another-password",
                client: AccountFixture.client)
            #expect(again.user.id != id)
            // A second deletion of the same account is refused: it is gone.
            let twice = await accountError {
                try await fixture.service.deleteAccount(principal, password: "carol-password")
            }
            #expect(twice == .invalidToken("account deleted"))
        }
    }

    // MARK: public profiles

    @Test func profilesHideDisabledUsersButShowDeletedOnes() async throws {
        try await withAccounts { fixture in
            let dave = try await fixture.register("dave")
            #expect(try await fixture.service.profile(id: dave.user.id).username == "dave")
            try await fixture.service.setDisabled(username: "dave", true)
            let hidden = await accountError { try await fixture.service.profile(id: dave.user.id) }
            #expect(hidden == .notFound)
            let missing = await accountError { try await fixture.service.profile(id: 12_345) }
            #expect(missing == .notFound)
        }
    }

    // MARK: search

    @Test func searchMatchesUsernameOrDisplayNamePrefixesCaseInsensitively() async throws {
        try await withAccounts { fixture in
            try await fixture.register("anna", displayName: "Anna Smith")
            try await fixture.register("annabel", displayName: "Bel")
            try await fixture.register("bob", displayName: "Annie B")
            try await fixture.register("zed", displayName: "Ünal Zed")
            try await fixture.register("zora", displayName: "Zora")

            let ann = try await fixture.service.searchUsers(prefix: "ANN", limit: 20)
            #expect(ann.users.map(\.username) == ["anna", "annabel", "bob"])
            #expect(ann.nextCursor == nil)
            // Display names match beyond ASCII, case-insensitively.
            #expect(try await fixture.service.searchUsers(prefix: "ün", limit: 20).users.map(\.username) == ["zed"])
            #expect(
                try await fixture.service.searchUsers(prefix: "annab", limit: 20).users.map(\.username) == ["annabel"])
            #expect(try await fixture.service.searchUsers(prefix: "x", limit: 20).users.isEmpty)
            // An empty prefix lists everyone, by username.
            let all = try await fixture.service.searchUsers(prefix: "", limit: 20)
            #expect(all.users.map(\.username) == ["anna", "annabel", "bob", "zed", "zora"])
            // LIKE/GLOB wildcards are plain characters here.
            #expect(try await fixture.service.searchUsers(prefix: "%", limit: 20).users.isEmpty)
            #expect(try await fixture.service.searchUsers(prefix: "_", limit: 20).users.isEmpty)
        }
    }

    @Test func searchPaginatesWithAnOpaqueCursor() async throws {
        try await withAccounts { fixture in
            for index in 0..<7 {
                try await fixture.register("page\(index)")
            }
            var names: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await fixture.service.searchUsers(prefix: "page", limit: 3, cursor: cursor)
                names += page.users.map(\.username)
                cursor = page.nextCursor
                pages += 1
                #expect(page.users.count == (cursor == nil ? 1 : 3))
            } while cursor != nil && pages < 10
            #expect(names == (0..<7).map { "page\($0)" })
            #expect(pages == 3)

            // Exactly a page left: no further cursor.
            let exact = try await fixture.service.searchUsers(prefix: "page", limit: 7)
            #expect(exact.users.count == 7 && exact.nextCursor == nil)

            for bad in ["%%%", "not base64!", String(repeating: "A", count: 100)] {
                let error = await accountError {
                    try await fixture.service.searchUsers(prefix: "", limit: 3, cursor: bad)
                }
                #expect(error == .validation(["cursor": "is not a valid cursor"]))
            }
            for limit in [0, 101] {
                let error = await accountError { try await fixture.service.searchUsers(prefix: "", limit: limit) }
                #expect(error == .validation(["limit": "must be from 1 to 100"]))
            }
        }
    }

    @Test func searchExcludesDeletedAndDisabledUsers() async throws {
        try await withAccounts { fixture in
            let gone = try await fixture.register("sam")
            try await fixture.register("sally")
            try await fixture.register("sue")
            try await fixture.service.setDisabled(username: "sally", true)
            let principal = try await fixture.service.authenticate(gone.tokens.accessToken)
            try await fixture.service.deleteAccount(principal, password: "sam-password")

            #expect(try await fixture.service.searchUsers(prefix: "s", limit: 20).users.map(\.username) == ["sue"])
            // Nor do deleted users match their anonymised names.
            #expect(try await fixture.service.searchUsers(prefix: "deleted", limit: 20).users.isEmpty)
            #expect(try await fixture.service.searchUsers(prefix: "", limit: 20).users.map(\.username) == ["sue"])
        }
    }
}
