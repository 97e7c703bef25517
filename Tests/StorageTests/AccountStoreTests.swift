import Foundation
import Testing

@testable import Storage

/// The account statements against the real schema (migrations 0001 and 0002 from the repository).
@Suite struct AccountStoreTests {
    private let store = AccountStore()
    private static let migrations = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("migrations").path

    private func withStore(_ body: (Database) throws -> Void) throws {
        try withTemporaryDirectory { directory in
            let db = try Database(configuration: configuration(in: directory))
            try Migrator(directory: Self.migrations).up(db)
            try body(db)
        }
    }

    private func newUser(_ name: String, email: String? = nil, displayName: String? = nil, at time: Int64 = 1_000)
        -> NewUserRecord
    {
        NewUserRecord(
            username: name, email: email ?? "\(name)@example.com", displayName: displayName ?? name.capitalized,
            passwordHash: "hash-\(name)", createdAt: time)
    }

    @Test func theMigrationRevertsAndReappliesCleanly() throws {
        try withTemporaryDirectory { directory in
            let db = try Database(configuration: configuration(in: directory))
            let migrator = try Migrator(directory: Self.migrations)
            try migrator.up(db, to: 2)
            try store.insertUser(newUser("alice"), db)
            try migrator.down(db, steps: 1)
            let tables = try db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                .compactMap { $0[0].string }
            #expect(tables == ["schema_migrations", "server_state"])
            try migrator.up(db, to: 2)
            #expect(try store.userCount(db) == 0)
        }
    }

    // MARK: Users

    @Test func insertsAndFetchesUsersByIdUsernameAndLogin() throws {
        try withStore { db in
            let alice = try store.insertUser(newUser("alice", email: "Alice@Example.com"), db)
            #expect(alice.id > 0)
            #expect(try store.user(id: alice.id, db) == alice)
            #expect(try store.user(username: "alice", db) == alice)
            // Login compares the email case-insensitively, and the username as lower-case.
            #expect(try store.user(login: "ALICE@example.COM", db) == alice)
            #expect(try store.user(login: "Alice", db) == alice)
            #expect(try store.user(login: "bob", db) == nil)
            #expect(try store.user(id: 999, db) == nil)
            #expect(alice.email == "Alice@Example.com")
            #expect(!alice.isAdmin && !alice.isDisabled && !alice.isDeleted)
            #expect(alice.createdAt == 1_000 && alice.updatedAt == 1_000)
        }
    }

