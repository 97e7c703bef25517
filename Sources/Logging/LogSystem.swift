#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process-wide logging configuration: a static front for ``LogOutput/shared``, plus the per-thread
/// batching switch, which applies to whichever output a thread logs to.
///
/// Kept as statics so start-up code and event loops need no output handle; code that must see exactly what
/// it logged (tests) uses its own ``LogOutput`` instead, which nothing else in the process writes to.
public enum LogSystem {
    /// Set (non-nil) on threads that batch. A plain pthread key because event loops are plain threads, not tasks.
    private static let batchingKey: pthread_key_t? = {
        var key = pthread_key_t()
        return pthread_key_create(&key, nil) == 0 ? key : nil
    }()

    /// Sets the shared output's level, format and descriptor. Call once at start-up; until then the defaults
    /// are `info`, `logfmt` and standard error. Lines already batched go to the previous descriptor first.
    ///
    /// The descriptor is not closed when replaced. If it is 0, 1 or 2 and closed, `/dev/null` is opened on it:
    /// otherwise the next socket or database file would get that number and receive the log lines.
    public static func configure(level: LogLevel, format: LogFormat, fileDescriptor: Int32 = 2) {
        LogOutput.shared.configure(level: level, format: format, fileDescriptor: fileDescriptor)
    }

    /// Writes lines batched so far on the shared output before returning; cheap when nothing is pending. Other
    /// ``LogOutput`` instances keep their batches until their own `flush()`.
    public static func flush() {
        LogOutput.shared.flush()
    }

    /// Has the shared output's batched lines written by its own thread: what event loops call every iteration,
    /// so that a stalled log pipe never blocks one. ``flush()`` writes before it returns.
    public static func handOff() {
        LogOutput.shared.handOff()
    }

    /// Marks the calling thread as batching: its lines wait in their output's buffer until that output is
    /// flushed or its buffer passes 64 KiB. Meant for event-loop threads, which must call ``flush()`` every
    /// iteration.
    public static func batchOnCurrentThread() {
        guard let key = batchingKey else { return }
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
    }

    static var currentThreadBatches: Bool {
        guard let key = batchingKey else { return false }
        return pthread_getspecific(key) != nil
    }
}
