import Testing

@testable import ChatCore

@Suite struct RateLimiterTests {
    @Test func allowsABurstOfCapacityThenLimits() {
        let limiter = RateLimiter(count: 10, per: 60, maxEntries: 100)
        for _ in 0..<10 {
            #expect(limiter.take("203.0.113.7", now: 1_000) == .allowed)
        }
        // One token comes back every 6 s.
        #expect(limiter.take("203.0.113.7", now: 1_000) == .limited(retryAfter: 6))
        // Other keys have buckets of their own.
        #expect(limiter.take("203.0.113.8", now: 1_000) == .allowed)
    }

    @Test func refillsOverTimeUpToCapacity() {
        let limiter = RateLimiter(capacity: 2, refillPerSecond: 0.5, maxEntries: 10)
        #expect(limiter.take("k", now: 0) == .allowed)
        #expect(limiter.take("k", now: 0) == .allowed)
        #expect(limiter.take("k", now: 0) == .limited(retryAfter: 2))
        // Half a token after 1 s: still limited, one more second to go.
        #expect(limiter.take("k", now: 1) == .limited(retryAfter: 1))
        #expect(limiter.take("k", now: 2) == .allowed)
        #expect(limiter.take("k", now: 2) == .limited(retryAfter: 2))
        // A long pause refills to capacity, not beyond.
        #expect(limiter.take("k", now: 1_000) == .allowed)
        #expect(limiter.take("k", now: 1_000) == .allowed)
        #expect(limiter.take("k", now: 1_000) == .limited(retryAfter: 2))
    }

    @Test func retryAfterIsRoundedUpAndAtLeastOneSecond() {
        // 600 a minute: a token every 0.1 s, yet Retry-After is whole seconds, at least 1.
        let fast = RateLimiter(count: 600, per: 60, maxEntries: 10)
        for _ in 0..<600 {
            #expect(fast.take("u", now: 0) == .allowed)
        }
        #expect(fast.take("u", now: 0) == .limited(retryAfter: 1))
        // 20 an hour: a token every 180 s; 0.5 s later, 179.5 s remain, rounded up to 180.
        let slow = RateLimiter(count: 20, per: 3600, maxEntries: 10)
        for _ in 0..<20 {
            #expect(slow.take("ip", now: 0) == .allowed)
        }
        #expect(slow.take("ip", now: 0.5) == .limited(retryAfter: 180))
        #expect(slow.take("ip", now: 181) == .allowed)
    }

    @Test func aClockGoingBackwardsNeitherRefillsNorDrains() {
        let limiter = RateLimiter(capacity: 1, refillPerSecond: 1, maxEntries: 10)
        #expect(limiter.take("k", now: 100) == .allowed)
        #expect(limiter.take("k", now: 50) == .limited(retryAfter: 1))
        #expect(limiter.take("k", now: 101) == .allowed)
    }

    @Test func tracksAtMostMaxEntriesKeys() {
        let limiter = RateLimiter(capacity: 1, refillPerSecond: 0.001, maxEntries: 3)
        for index in 0..<50 {
            #expect(limiter.take("key-\(index)", now: 0) == .allowed)
        }
        #expect(limiter.trackedKeys == 3)
        // The most recent keys keep their empty buckets...
        #expect(limiter.take("key-49", now: 0) != .allowed)
        // ...while an evicted one starts over with a full bucket.
        #expect(limiter.take("key-0", now: 0) == .allowed)
        #expect(limiter.trackedKeys == 3)
    }
}
