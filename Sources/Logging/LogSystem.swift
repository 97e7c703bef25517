import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Process-wide logging configuration and output.
///
/// Lines from ordinary threads are written immediately. Threads that called ``batchOnCurrentThread()`` (event
/// loops) append to a shared buffer instead, which is written by ``flush()`` or once it passes 64 KiB, so a busy
/// loop costs one `write(2)` per iteration rather than one per line. One mutex guards both the buffer and the
/// file descriptor, so lines never interleave and stay in the order they were submitted.
public enum LogSystem {
    /// Batched bytes are written once the shared buffer reaches this size, even without a flush.
    static let batchLimit = 64 * 1024

    private static let minimumLevel = Atomic<Int>(LogLevel.info.rawValue)
    private static let formatIsJSON = Atomic<Bool>(false)
    private static let sink = Mutex(LogSink.makeDefault())

    /// Set (non-nil) on threads that batch. A plain pthread key because event loops are plain threads, not tasks.
    private static let batchingKey: pthread_key_t? = {
        var key = pthread_key_t()
        return pthread_key_create(&key, nil) == 0 ? key : nil
    }()

    /// Sets the level, format and output descriptor. Call once at start-up; until then the defaults are
    /// `info`, `logfmt` and standard error. Lines already batched go to the previous descriptor first.
    ///
    /// The descriptor is not closed when replaced. If it is 0, 1 or 2 and closed, `/dev/null` is opened on it:
    /// otherwise the next socket or database file would get that number and receive the log lines.
    public static func configure(level: LogLevel, format: LogFormat, fileDescriptor: Int32 = 2) {
        sink.withLock { sink in
            sink.flush()
            LogSink.occupyIfClosed(fileDescriptor)
            sink.fileDescriptor = fileDescriptor
        }
        minimumLevel.store(level.rawValue, ordering: .relaxed)
        formatIsJSON.store(format == .json, ordering: .relaxed)
    }

    /// Writes lines batched so far. Event loops call this once per iteration; it is cheap when nothing is pending.
    public static func flush() {
        sink.withLock { $0.flush() }
    }

    /// Marks the calling thread as batching: its lines wait in the shared buffer until ``flush()`` or until the
    /// buffer passes 64 KiB. Meant for event-loop threads, which must call ``flush()`` every iteration.
    public static func batchOnCurrentThread() {
        guard let key = batchingKey else { return }
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
    }

    static func isEnabled(_ level: LogLevel) -> Bool {
        level.rawValue >= minimumLevel.load(ordering: .relaxed)
    }

    static var currentThreadBatches: Bool {
        guard let key = batchingKey else { return false }
        return pthread_getspecific(key) != nil
    }

    static func emit(level: LogLevel, component: String, message: String, fields: KeyValuePairs<String, String>) {
        // Formatting happens outside the lock; only the append and the write are serialized.
        var line: [UInt8] = []
        line.reserveCapacity(96 + component.utf8.count + message.utf8.count)
        LogLineFormatter.format(
            formatIsJSON.load(ordering: .relaxed) ? .json : .logfmt,
            time: .now(),
            level: level,
            component: component,
            message: message,
            fields: fields,
            into: &line
        )
        let batching = currentThreadBatches
        sink.withLock { $0.submit(line, batching: batching) }
    }
}

/// The shared buffer and output descriptor; only touched under `LogSystem.sink`'s lock.
struct LogSink: Sendable {
    var fileDescriptor: Int32
    var pending: [UInt8] = []

    /// Builds the initial sink. Runs once, on first use, so it also sets up the process-level guards.
    static func makeDefault() -> LogSink {
        // A vanished reader of a log pipe must give EPIPE, not kill the process. Only the default action is
        // replaced, so a handler the application installed is left alone.
        var current = sigaction()
        if sigaction(SIGPIPE, nil, &current) == 0 {
            #if canImport(Glibc)
                let isDefault = current.__sigaction_handler.sa_handler == nil
            #else
                let isDefault = current.__sigaction_u.__sa_handler == nil
            #endif
            if isDefault { signal(SIGPIPE, SIG_IGN) }
        }
        // Lines still batched when the process exits normally would otherwise be lost.
        atexit { LogSystem.flush() }
        occupyIfClosed(2)
        return LogSink(fileDescriptor: 2)
    }

    /// Opens `/dev/null` on a closed standard descriptor (see `LogSystem.configure`).
    static func occupyIfClosed(_ fileDescriptor: Int32) {
        guard (0...2).contains(fileDescriptor), fcntl(fileDescriptor, F_GETFD) == -1, errno == EBADF else { return }
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        guard null >= 0 else { return }
        if null != fileDescriptor {
            dup2(null, fileDescriptor)  // the copy does not inherit O_CLOEXEC, like a normally inherited stderr
            close(null)
        } else {
            _ = fcntl(null, F_SETFD, 0)
        }
    }

    mutating func submit(_ line: [UInt8], batching: Bool) {
        if batching {
            pending.append(contentsOf: line)
            if pending.count >= LogSystem.batchLimit { flush() }
        } else if pending.isEmpty {
            Self.writeAll(line, to: fileDescriptor)
        } else {
            // Earlier batched lines go out first, in the same write, so the output keeps submission order.
            pending.append(contentsOf: line)
            flush()
        }
    }

    mutating func flush() {
        guard !pending.isEmpty else { return }
        Self.writeAll(pending, to: fileDescriptor)
        if pending.capacity > 4 * LogSystem.batchLimit {
            pending = []  // one huge line should not pin its buffer for the rest of the process
        } else {
            pending.removeAll(keepingCapacity: true)
        }
    }

    /// Writes every byte, retrying partial writes and EINTR. On a non-blocking descriptor it waits up to a
    /// second for room. Any other failure (closed descriptor, EPIPE, full disk) drops the rest: logging must
    /// never take the process down or stall it forever.
    static func writeAll(_ bytes: [UInt8], to fileDescriptor: Int32) {
        bytes.withUnsafeBytes { raw in
            guard var next = raw.baseAddress else { return }
            var remaining = raw.count
            while remaining > 0 {
                let written = write(fileDescriptor, next, remaining)
                if written > 0 {
                    next += written
                    remaining -= written
                    continue
                }
                guard written < 0 else { return }
                switch errno {
                case EINTR:
                    continue
                case EAGAIN, EWOULDBLOCK:
                    var poller = pollfd(fd: fileDescriptor, events: Int16(POLLOUT), revents: 0)
                    guard poll(&poller, 1, 1000) > 0 else { return }
                default:
                    return
                }
            }
        }
    }
}
