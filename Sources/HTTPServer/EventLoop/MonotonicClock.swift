import Glibc

/// Monotonic time for deadlines and durations (never jumps with the wall clock).
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point.
    @inline(__always)
    public static func nanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }

    @inline(__always)
    public static func milliseconds() -> Int64 { Int64(nanoseconds() / 1_000_000) }
}
