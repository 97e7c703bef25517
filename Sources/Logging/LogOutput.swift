import Synchronization
import SystemSupport

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
/// per line. Event loops call ``handOff()`` instead of ``flush()``: the shared output then has its buffer
/// written by a thread of its own, so a log pipe that stops draining never blocks a loop (house rule 7); past
/// ``pendingLimit`` the loops' lines are dropped and counted, and the count is logged once the output drains.
///
/// Two locks: `sink` guards the buffer and the descriptor (held for an append, never across a write), and
/// `writing` serializes the writes themselves; a writer takes the whole buffer under `sink` while holding
/// `writing`, so lines never interleave and reach the descriptor in the order they were submitted.
public final class LogOutput: Sendable {
    /// Batched bytes are written once an output's buffer reaches this size, even without a flush.
    static let batchLimit = 64 * 1024
    /// Most bytes batching threads may leave waiting for a stalled descriptor; later lines are dropped.
    static let pendingLimit = 8 << 20

    /// The process-wide output behind ``LogSystem`` and `Logger(_:)`: `info`, `logfmt`, standard error until
    /// ``LogSystem/configure(level:format:fileDescriptor:)`` says otherwise.
    public static let shared: LogOutput = {
        let output = LogOutput(level: .info, format: .logfmt, fileDescriptor: 2, background: true)
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
    private let writing = Mutex<Void>(())
    /// The thread that writes handed-off batches (``shared`` only; started by the first ``handOff()``).
    private let background: LogWriterThread?

    /// Creates an output writing to `fileDescriptor`, which it does not own: it is never closed here.
    ///
    /// A thread that batches (see ``LogSystem/batchOnCurrentThread()``) and logs to this output must call
    /// this output's ``flush()``: ``LogSystem/flush()`` only flushes ``shared``.
    public convenience init(level: LogLevel = .info, format: LogFormat = .logfmt, fileDescriptor: Int32 = 2) {
        self.init(level: level, format: format, fileDescriptor: fileDescriptor, background: false)
    }

    /// `background`: batches handed off are written by a thread of the output's own (see ``handOff()``).
    init(level: LogLevel, format: LogFormat, fileDescriptor: Int32, background: Bool) {
        _ = Self.ignoresBrokenPipes
        LogSink.occupyIfClosed(fileDescriptor)
        minimumLevel = Atomic(level.rawValue)
        formatIsJSON = Atomic(format == .json)
        sink = Mutex(LogSink(fileDescriptor: fileDescriptor))
        self.background = background ? LogWriterThread() : nil
    }

    /// Sets the level, format and output descriptor. Lines already batched go to the previous descriptor first.
    ///
    /// The descriptor is not closed when replaced. If it is 0, 1 or 2 and closed, `/dev/null` is opened on it:
    /// otherwise the next socket or database file would get that number and receive the log lines.
    public func configure(level: LogLevel, format: LogFormat, fileDescriptor: Int32) {
        writing.withLock { _ in
            let (bytes, previous) = sink.withLock { sink in
                let taken = (sink.take().bytes, sink.fileDescriptor)
                LogSink.occupyIfClosed(fileDescriptor)
                sink.fileDescriptor = fileDescriptor
                return taken
            }
            LogSink.writeAll(bytes, to: previous)
        }
        minimumLevel.store(level.rawValue, ordering: .relaxed)
        formatIsJSON.store(format == .json, ordering: .relaxed)
    }

    /// Writes lines batched so far on this output, before returning. Cheap when nothing is pending.
    public func flush() {
        guard sink.withLock({ !$0.pending.isEmpty || $0.dropped > 0 }) else { return }
        writing.withLock { _ in
            let (taken, fileDescriptor) = sink.withLock { ($0.take(), $0.fileDescriptor) }
            let (bytes, dropped) = taken
            // The lines kept are those from before the drops (nothing is appended while over the limit).
            LogSink.writeAll(bytes, to: fileDescriptor)
            if dropped > 0 {
                var warning: [UInt8] = []
                LogLineFormatter.format(
                    formatIsJSON.load(ordering: .relaxed) ? .json : .logfmt, time: .now(), level: .warn,
                    component: "log", message: "log lines dropped: the output did not keep up",
                    fields: ["dropped": String(dropped)], into: &warning)
                LogSink.writeAll(warning, to: fileDescriptor)
            }
        }
    }

    /// Has the lines batched so far written without waiting for them: by the output's own thread for
    /// ``shared`` (what event loops call every iteration), else as ``flush()`` does.
    public func handOff() {
        guard let background else { return flush() }
        guard sink.withLock({ !$0.pending.isEmpty || $0.dropped > 0 }) else { return }
        background.wake { [self] in flush() }
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
        if LogSystem.currentThreadBatches {
            let full = sink.withLock { $0.append(line, limit: Self.pendingLimit) }
            if full { handOff() }
        } else {
            _ = sink.withLock { $0.append(line, limit: Int.max) }
            flush()
        }
    }
}

/// A thread that runs its work whenever woken. Wake-ups while a run is pending collapse into that run (the
/// `scheduled` flag), so a stalled descriptor does not pile up posts for the thread to work through later.
final class LogWriterThread: Sendable {
    private let semaphore: UnsafeSendablePointer
    /// Boxed, not a closure as the `Mutex`'s value: that is reabstracted (and rewrapped) on every access.
    private let work = Mutex<Work?>(nil)

