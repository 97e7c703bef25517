import Storage
import Testing

@testable import ChatCore

/// The synchronous fast path and its caches: what is decided from memory, for how long, and how
/// changes reach it.
@Suite struct AccountAuthCacheTests {
    @Test func theFastPathNeedsALookupUntilTheStateIsCached() async throws {
        try await withAccounts { fixture in
            let signedIn = try await fixture.register("alice")
            let token = signedIn.tokens.accessToken
            // Nothing cached yet (and the revocation list not loaded).
            #expect(fixture.service.authenticateCached(token) == .needsLookup)
            let principal = try await fixture.service.authenticate(token)
            #expect(fixture.service.authenticateCached(token) == .valid(principal))
            // Within the TTL the answer comes from memory; at the TTL it must be looked up again.
            fixture.clock.advance(milliseconds: 999)
            #expect(fixture.service.authenticateCached(token) == .valid(principal))
            fixture.clock.advance(milliseconds: 1)
            #expect(fixture.service.authenticateCached(token) == .needsLookup)
            #expect(try await fixture.service.authenticate(token) == principal)
            #expect(fixture.service.authenticateCached(token) == .valid(principal))
        }
    }

    @Test func revocationsLoadedAtStartupLetTheFastPathRefuseAtOnce() async throws {
        try await withAccounts { fixture in
            let signedIn = try await fixture.register("zoe")
            let principal = try await fixture.service.authenticate(signedIn.tokens.accessToken)
            try await fixture.service.logout(principal)
            // A restarted server: nothing cached, but the revocation list can be loaded up front.
            let restarted = fixture.otherProcess()
            #expect(restarted.authenticateCached(signedIn.tokens.accessToken) == .needsLookup)
            try await restarted.loadRevocations()
            #expect(
                restarted.authenticateCached(signedIn.tokens.accessToken) == .invalid(.invalidToken("token revoked")))
        }
    }

    @Test func anotherProcessDisablingTheUserTakesEffectWithinTheTTL() async throws {
        try await withAccounts { fixture in
            let signedIn = try await fixture.register("bob")
            let token = signedIn.tokens.accessToken
            _ = try await fixture.service.authenticate(token)

            // `chat user disable bob`, run as a separate process with caches of its own.
            try await fixture.otherProcess().setDisabled(username: "bob", true)
            // The server still trusts its cache for up to one TTL...
            #expect(fixture.service.authenticateCached(token).principal != nil)
            fixture.clock.advance(milliseconds: 1_000)
            // ...then looks again and refuses.
            #expect(fixture.service.authenticateCached(token) == .needsLookup)
            let error = await accountError { try await fixture.service.authenticate(token) }
            #expect(error == .invalidToken("account disabled"))
            #expect(fixture.service.authenticateCached(token) == .invalid(.invalidToken("account disabled")))

            // Re-enabled elsewhere: accepted again after the TTL.
            try await fixture.otherProcess().setDisabled(username: "bob", false)
            fixture.clock.advance(milliseconds: 1_000)
            _ = try await fixture.service.authenticate(token)
        }
    }

    @Test func anotherProcessRevokingSessionsTakesEffectWithinTheTTL() async throws {
        try await withAccounts { fixture in
            let signedIn = try await fixture.register("carol")
            let token = signedIn.tokens.accessToken
            _ = try await fixture.service.authenticate(token)
            // `chat user reset-password carol` revokes every session.
            try await fixture.otherProcess().resetPassword(username: "carol", newPassword: "brand-new-password")
            #expect(fixture.service.authenticateCached(token).principal != nil)
            fixture.clock.advance(milliseconds: 1_000)
            let error = await accountError { try await fixture.service.authenticate(token) }
            #expect(error == .invalidToken("session revoked"))
        }
    }

    @Test func changesMadeInThisProcessApplyAtOnce() async throws {
        try await withAccounts { fixture in
            let signedIn = try await fixture.register("dave")
            let token = signedIn.tokens.accessToken
            let principal = try await fixture.service.authenticate(token)
            #expect(!principal.isAdmin)

            try await fixture.service.setAdmin(username: "dave", true)
            #expect(fixture.service.authenticateCached(token).principal?.isAdmin == true)
            try await fixture.service.setDisabled(username: "dave", true)
            #expect(fixture.service.authenticateCached(token) == .invalid(.invalidToken("account disabled")))
            try await fixture.service.setDisabled(username: "dave", false)
            #expect(fixture.service.authenticateCached(token).principal != nil)
        }
    }

    @Test func aLookupThatRacedAChangeDoesNotCacheTheOldState() {
        let state = AuthState(capacity: 10, ttl: 1_000)
        // A lookup notes the generation, then reads the database (the user is enabled)...
        let generation = state.currentGeneration
        // ...meanwhile this process disables the user and publishes it...
        state.publish(users: [7: .init(isAdmin: false, isDisabled: true, isDeleted: false)], now: 0)
        // ...and the lookup's fill arrives late: it must not overwrite the newer state.
        state.fill(
            users: [7: .init(isAdmin: false, isDisabled: false, isDeleted: false)],
            sessions: ["s": .init(userID: 7, isRevoked: false)], generation: generation, now: 0)
        #expect(state.users.value(forKey: 7, now: 0)?.isDisabled == true)
        #expect(state.sessions.value(forKey: "s", now: 0) == nil)
        // A fill with the current generation is kept.
        state.fill(
            users: [8: .init(isAdmin: true, isDisabled: false, isDeleted: false)], sessions: [:],
            generation: state.currentGeneration, now: 0)
        #expect(state.users.value(forKey: 8, now: 999)?.isAdmin == true)
        #expect(state.users.value(forKey: 8, now: 1_000) == nil)
    }

    @Test func revokedTokensAreForgottenOnceExpired() {
        let state = AuthState(capacity: 10, ttl: 1_000)
        state.addRevoked(RevokedTokenRecord(jti: "early", expiresAt: 5_000))
        // Not loaded from the database yet: unknown, whatever was added locally.
        #expect(state.isRevoked("early", now: 0) == nil)
        state.loadRevoked([RevokedTokenRecord(jti: "late", expiresAt: 500_000)])
        // The local addition survived the load.
        #expect(state.isRevoked("early", now: 0) == true)
        #expect(state.isRevoked("late", now: 0) == true)
        #expect(state.isRevoked("other", now: 0) == false)
        #expect(state.isRevoked("early", now: 5_000) == false)
        #expect(state.isRevoked("late", now: 200_000) == true)
    }

    @Test func theCachesAreBoundedByTheConfiguredCapacity() async throws {
        var policy = AccountFixture.testPolicy
        policy.userCacheCapacity = 2
        try await withAccounts(policy: policy) { fixture in
            var tokens: [String] = []
            for name in ["user1", "user2", "user3"] {
                let token = try await fixture.register(name).tokens.accessToken
                _ = try await fixture.service.authenticate(token)
                tokens.append(token)
            }
            #expect(fixture.service.state.users.count == 2)
            #expect(fixture.service.state.sessions.count == 2)
            // The least recently used was evicted and needs a lookup again; the others are cached.
            #expect(fixture.service.authenticateCached(tokens[0]) == .needsLookup)
            #expect(fixture.service.authenticateCached(tokens[2]).principal != nil)
        }
    }
}
