import Security
import Storage
import Testing

@testable import ChatCore

@Suite struct AccountServiceTokenTests {
    // MARK: refresh

    @Test func refreshRotatesTheTokenOnTheSameSession() async throws {
        try await withAccounts { fixture in
            let first = try await fixture.register("alice")
            fixture.clock.advance(seconds: 60)
            let second = try await fixture.service.refresh(
                refreshToken: first.tokens.refreshToken, client: ClientInfo(ip: "198.51.100.9", device: "phone"))
            #expect(second.user.id == first.user.id)
            #expect(second.tokens.sessionID == first.tokens.sessionID)
            #expect(second.tokens.refreshToken != first.tokens.refreshToken)
            #expect(second.tokens.accessToken != first.tokens.accessToken)
            let principal = try await fixture.service.authenticate(second.tokens.accessToken)
            #expect(principal.sessionID == first.tokens.sessionID)

            // The session records the refresh.
            let session = try #require(try await fixture.service.sessions(principal).first)
            #expect(session.ip == "198.51.100.9" && session.device == "phone")
            #expect(session.lastUsedAt == fixture.clock.now)
            #expect(session.createdAt == fixture.clock.now - 60_000)

            // The new token rotates again.
            let third = try await fixture.service.refresh(
                refreshToken: second.tokens.refreshToken, client: AccountFixture.client)
            #expect(third.tokens.sessionID == first.tokens.sessionID)
        }
    }

    @Test func reusingASpentTokenRevokesTheWholeFamily() async throws {
        try await withAccounts { fixture in
            let first = try await fixture.register("bob")
            let other = try await fixture.login("bob")
            let second = try await fixture.service.refresh(
                refreshToken: first.tokens.refreshToken, client: AccountFixture.client)
            // Both access tokens of the family work before the reuse.
            _ = try await fixture.service.authenticate(first.tokens.accessToken)
            _ = try await fixture.service.authenticate(second.tokens.accessToken)

            let reuse = await accountError {
                try await fixture.service.refresh(
                    refreshToken: first.tokens.refreshToken, client: AccountFixture.client)
            }
            #expect(reuse == .refreshTokenReused)

            // The family's newest refresh token now fails too, as do its access tokens, at once.
            let newest = await accountError {
                try await fixture.service.refresh(
                    refreshToken: second.tokens.refreshToken, client: AccountFixture.client)
            }
            #expect(newest == .invalidRefreshToken)
            #expect(fixture.service.authenticateCached(second.tokens.accessToken).isInvalid)
            #expect(fixture.service.authenticateCached(first.tokens.accessToken).isInvalid)
            let rejected = await accountError { try await fixture.service.authenticate(second.tokens.accessToken) }
            #expect(rejected == .invalidToken("session revoked"))

            // Another session of the same user is untouched.
            _ = try await fixture.service.authenticate(other.tokens.accessToken)
            _ = try await fixture.service.refresh(
                refreshToken: other.tokens.refreshToken, client: AccountFixture.client)
        }
    }

    @Test func twoConcurrentRefreshesOfOneTokenCannotBothSucceed() async throws {
        try await withAccounts { fixture in
            for round in 0..<5 {
                let signedIn = try await fixture.register("racer\(round)")
                let token = signedIn.tokens.refreshToken
                let service = fixture.service
                async let a = accountError {
                    try await service.refresh(refreshToken: token, client: AccountFixture.client)
                }
                async let b = accountError {
                    try await service.refresh(refreshToken: token, client: AccountFixture.client)
                }
                let outcomes = [await a, await b]
                // Exactly one rotated (no error); the other found the token spent.
                #expect(outcomes.filter { $0 == nil }.count == 1)
                #expect(outcomes.filter { $0 == .refreshTokenReused }.count == 1)
                // And the reuse revoked the family, the winner's new token included.
                let sessionID = signedIn.tokens.sessionID
                let revoked = try fixture.read { db in try AccountStore().session(id: sessionID, db)?.isRevoked }
                #expect(revoked == true)
            }
        }
    }

    @Test func unknownExpiredAndGarbageRefreshTokensAreInvalid() async throws {
        try await withAccounts { fixture in
            let signedIn = try await fixture.register("carol")
            for garbage in ["", "not-a-token", SecureRandom.token(), String(repeating: "x", count: 10_000)] {
                let error = await accountError {
                    try await fixture.service.refresh(refreshToken: garbage, client: AccountFixture.client)
                }
                #expect(error == .invalidRefreshToken)
            }
            // 30 days later the refresh token has expired.
            fixture.clock.advance(seconds: 30 * 24 * 3600)
            let expired = await accountError {
                try await fixture.service.refresh(
                    refreshToken: signedIn.tokens.refreshToken, client: AccountFixture.client)
            }
            #expect(expired == .invalidRefreshToken)
        }
    }

