import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One log destination: its level, its format, its file descriptor and its batch buffer.
///
/// The process normally has just one, ``shared``, which ``LogSystem`` configures and every ``Logger`` made
/// with `Logger(_:)` writes to. Other instances exist so that code which must see exactly what it logged
/// (tests, above all) is isolated from everything else in the process: each instance has its own lock and
/// its own pending buffer, so another thread's lines can neither interleave with its output nor flush its
/// batch early.
///
/// Lines from ordinary threads are written immediately. Threads that called
/// ``LogSystem/batchOnCurrentThread()`` (event loops) append to the output's buffer instead, which is written
/// by ``flush()`` or once it passes 64 KiB, so a busy loop costs one `write(2)` per iteration rather than one
/// per line. One mutex guards both the buffer and the descriptor, so lines never interleave and stay in the
/// order they were submitted.
public final class LogOutput: Sendable {
    /// Batched bytes are written once an output's buffer reaches this size, even without a flush.
    static let batchLimit = 64 * 1024

    /// The process-wide output behind ``LogSystem`` and `Logger(_:)`: `info`, `logfmt`, standard error until
    /// ``LogSystem/configure(level:format:fileDescriptor:)`` says otherwise.
    public static let shared: LogOutput = {
        let output = LogOutput(level: .info, format: .logfmt, fileDescriptor: 2)
        // Lines still batched when the process exits normally would otherwise be lost. Only the shared
        // output is flushed here: other instances belong to code that flushes them itself, and may outlive
        // their descriptor, whose number could by then belong to an unrelated file.
        atexit { LogOutput.shared.flush() }
        return output
    }()

    /// Replaces the default action of SIGPIPE, once per process, before any output can write.
    ///
    /// A vanished reader of a log pipe must give EPIPE, not kill the process. Only the default action is
    /// replaced, so a handler the application installed is left alone.
    private static let ignoresBrokenPipes: Bool = {
        var current = sigaction()
        guard sigaction(SIGPIPE, nil, &current) == 0 else { return false }
        #if canImport(Glibc)
            let isDefault = current.__sigaction_handler.sa_handler == nil
        #else
            let isDefault = current.__sigaction_u.__sa_handler == nil
        #endif
        if isDefault { signal(SIGPIPE, SIG_IGN) }
        return true
    }()

    private let minimumLevel: Atomic<Int>
    private let formatIsJSON: Atomic<Bool>
    private let sink: Mutex<LogSink>

    /// Creates an output writing to `fileDescriptor`, which it does not own: it is never closed here.
    ///
    /// A thread that batches (see ``LogSystem/batchOnCurrentThread()``) and logs to this output must call
    /// this output's ``flush()``: ``LogSystem/flush()`` only flushes ``shared``.
    public init(level: LogLevel = .info, format: LogFormat = .logfmt, fileDescriptor: Int32 = 2) {
        _ = Self.ignoresBrokenPipes
        LogSink.occupyIfClosed(fileDescriptor)
        minimumLevel = Atomic(level.rawValue)
        formatIsJSON = Atomic(format == .json)
        sink = Mutex(LogSink(fileDescriptor: fileDescriptor))
    }

    /// Sets the level, format and output descriptor. Lines already batched go to the previous descriptor first.
    ///
    /// The descriptor is not closed when replaced. If it is 0, 1 or 2 and closed, `/dev/null` is opened on it:
    /// otherwise the next socket or database file would get that number and receive the log lines.
    public func configure(level: LogLevel, format: LogFormat, fileDescriptor: Int32) {
        sink.withLock { sink in
            sink.flush()
            LogSink.occupyIfClosed(fileDescriptor)
            sink.fileDescriptor = fileDescriptor
        }
        minimumLevel.store(level.rawValue, ordering: .relaxed)
        formatIsJSON.store(format == .json, ordering: .relaxed)
    }

    /// Writes lines batched so far on this output. Cheap when nothing is pending.
    public func flush() {
        sink.withLock { $0.flush() }
    }

    /// Whether events of `level` are currently written.
    public func isEnabled(_ level: LogLevel) -> Bool {
        level.rawValue >= minimumLevel.load(ordering: .relaxed)
    }

    func emit(level: LogLevel, component: String, message: String, fields: KeyValuePairs<String, String>) {
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
        let batching = LogSystem.currentThreadBatches
        sink.withLock { $0.submit(line, batching: batching) }
    }
}

/// An output's buffer and descriptor; only touched under its `LogOutput`'s lock.
struct LogSink: Sendable {
    var fileDescriptor: Int32
    var pending: [UInt8] = []

    /// Opens `/dev/null` on a closed standard descriptor (see `LogOutput.configure`).
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
            if pending.count >= LogOutput.batchLimit { flush() }
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
        if pending.capacity > 4 * LogOutput.batchLimit {
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
