/// Whether a rate-limited action may go ahead.
public enum RateLimitDecision: Sendable, Equatable {
    case allowed
    /// Refused; one token will be back in `retryAfter` whole seconds (at least 1), the value for a
    /// `Retry-After` header.
    case limited(retryAfter: Int)
}

/// Token buckets by key (client IP, login name, user id): each key may spend `capacity` actions at
/// once, and regains `refillPerSecond` of them per second up to `capacity`.
///
/// Buckets live in an ``LRUCache`` of `maxEntries`, so memory stays bounded however many keys clients
/// invent. Evicting a bucket forgets its debt: the key starts again with a full bucket. Only the least
/// recently used keys are evicted, i.e. the ones idle for longest, whose buckets have refilled the most;
/// a key hammering the limiter stays recent and keeps its (empty) bucket.
///
/// Time is passed in (`now`, seconds on any steady clock the caller uses consistently), so tests need
/// no sleeping. Thread-safe: each `take` is one atomic update of its bucket.
public final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updatedAt: Double
    }

    public let capacity: Double
    public let refillPerSecond: Double
    private let buckets: LRUCache<String, Bucket>

    /// - Parameters:
    ///   - capacity: the burst size, at least 1.
    ///   - refillPerSecond: the sustained rate, above 0 (e.g. `10.0 / 60` for ten a minute).
    ///   - maxEntries: the most keys tracked at once.
    public init(capacity: Int, refillPerSecond: Double, maxEntries: Int) {
        precondition(capacity >= 1, "a rate limit must allow at least one action")
        precondition(refillPerSecond > 0 && refillPerSecond.isFinite, "the refill rate must be positive")
        self.capacity = Double(capacity)
        self.refillPerSecond = refillPerSecond
        buckets = LRUCache(capacity: maxEntries)
    }

    /// `count` actions per `period` seconds, all of which may be spent at once: the shape of the
    /// `*_per_minute` and `*_per_hour` settings.
    public convenience init(count: Int, per period: Double, maxEntries: Int) {
        precondition(period > 0, "the period must be positive")
        self.init(capacity: count, refillPerSecond: Double(count) / period, maxEntries: maxEntries)
    }

    /// Number of keys tracked.
    public var trackedKeys: Int { buckets.count }

    /// Spends one token of `key`'s bucket if it has one at `now`.
    public func take(_ key: String, now: Double) -> RateLimitDecision {
        let capacity = capacity
        let refill = refillPerSecond
        return buckets.withValue(forKey: key, now: 0, makeValue: { Bucket(tokens: capacity, updatedAt: now) }) {
            bucket in
            // A clock that went backwards (or a caller mixing clocks) must not drain or overfill the bucket.
            let elapsed = max(0, now - bucket.updatedAt)
            bucket.tokens = min(capacity, bucket.tokens + elapsed * refill)
            bucket.updatedAt = max(bucket.updatedAt, now)
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return .allowed
            }
            let wait = (1 - bucket.tokens) / refill
            // Rounded up so that a client retrying after that long finds a token; at least 1 s. The
            // nanosecond off absorbs rounding error, so an exact 6 s does not come out as 7.
            let seconds = (wait - 1e-9).rounded(.up)
            return .limited(retryAfter: seconds >= Double(Int.max) ? Int.max : max(1, Int(seconds)))
        }
    }
}