    private final class Work: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
    private let started = Atomic<Bool>(false)
    private let scheduled = Atomic<Bool>(false)

    init() {
        let pointer = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
        sem_init(pointer, 0, 0)
        semaphore = UnsafeSendablePointer(pointer)
    }

    /// Runs `body` on the thread soon; starts the thread on first use (if it cannot start, runs `body` here).
    /// `body` is the same work on every call (the output's flush); only the first is kept.
    func wake(_ body: @escaping @Sendable () -> Void) {
        if !started.exchange(true, ordering: .acquiringAndReleasing) {
            let first = Work(body)
            work.withLock { $0 = first }
            let semaphore = self.semaphore
            do {
                try NativeThread.start(name: "log-writer") { [self] in
                    while true {
                        while sem_wait(semaphore.pointer) != 0 {}
                        // Cleared before the run: lines appended while it writes schedule the next one.
                        scheduled.store(false, ordering: .releasing)
                        work.withLock { $0 }?.run()
                    }
                }.detach()
            } catch {
                started.store(false, ordering: .releasing)
                return body()
            }
        }
        guard !scheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        sem_post(semaphore.pointer)
    }
}

/// A pointer that is only ever used through thread-safe calls (`sem_post`, `sem_wait`).
private struct UnsafeSendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<sem_t>
    init(_ pointer: UnsafeMutablePointer<sem_t>) { self.pointer = pointer }
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

    /// Lines dropped since the last write, because `pending` was over its limit.
    var dropped = 0

    /// Appends `line` unless `pending` holds `limit` bytes already (then counts it as dropped); true once
    /// `pending` holds a full batch worth writing.
    mutating func append(_ line: [UInt8], limit: Int) -> Bool {
        if pending.count >= limit {
            dropped += 1
        } else {
            pending.append(contentsOf: line)
        }
        return pending.count >= LogOutput.batchLimit
    }

    /// Everything pending, in order, and how many lines were dropped before it; leaves both empty.
    mutating func take() -> (bytes: [UInt8], dropped: Int) {
        var bytes: [UInt8] = []
        swap(&bytes, &pending)
        defer { dropped = 0 }
        return (bytes, dropped)
    }

    /// Writes every byte, retrying partial writes and EINTR. On a non-blocking descriptor it waits up to a
    /// second for room. Any other failure (closed descriptor, EPIPE, full disk) drops the rest: logging must
    /// never take the process down or stall it forever.
    static func writeAll(_ bytes: [UInt8], to fileDescriptor: Int32) {
        guard !bytes.isEmpty else { return }
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
