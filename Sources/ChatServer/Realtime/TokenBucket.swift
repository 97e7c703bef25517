/// A connection's message budget (loop-confined, so no lock): `perSecond` sustained, `burst` at once.
struct TokenBucket {
    let perSecond: Double
    let burst: Double
    private var tokens: Double
    private var last: Int64

    init(perSecond: Int, burst: Int, now: Int64) {
        self.perSecond = Double(perSecond)
        self.burst = Double(max(burst, 1))
        tokens = self.burst
        last = now
    }

    /// Takes one token if there is one; `now` in milliseconds.
    mutating func take(now: Int64) -> Bool {
        tokens = min(burst, tokens + Double(max(now - last, 0)) * perSecond / 1000)
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