    @Test func refreshFailsForDisabledAndDeletedAccounts() async throws {
        try await withAccounts { fixture in
            let dave = try await fixture.register("dave")
            try await fixture.service.setDisabled(username: "dave", true)
            let disabled = await accountError {
                try await fixture.service.refresh(refreshToken: dave.tokens.refreshToken, client: AccountFixture.client)
            }
            #expect(disabled == .invalidRefreshToken)
            try await fixture.service.setDisabled(username: "dave", false)
            // Refused, not spent: it still works once the account is enabled again.
            let again = try await fixture.service.refresh(
                refreshToken: dave.tokens.refreshToken, client: AccountFixture.client)

            let principal = try await fixture.service.authenticate(again.tokens.accessToken)
            let second = try await fixture.login("dave")
            try await fixture.service.deleteAccount(principal, password: "dave-password")
            let deleted = await accountError {
                try await fixture.service.refresh(
                    refreshToken: second.tokens.refreshToken, client: AccountFixture.client)
            }
            #expect(deleted == .invalidRefreshToken)
        }
    }

    // MARK: logout and session revocation

    @Test func logoutRevokesTheSessionAndTheAccessTokenAtOnce() async throws {
        try await withAccounts { fixture in
            let signedIn = try await fixture.register("erin")
            let other = try await fixture.login("erin")
            let principal = try await fixture.service.authenticate(signedIn.tokens.accessToken)
            #expect(fixture.service.authenticateCached(signedIn.tokens.accessToken).principal == principal)

            try await fixture.service.logout(principal)
            #expect(
                fixture.service.authenticateCached(signedIn.tokens.accessToken)
                    == .invalid(.invalidToken("token revoked")))
            let error = await accountError { try await fixture.service.authenticate(signedIn.tokens.accessToken) }
            #expect(error == .invalidToken("token revoked"))
            let refresh = await accountError {
                try await fixture.service.refresh(
                    refreshToken: signedIn.tokens.refreshToken, client: AccountFixture.client)
            }
            #expect(refresh == .invalidRefreshToken)
            // The other session still works.
            _ = try await fixture.service.authenticate(other.tokens.accessToken)

            // The revoked jti is stored until the token expires (plus leeway), so a restart keeps it.
            let stored = try fixture.read { db in try AccountStore().revokedTokens(now: 0, db) }
            #expect(stored == [RevokedTokenRecord(jti: principal.tokenID, expiresAt: principal.expiresAt + 30_000)])
            let restarted = fixture.otherProcess()
            #expect(restarted.authenticateCached(signedIn.tokens.accessToken) == .needsLookup)
            let afterRestart = await accountError { try await restarted.authenticate(signedIn.tokens.accessToken) }
            #expect(afterRestart == .invalidToken("token revoked"))
            #expect(
                restarted.authenticateCached(signedIn.tokens.accessToken) == .invalid(.invalidToken("token revoked")))
        }
    }

    @Test func logoutAllRevokesEverySessionIncludingTheCurrentOne() async throws {
        try await withAccounts { fixture in
            let first = try await fixture.register("frank")
            let second = try await fixture.login("frank")
            let stranger = try await fixture.register("grace")
            let principal = try await fixture.service.authenticate(first.tokens.accessToken)
            _ = try await fixture.service.authenticate(second.tokens.accessToken)

            try await fixture.service.logoutAll(userID: principal.userID)
            for token in [first.tokens.accessToken, second.tokens.accessToken] {
                #expect(fixture.service.authenticateCached(token) == .invalid(.invalidToken("session revoked")))
            }
            for token in [first.tokens.refreshToken, second.tokens.refreshToken] {
                let error = await accountError {
                    try await fixture.service.refresh(refreshToken: token, client: AccountFixture.client)
                }
                #expect(error == .invalidRefreshToken)
            }
            _ = try await fixture.service.authenticate(stranger.tokens.accessToken)
        }
    }

    @Test func revokingOneSessionStopsItsTokensAndOnlyItsOwnerMayDoIt() async throws {
        try await withAccounts { fixture in
            let phone = try await fixture.register("heidi")
            let laptop = try await fixture.login("heidi")
            let mallory = try await fixture.register("mallory")
            let heidi = try await fixture.service.authenticate(phone.tokens.accessToken)
            let intruder = try await fixture.service.authenticate(mallory.tokens.accessToken)
            _ = try await fixture.service.authenticate(laptop.tokens.accessToken)

            let foreign = await accountError {
                try await fixture.service.revokeSession(intruder, sessionID: laptop.tokens.sessionID)
            }
            #expect(foreign == .notFound)
            let unknown = await accountError { try await fixture.service.revokeSession(heidi, sessionID: "no-such-id") }
            #expect(unknown == .notFound)

            try await fixture.service.revokeSession(heidi, sessionID: laptop.tokens.sessionID)
            #expect(
                fixture.service.authenticateCached(laptop.tokens.accessToken)
                    == .invalid(.invalidToken("session revoked")))
            #expect(fixture.service.authenticateCached(phone.tokens.accessToken).principal != nil)
            let listed = try await fixture.service.sessions(heidi)
            #expect(listed.map(\.id) == [phone.tokens.sessionID])
            // Revoked already: gone from the caller's point of view.
            let twice = await accountError {
                try await fixture.service.revokeSession(heidi, sessionID: laptop.tokens.sessionID)
            }
            #expect(twice == .notFound)
        }
    }

    @Test func sessionsAreListedNewestFirstWithTheCurrentOneMarked() async throws {
        try await withAccounts { fixture in
            let first = try await fixture.register("ivan")
            fixture.clock.advance(seconds: 1)
            let second = try await fixture.login("ivan")
            fixture.clock.advance(seconds: 1)
            let third = try await fixture.login("ivan")
            let principal = try await fixture.service.authenticate(second.tokens.accessToken)
            let sessions = try await fixture.service.sessions(principal)
            #expect(sessions.map(\.id) == [third.tokens.sessionID, second.tokens.sessionID, first.tokens.sessionID])
            #expect(sessions.map(\.current) == [false, true, false])
        }
    }

    // MARK: access token verification

    @Test func tamperedForeignAndExpiredAccessTokensAreRejected() async throws {
        try await withAccounts { fixture in
            let signedIn = try await fixture.register("judy")
            let token = signedIn.tokens.accessToken
            let parts = token.split(separator: ".").map(String.init)
            try #require(parts.count == 3)

            // A payload claiming another user, with the original signature.
            let forgedPayload = Base64URL.encode(
                #"{"iss":"chat","sub":"999","aud":"chat","iat":0,"nbf":0,"exp":9999999999,"jti":"x","sid":"s"}"#.utf8)
            let cases: [(String, AccountError)] = [
                ("garbage", .invalidToken("malformed")),
                ([parts[0], forgedPayload, parts[2]].joined(separator: "."), .invalidToken("bad signature")),
            ]
            for (candidate, expected) in cases {
                #expect(fixture.service.authenticateCached(candidate) == .invalid(expected))
                let error = await accountError { try await fixture.service.authenticate(candidate) }
                #expect(error == expected)
            }

            // Signed by us, but for another audience or without a session id.
            let signer = sharedKeyRing.signer
            let now = Int(fixture.clock.now / 1000)
            let otherAudience = try signer.sign(
                JWTClaims(sub: "1", iat: now, nbf: now, exp: now + 60, jti: "j1", iss: "chat", aud: "other", sid: "s"))
            #expect(fixture.service.authenticateCached(otherAudience) == .invalid(.invalidToken("wrong audience")))
            let noSession = try signer.sign(
                JWTClaims(sub: "1", iat: now, nbf: now, exp: now + 60, jti: "j2", iss: "chat", aud: "chat", sid: nil))
            #expect(fixture.service.authenticateCached(noSession) == .invalid(.invalidToken("no session id")))
            let badSubject = try signer.sign(
                JWTClaims(
                    sub: "alice", iat: now, nbf: now, exp: now + 60, jti: "j3", iss: "chat", aud: "chat", sid: "s"))
            #expect(fixture.service.authenticateCached(badSubject) == .invalid(.invalidToken("non-numeric subject")))
            // A well-formed token for a user that does not exist.
            let ghost = try signer.sign(
                JWTClaims(
                    sub: "424242", iat: now, nbf: now, exp: now + 60, jti: "j4", iss: "chat", aud: "chat", sid: "s"))
            let ghostError = await accountError { try await fixture.service.authenticate(ghost) }
            #expect(ghostError == .invalidToken("account deleted"))

            // Valid until exp plus the 30 s leeway.
            fixture.clock.advance(seconds: 900 + 30)
            _ = try await fixture.service.authenticate(token)
            fixture.clock.advance(seconds: 1)
            #expect(fixture.service.authenticateCached(token) == .invalid(.invalidToken("expired")))
        }
    }

    @Test func jwksPublishesTheSigningKey() async throws {
        try await withAccounts { fixture in
            let jwks = fixture.service.jwks()
            let active = sharedKeyRing.active.kid
            #expect(jwks.keys.contains { $0.kid == active && $0.kty == "RSA" && $0.alg == "RS256" && $0.use == "sig" })
            // A token verifies with the published key alone, as an outside party would check it.
            let signedIn = try await fixture.register("ken")
            let jwk = try #require(jwks.keys.first { $0.kid == active })
            let verifier = JWTVerifier(keys: [active: try RSAPublicKey(jwk: jwk)], issuer: "chat", audience: "chat")
            let claims = try verifier.verify(signedIn.tokens.accessToken, now: Int(fixture.clock.now / 1000))
            #expect(claims.sub == String(signedIn.user.id))
            #expect(claims.sid == signedIn.tokens.sessionID)
            #expect(claims.exp - claims.iat == 900)
        }
    }

    @Test func prunesExpiredRevocationsAndRefreshTokens() async throws {
        try await withAccounts { fixture in
            let signedIn = try await fixture.register("leo")
            let principal = try await fixture.service.authenticate(signedIn.tokens.accessToken)
            try await fixture.service.logout(principal)
            #expect(try await fixture.service.pruneExpired() == 0)
            fixture.clock.advance(seconds: 30 * 24 * 3600)
            // The revoked jti and the refresh token have both expired.
            #expect(try await fixture.service.pruneExpired() == 2)
            #expect(try fixture.read { db in try db.queryOne("SELECT count(*) FROM refresh_tokens")?[0].int } == 0)
        }
    }
}
