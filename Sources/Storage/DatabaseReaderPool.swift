import Dispatch
import Synchronization
import SystemSupport

/// A fixed set of read-only connections, each owned by its own dedicated thread.
///
/// A read job goes to whichever thread is free (jobs wait in a FIFO queue when all are busy) and
/// runs inside a deferred transaction, so all its queries see one consistent snapshot. In WAL
/// mode readers never wait for the writer, nor the writer for them; a read sees every
/// transaction committed before it began, none after.
///
/// Connections are opened with `SQLITE_OPEN_READONLY`, so open the pool after the database file
/// exists (open the ``DatabaseWriter`` first). Blocking work runs on these threads, never on the
/// Swift concurrency pool: the async ``read(_:)`` suspends while a reader thread works.
/// Related SQLite documentation: <https://www.sqlite.org/wal.html#concurrency>
public final class DatabaseReaderPool: Sendable {
    private let core: ReaderCore

    /// Opens `configuration.readers` read-only connections on as many threads. Throws if any
    /// connection cannot be opened, after stopping the threads already started.
    public init(configuration: DatabaseConfiguration) throws {
        let count = max(1, configuration.readers)
        let core = ReaderCore()
        var openings: [Rendezvous<Result<Void, any Error>>] = []
        for index in 0..<count {
            let opened = Rendezvous<Result<Void, any Error>>()
            openings.append(opened)
            core.exited.enter()
            do {
                try NativeThread.start(name: "chat-db-reader-\(index)") {
                    core.threadMain(configuration: configuration, opened: opened)
                    // After threadMain returned, its connection is closed: close() may now return.
                    core.exited.leave()
                }.detach()
            } catch {
                core.exited.leave()
                opened.fulfill(.failure(error))
            }
        }
        // Wait for every thread, even after a failure, so none is left behind unaccounted for.
        let failures = openings.compactMap { opened -> (any Error)? in
            if case .failure(let error) = opened.wait() { return error }
            return nil
        }
        if let failure = failures.first {
            core.close()
            throw failure
        }
        self.core = core
        self.count = count
    }

    deinit {
        core.close()
    }

    /// Number of connections.
    public let count: Int

    /// Queues `job` for the next free reader; `completion` gets its value or error on that reader's
    /// thread. After ``close()``, `completion` is called at once with an error.
    public func submit<T: Sendable>(
        _ job: @escaping @Sendable (Database) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        let accepted = core.enqueue { db in
            // Read-only: the deferred transaction only pins the snapshot, it never takes a write lock.
            completion(Result { try db.transaction(.deferred) { try job($0) } })
        }
        if !accepted {
            completion(.failure(DatabaseError.misuse("the database reader pool is closed")))
        }
    }

    /// Runs `job` on a reader and returns its value; the calling task is suspended meanwhile.
    /// Cancellation does not withdraw a queued job.
    @discardableResult
    public func read<T: Sendable>(_ job: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit(job) { continuation.resume(with: $0) }
        }
    }

    /// Runs `job` on a reader, blocking the calling thread until it is done. For command-line
    /// tools, tests, and the writer's completions; never call it from a Swift concurrency task.
    /// Called from one of this pool's own threads it throws instead of risking a deadlock.
    @discardableResult
    public func readSync<T: Sendable>(_ job: @escaping @Sendable (Database) throws -> T) throws -> T {
        let current = NativeThread.currentID
        if core.state.withLock({ $0.threadIDs.contains(current) }) {
            throw DatabaseError.misuse("a blocking read was called on a reader thread, which could deadlock")
        }
        let done = Rendezvous<Result<T, any Error>>()
        submit(job) { done.fulfill($0) }
        return try done.wait().get()
    }

    /// Stops accepting jobs, runs the ones already queued, closes the connections, and returns once
    /// they are closed. Idempotent. From a reader thread it only stops intake.
    public func close() {
        core.close()
    }
}

private final class ReaderCore: Sendable {
    typealias Job = @Sendable (Database) -> Void

    struct State {
        /// FIFO of jobs; every append is followed by one `wakeUp.signal()`.
        var queue: [Job] = []
        var isClosed = false
        var threadIDs: Set<UInt> = []
    }

    let state = Mutex(State())
    /// One signal per queued job, plus one per thread at close. A thread that returns from
    /// `wait()` owns one signal; since jobs are appended before their signal, the queue then
    /// holds a job for it, unless the signal was a closing one.
    let wakeUp = DispatchSemaphore(value: 0)
    /// Entered once per thread before it starts, left after its connection is closed.
    let exited = DispatchGroup()
    /// Number of threads started; each needs one closing wake-up.
    private let threadCount = Atomic<Int>(0)

    func enqueue(_ job: @escaping Job) -> Bool {
        let accepted = state.withLock { state in
            guard !state.isClosed else { return false }
            state.queue.append(job)
            return true
        }
        if accepted {
            wakeUp.signal()
        }
        return accepted
    }

    func threadMain(configuration: DatabaseConfiguration, opened: Rendezvous<Result<Void, any Error>>) {
        threadCount.add(1, ordering: .relaxed)
        let current = NativeThread.currentID
        let db: Database
        do {
            db = try Database(configuration: configuration, readOnly: true)
        } catch {
            opened.fulfill(.failure(error))
            return
        }
        state.withLock { _ = $0.threadIDs.insert(current) }
        opened.fulfill(.success(()))

        while true {
            wakeUp.wait()
            let job = state.withLock { state -> Job? in
                state.queue.isEmpty ? nil : state.queue.removeFirst()
            }
            guard let job else {
                // Only a closing signal finds the queue empty; queued jobs were served first.
                return
            }
            job(db)
        }
    }

    func close() {
        let onReaderThread = state.withLock { state in
            if !state.isClosed {
                state.isClosed = true
                // Wake every thread once more; each exits when it finds the queue empty.
                for _ in 0..<threadCount.load(ordering: .relaxed) {
                    wakeUp.signal()
                }
            }
            return state.threadIDs.contains(NativeThread.currentID)
        }
        if !onReaderThread {
            exited.wait()
        }
    }
}