    @Test func uniqueViolationsBecomeTypedErrors() throws {
        try withStore { db in
            try store.insertUser(newUser("alice"), db)
            #expect(throws: AccountStoreError.usernameTaken) {
                try store.insertUser(newUser("alice", email: "other@example.com"), db)
            }
            #expect(throws: AccountStoreError.emailTaken) {
                try store.insertUser(newUser("alice2", email: "ALICE@EXAMPLE.COM"), db)
            }
            #expect(throws: AccountStoreError.usernameTaken) { try store.insertUser(newUser("alice"), db) }
            #expect(try store.userCount(db) == 1)
        }
    }

    @Test func updatesProfilePasswordAndFlags() throws {
        try withStore { db in
            let user = try store.insertUser(newUser("bob"), db)
            let updated = try #require(
                try store.updateProfile(id: user.id, ProfileChanges(displayName: "Bobby", bio: "hi"), now: 2_000, db))
            #expect(updated.displayName == "Bobby" && updated.bio == "hi" && updated.avatarURL == "")
            #expect(updated.updatedAt == 2_000)
            let avatar = try #require(
                try store.updateProfile(id: user.id, ProfileChanges(avatarURL: "https://x.example/a"), now: 3_000, db))
            #expect(avatar.displayName == "Bobby" && avatar.bio == "hi" && avatar.avatarURL == "https://x.example/a")
            #expect(try store.updateProfile(id: 999, ProfileChanges(bio: "x"), now: 0, db) == nil)

            #expect(try store.updatePasswordHash(id: user.id, to: "new", expected: "wrong", now: 4_000, db) == false)
            #expect(try store.updatePasswordHash(id: user.id, to: "new", expected: "hash-bob", now: 4_000, db))
            #expect(try store.updatePasswordHash(id: user.id, to: "newer", now: 4_000, db))
            #expect(try store.user(id: user.id, db)?.passwordHash == "newer")

            #expect(try store.setDisabled(id: user.id, true, now: 5_000, db)?.isDisabled == true)
            #expect(try store.setAdmin(id: user.id, true, now: 5_000, db)?.isAdmin == true)
            #expect(try store.setDisabled(id: 999, true, now: 5_000, db) == nil)
        }
    }

    @Test func anonymisingFreesTheEmailAndKeepsTheRow() throws {
        try withStore { db in
            let user = try store.insertUser(newUser("carol", displayName: "Carol"), db)
            try store.setAdmin(id: user.id, true, now: 1_500, db)
            let gone = try #require(try store.anonymiseUser(id: user.id, now: 2_000, db))
            #expect(gone.id == user.id)
            #expect(gone.username == "deleted-\(user.id)")
            #expect(gone.email == nil)
            #expect(gone.displayName == "Deleted user")
            #expect(gone.bio == "" && gone.avatarURL == "" && gone.passwordHash == "")
            #expect(!gone.isAdmin && gone.isDeleted && gone.deletedAt == 2_000)
            #expect(gone.createdAt == user.createdAt)
            // Only once; and a deleted account takes no updates.
            #expect(try store.anonymiseUser(id: user.id, now: 3_000, db) == nil)
            #expect(try store.updateProfile(id: user.id, ProfileChanges(bio: "x"), now: 3_000, db) == nil)
            #expect(try store.updatePasswordHash(id: user.id, to: "h", now: 3_000, db) == false)
            // The same username and email can be registered again.
            let again = try store.insertUser(newUser("carol"), db)
            #expect(again.id != user.id)
        }
    }

    @Test func searchUsesPrefixesOfUsernameOrDisplayNameWithKeysetPagination() throws {
        try withStore { db in
            let names: [(String, String)] = [
                ("adam", "Zed Adam"), ("alex", "Alex"), ("alina", "Lina"), ("bert", "Al Bert"), ("chris", "Chris"),
                ("dora", "Ålesund Dora"), ("eve", "Al"),
            ]
            for (name, display) in names {
                try store.insertUser(newUser(name, displayName: display), db)
            }
            let disabled = try store.insertUser(newUser("albert", displayName: "Albert"), db)
            try store.setDisabled(id: disabled.id, true, now: 2_000, db)
            let deleted = try store.insertUser(newUser("alfred"), db)
            try store.anonymiseUser(id: deleted.id, now: 2_000, db)

            func search(_ prefix: String, after: String? = nil, limit: Int = 10) throws -> [String] {
                try store.searchUsers(prefix: prefix, after: after, limit: limit, db).map(\.username)
            }
            #expect(try search("al") == ["alex", "alina", "bert", "eve"])
            #expect(try search("AL") == ["alex", "alina", "bert", "eve"])
            #expect(try search("al", limit: 2) == ["alex", "alina"])
            #expect(try search("al", after: "alina", limit: 2) == ["bert", "eve"])
            #expect(try search("al", after: "eve") == [])
            #expect(try search("å") == ["dora"])
            #expect(try search("zed a") == ["adam"])
            #expect(try search("") == ["adam", "alex", "alina", "bert", "chris", "dora", "eve"])
            #expect(try search("", after: "chris", limit: 2) == ["dora", "eve"])
            #expect(try search("nobody") == [])
        }
    }

    @Test func searchRunsOnTheIndexes() throws {
        try withStore { db in
            for index in 0..<200 {
                try store.insertUser(newUser("user\(index)", displayName: "Name \(index)"), db)
            }
            let plan = try db.query(
                "EXPLAIN QUERY PLAN "
                    + AccountStore.searchUsersSQL, ["na", .blob(Array("nb".utf8)), "", 10, 1]
            ).compactMap { $0["detail"].string }
            // Both halves search their index; nothing scans the table.
            #expect(plan.contains { $0.contains("SEARCH users USING INDEX users_username") })
            #expect(plan.contains { $0.contains("SEARCH users USING INDEX users_display_name_key") })
            #expect(!plan.contains { $0.hasPrefix("SCAN users") })
        }
    }

    @Test func listsUsersByIdWithDeletedAndDisabledOnes() throws {
        try withStore { db in
            for name in ["u-one", "u-two", "u-three"] {
                try store.insertUser(newUser(name), db)
            }
            try store.anonymiseUser(id: 2, now: 5, db)
            #expect(try store.listUsers(limit: 10, db).map(\.username) == ["u-one", "deleted-2", "u-three"])
            #expect(try store.listUsers(afterID: 1, limit: 1, db).map(\.id) == [2])
        }
    }

    @Test func bulkInsertSkipsConflictsAndCountsInsertions() throws {
        try withStore { db in
            try store.insertUser(newUser("taken"), db)
            var batch = (0..<10_000).map { newUser("bulk\($0)") }
            batch.append(newUser("taken", email: "fresh@example.com"))
            batch.append(newUser("fresh", email: "TAKEN@example.com"))
            batch.append(newUser("bulk1"))
            let inserted = try db.transaction { db in try store.insertUsers(batch, db) }
            #expect(inserted == 10_000)
            #expect(try store.userCount(db) == 10_001)
            #expect(try store.user(username: "bulk9999", db)?.email == "bulk9999@example.com")
        }
    }

    // MARK: Sessions and tokens

    private func session(_ id: String, user: Int64, at time: Int64, expires: Int64 = 100_000) -> SessionRecord {
        SessionRecord(
            id: id, userID: user, device: "dev-\(id)", ip: "10.0.0.1", createdAt: time, lastUsedAt: time,
            expiresAt: expires)
    }

    @Test func sessionsAreCreatedTouchedListedAndRevoked() throws {
        try withStore { db in
            let user = try store.insertUser(newUser("dave"), db)
            let other = try store.insertUser(newUser("erin"), db)
            try store.insertSession(session("s1", user: user.id, at: 1), db)
            try store.insertSession(session("s2", user: user.id, at: 2), db)
            try store.insertSession(session("s3", user: user.id, at: 3, expires: 50), db)
            try store.insertSession(session("s4", user: user.id, at: 4), db)
            try store.insertSession(session("x1", user: other.id, at: 5), db)

            // Active = unrevoked and unexpired, newest first.
            #expect(try store.activeSessions(userID: user.id, now: 60, db).map(\.id) == ["s4", "s2", "s1"])
            #expect(try store.activeSessions(userID: user.id, now: 10, db).map(\.id) == ["s4", "s3", "s2", "s1"])

            try store.touchSession(id: "s1", lastUsedAt: 70, ip: "10.0.0.2", device: "new", expiresAt: 200_000, db)
            let touched = try #require(try store.session(id: "s1", db))
            #expect(touched.lastUsedAt == 70 && touched.ip == "10.0.0.2" && touched.device == "new")
            #expect(touched.expiresAt == 200_000 && touched.createdAt == 1)

            // One: only the owner's, only once.
            #expect(try store.revokeSession(id: "x1", userID: user.id, now: 80, db) == false)
            #expect(try store.revokeSession(id: "s2", userID: user.id, now: 80, db))
            #expect(try store.revokeSession(id: "s2", userID: user.id, now: 81, db) == false)
            #expect(try store.session(id: "s2", db)?.revokedAt == 80)

            // All but one, then all: the ids revoked are returned.
            #expect(Set(try store.revokeSessions(userID: user.id, keeping: "s4", now: 90, db)) == ["s1", "s3"])
            #expect(try store.activeSessions(userID: user.id, now: 60, db).map(\.id) == ["s4"])
            #expect(try store.revokeSessions(userID: user.id, now: 95, db) == ["s4"])
            #expect(try store.activeSessions(userID: user.id, now: 60, db).isEmpty)
            #expect(try store.activeSessions(userID: other.id, now: 60, db).map(\.id) == ["x1"])
        }
    }

    @Test func refreshTokensAreFoundByHashAndSpentOnce() throws {
        try withStore { db in
            let user = try store.insertUser(newUser("frank"), db)
            try store.insertSession(session("s1", user: user.id, at: 1), db)
            let token = RefreshTokenRecord(tokenHash: "abc123", sessionID: "s1", createdAt: 1, expiresAt: 1_000)
            try store.insertRefreshToken(token, db)
            #expect(try store.refreshToken(hash: "abc123", db) == token)
            #expect(try store.refreshToken(hash: "other", db) == nil)
            #expect(try store.markRefreshTokenUsed(hash: "abc123", now: 5, db))
            #expect(try store.markRefreshTokenUsed(hash: "abc123", now: 6, db) == false)
            #expect(try store.refreshToken(hash: "abc123", db)?.usedAt == 5)

            try store.insertRefreshToken(
                RefreshTokenRecord(tokenHash: "later", sessionID: "s1", createdAt: 1, expiresAt: 5_000), db)
            #expect(try store.deleteExpiredRefreshTokens(now: 1_000, db) == 1)
            #expect(try store.refreshToken(hash: "later", db) != nil)
            // A token of an unknown session is refused by the foreign key.
            #expect(throws: DatabaseError.self) {
                try store.insertRefreshToken(
                    RefreshTokenRecord(tokenHash: "orphan", sessionID: "nope", createdAt: 1, expiresAt: 5), db)
            }
        }
    }

    @Test func revokedTokensAreListedUntilTheyExpireAndThenPruned() throws {
        try withStore { db in
            try store.insertRevokedToken(RevokedTokenRecord(jti: "a", expiresAt: 100), db)
            try store.insertRevokedToken(RevokedTokenRecord(jti: "b", expiresAt: 200), db)
            // Revoking twice is harmless.
            try store.insertRevokedToken(RevokedTokenRecord(jti: "a", expiresAt: 100), db)
            #expect(Set(try store.revokedTokens(now: 50, db).map(\.jti)) == ["a", "b"])
            #expect(try store.revokedTokens(now: 100, db).map(\.jti) == ["b"])
            #expect(try store.pruneRevokedTokens(now: 150, db) == 1)
            #expect(try store.revokedTokens(now: 0, db) == [RevokedTokenRecord(jti: "b", expiresAt: 200)])
        }
    }

    @Test func deletingAUserRowCascadesToItsSessionsAndTokens() throws {
        try withStore { db in
            let user = try store.insertUser(newUser("gina"), db)
            try store.insertSession(session("s1", user: user.id, at: 1), db)
            try store.insertRefreshToken(
                RefreshTokenRecord(tokenHash: "h", sessionID: "s1", createdAt: 1, expiresAt: 10), db)
            try db.run("DELETE FROM users WHERE id = ?", [.integer(user.id)])
            #expect(try count("sessions", in: db) == 0)
            #expect(try count("refresh_tokens", in: db) == 0)
        }
    }

    @Test func aValueOfTheWrongTypeIsReportedNotTrusted() throws {
        // STRICT tables refuse such values, but a file edited by other tools might hold them.
        let names = ["id", "user_id", "device", "ip", "created_at", "last_used_at", "expires_at", "revoked_at"]
        let row = Row(columnNames: names, values: ["s1", "not-a-number", "d", "i", 1, 1, 1, nil])
        #expect(throws: AccountStoreError.corruptRow(table: "sessions", column: "user_id")) {
            try AccountStore.decodeSession(row)
        }
        let good = Row(columnNames: names, values: ["s1", 7, "d", "i", 1, 2, 3, nil])
        #expect(try AccountStore.decodeSession(good).userID == 7)
    }
}
