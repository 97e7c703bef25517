import CSQLite
import Dispatch
import Synchronization
import SystemSupport

/// The single writer of a database: one dedicated thread that owns the only read-write connection
/// and runs write jobs in submission order, with group commit.
///
/// **Group commit.** The thread takes every queued job (up to `maximumBatchSize`) and runs them in
/// one `BEGIN IMMEDIATE … COMMIT`, so N concurrent writes cost one commit (one WAL sync under
/// `synchronous=FULL`) instead of N. Each job runs inside its own SAVEPOINT: a job that throws is
/// rolled back alone and the others still commit. Completions run only after the COMMIT succeeded,
/// in submission order, on the writer thread; so when a completion runs, the write is durable (to
/// the configured `synchronous` level) and visible to readers. If the COMMIT fails, every job of
/// the batch that had succeeded gets the COMMIT error instead.
///
/// Jobs must not run BEGIN, COMMIT or ROLLBACK themselves: ``Database/transaction(_:_:)`` and
/// ``Database/savepoint(_:)`` turn into nested savepoints inside a job. Work that needs its own
/// transactions (migrations, VACUUM) goes through `writeWithoutTransaction`. If an error ends the
/// batch's transaction anyway (SQLITE_FULL, I/O errors), the jobs of the batch that ran before it
/// are reported failed, since their work was rolled back, and the rest of the batch continues in a
/// new transaction.
///
/// Completions should be short: the next batch waits for them.
/// Related SQLite documentation: <https://www.sqlite.org/lang_transaction.html>,
/// <https://www.sqlite.org/lang_savepoint.html>
public final class DatabaseWriter: Sendable {
    /// Counters for tests and metrics.
    public struct Statistics: Sendable, Equatable {
        /// Group-commit transactions that committed.
        public var batchesCommitted: Int
        /// Jobs that committed as part of those transactions.
        public var jobsCommitted: Int
        /// Jobs waiting for the writer thread right now.
        public var queuedJobs: Int
    }

    /// Default cap on jobs per transaction: large enough to amortize the commit, small enough that
    /// one batch does not hold the write lock for long.
    public static let defaultMaximumBatchSize = 512

    private let core: WriterCore

    /// Opens (creating if needed) the database read-write, applies `configuration`, and starts the
    /// writer thread. Throws if the connection cannot be opened or configured (e.g. WAL refused).
    public init(configuration: DatabaseConfiguration, maximumBatchSize: Int = defaultMaximumBatchSize) throws {
        precondition(maximumBatchSize >= 1, "maximumBatchSize must be at least 1")
        let core = WriterCore(maximumBatchSize: maximumBatchSize)
        let opened = Rendezvous<Result<Void, any Error>>()
        core.exited.enter()
        do {
            try NativeThread.start(name: "chat-db-writer") {
                core.threadMain(configuration: configuration, opened: opened)
                // After threadMain returned, its connection is closed: close() may now return.
                core.exited.leave()
            }.detach()
        } catch {
            core.exited.leave()
            throw error
        }
        try opened.wait().get()
        self.core = core
    }

    deinit {
        close()
    }

    /// Queues `job` to run in the next group-commit transaction, in its own savepoint.
    ///
    /// `completion` is called on the writer thread after the transaction committed (or failed),
    /// with the job's value or error. After ``close()`` it is called at once with an error.
    public func submit<T: Sendable>(
        _ job: @escaping @Sendable (Database) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        core.enqueue(PendingWrite(inTransaction: true, job: job, completion: completion))
    }

    /// Queues `job` to run alone, outside any transaction, after the jobs queued before it. The job
    /// manages its own transactions; one it leaves open is rolled back and reported as an error.
    public func submitWithoutTransaction<T: Sendable>(
        _ job: @escaping @Sendable (Database) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        core.enqueue(PendingWrite(inTransaction: false, job: job, completion: completion))
    }

    /// Runs `job` in the next group-commit transaction and returns its value once committed.
    ///
    /// The calling task is suspended, not blocked. Cancellation does not withdraw a queued job.
    @discardableResult
    public func write<T: Sendable>(_ job: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit(job) { continuation.resume(with: $0) }
        }
    }

    /// Runs `job` alone, outside any transaction (see ``submitWithoutTransaction(_:completion:)``).
    @discardableResult
    public func writeWithoutTransaction<T: Sendable>(
        _ job: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submitWithoutTransaction(job) { continuation.resume(with: $0) }
        }
    }

    /// Runs `job` in the next group-commit transaction, blocking the calling thread until it
    /// committed. For command-line tools and tests; never call it from a Swift concurrency task
    /// (it blocks a pool thread), nor from the writer thread (it throws there instead of
    /// deadlocking).
    @discardableResult
    public func writeSync<T: Sendable>(_ job: @escaping @Sendable (Database) throws -> T) throws -> T {
        try core.checkNotOnWriterThread()
        let done = Rendezvous<Result<T, any Error>>()
        submit(job) { done.fulfill($0) }
        return try done.wait().get()
    }

    /// Blocking variant of ``writeWithoutTransaction(_:)``, with the restrictions of ``writeSync(_:)``.
    @discardableResult
    public func writeWithoutTransactionSync<T: Sendable>(
        _ job: @escaping @Sendable (Database) throws -> T
    ) throws -> T {
        try core.checkNotOnWriterThread()
        let done = Rendezvous<Result<T, any Error>>()
        submitWithoutTransaction(job) { done.fulfill($0) }
        return try done.wait().get()
    }

    public var statistics: Statistics {
        Statistics(
            batchesCommitted: core.batchesCommitted.load(ordering: .relaxed),
            jobsCommitted: core.jobsCommitted.load(ordering: .relaxed),
            queuedJobs: core.state.withLock { $0.queue.count })
    }

    /// Stops accepting jobs, runs the ones already queued, closes the connection, and returns once
    /// it is closed. Idempotent. Called from the writer thread itself (from a job or completion),
    /// it only stops intake and returns, since the thread cannot wait for itself.
    public func close() {
        let onWriterThread = core.state.withLock { state in
            if !state.isClosed {
                state.isClosed = true
                // The extra wake-up lets the thread see the flag even with an empty queue.
                core.wakeUp.signal()
            }
            return state.threadID == NativeThread.currentID
        }
        if !onWriterThread {
            core.exited.wait()
        }
    }
}

/// A queued job, with its result type erased so jobs of any type share one queue.
private struct PendingWrite: Sendable {
    /// Outcome of running a job, before the transaction's own outcome is known.
    enum Outcome {
        /// Calls the completion with the job's value, or with the error that undid the job's work.
        case succeeded(@Sendable ((any Error)?) -> Void)
        case failed(any Error)
    }

    let inTransaction: Bool
    /// Runs the job; on success returns how to complete it once the transaction's fate is known.
    let execute: @Sendable (Database) throws -> @Sendable ((any Error)?) -> Void
    let fail: @Sendable (any Error) -> Void

    init<T: Sendable>(
        inTransaction: Bool,
        job: @escaping @Sendable (Database) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        self.inTransaction = inTransaction
        self.execute = { db in
            let value = try job(db)
            return { laterError in
                completion(laterError.map { .failure($0) } ?? .success(value))
            }
        }
        self.fail = { completion(.failure($0)) }
    }
}

/// The state shared by a ``DatabaseWriter`` and its thread. The thread holds the core, not the
/// writer, so dropping the last reference to the writer closes it.
private final class WriterCore: Sendable {
    struct State {
        /// FIFO of jobs; every append is followed by one `wakeUp.signal()`.
        var queue: [PendingWrite] = []
        var isClosed = false
        /// The writer thread, once started: lets blocking calls refuse to wait for themselves.
        var threadID: UInt?
    }

    let state = Mutex(State())
    /// Counts signals: a job appended before the thread's wait makes the wait return at once, so
    /// no wake-up is lost. Extra signals (jobs taken in an earlier batch) cost an empty loop turn.
    let wakeUp = DispatchSemaphore(value: 0)
    /// Entered before the thread starts, left after its connection is closed.
    let exited = DispatchGroup()
    let batchesCommitted = Atomic<Int>(0)
    let jobsCommitted = Atomic<Int>(0)
    let maximumBatchSize: Int

    init(maximumBatchSize: Int) {
        self.maximumBatchSize = maximumBatchSize
    }

    func enqueue(_ job: PendingWrite) {
        let accepted = state.withLock { state in
            guard !state.isClosed else { return false }
            state.queue.append(job)
            return true
        }
        if accepted {
            wakeUp.signal()
        } else {
            job.fail(DatabaseError.misuse("the database writer is closed"))
        }
    }

    func checkNotOnWriterThread() throws {
        let current = NativeThread.currentID
        if state.withLock({ $0.threadID == current }) {
            throw DatabaseError.misuse("a blocking write was called on the writer thread, which would deadlock")
        }
    }

    /// The writer thread: opens the connection, reports the outcome, then serves jobs until closed
    /// and drained. The connection is local, so it is closed when this returns.
    func threadMain(configuration: DatabaseConfiguration, opened: Rendezvous<Result<Void, any Error>>) {
        let db: Database
        do {
            db = try Database(configuration: configuration)
        } catch {
            state.withLock { $0.isClosed = true }
            opened.fulfill(.failure(error))
            return
        }
        let current = NativeThread.currentID
        state.withLock { $0.threadID = current }
        opened.fulfill(.success(()))

        while true {
            wakeUp.wait()
            let (batch, isClosed) = state.withLock { state in
                (Self.takeBatch(from: &state.queue, maximum: maximumBatchSize), state.isClosed)
            }
            if batch.isEmpty {
                if isClosed { return }
                continue
            }
            if batch[0].inTransaction {
                runBatch(batch, on: db)
            } else {
                runAlone(batch[0], on: db)
            }
        }
    }

    /// Takes the longest prefix of transactional jobs (up to `maximum`), or a single job that must
    /// run outside a transaction, so submission order is kept.
    private static func takeBatch(from queue: inout [PendingWrite], maximum: Int) -> [PendingWrite] {
        guard let first = queue.first else { return [] }
        var count = 1
        if first.inTransaction {
            while count < min(queue.count, maximum), queue[count].inTransaction {
                count += 1
            }
        }
        let batch = Array(queue.prefix(count))
        queue.removeFirst(count)
        return batch
    }

    private func runBatch(_ batch: [PendingWrite], on db: Database) {
        var outcomes: [PendingWrite.Outcome] = []
        outcomes.reserveCapacity(batch.count)
        // Index of the first outcome covered by the transaction now open.
        var transactionStart = 0

        for job in batch {
            if !db.isInTransaction {
                do {
                    // IMMEDIATE takes the write lock now, so the jobs cannot hit SQLITE_BUSY halfway.
                    try db.executeCached("BEGIN IMMEDIATE TRANSACTION")
                    transactionStart = outcomes.count
                } catch {
                    // Every retry would wait out the busy timeout again: fail the rest of the batch.
                    outcomes.append(contentsOf: repeatElement(.failed(error), count: batch.count - outcomes.count))
                    break
                }
            }
            do {
                outcomes.append(.succeeded(try db.savepoint { try job.execute($0) }))
            } catch {
                outcomes.append(.failed(error))
            }
            if !db.isInTransaction {
                // The job ended the whole transaction (see DatabaseWriter's documentation): the work
                // of every job in it is gone, and none may report success.
                let rolledBack = DatabaseError(
                    extendedResultCode: SQLITE_ABORT,
                    message: "rolled back because a job in the same batch ended the transaction")
                fail(outcomes: &outcomes, from: transactionStart, with: rolledBack)
            }
        }
        if db.isInTransaction {
            do {
                try db.executeCached("COMMIT TRANSACTION")
                batchesCommitted.add(1, ordering: .relaxed)
                jobsCommitted.add(outcomes[transactionStart...].filter(\.isSuccess).count, ordering: .relaxed)
            } catch {
                // A failed COMMIT (e.g. SQLITE_BUSY, a deferred foreign key) may leave it open.
                db.rollbackIfActive()
                fail(outcomes: &outcomes, from: transactionStart, with: error)
            }
        }

        for (job, outcome) in zip(batch, outcomes) {
            switch outcome {
            case .succeeded(let complete): complete(nil)
            case .failed(let error): job.fail(error)
            }
        }
    }

    /// Marks the successful outcomes from `start` on as failed with `error`; failed ones keep their
    /// own, more precise, error.
    private func fail(outcomes: inout [PendingWrite.Outcome], from start: Int, with error: any Error) {
        for index in start..<outcomes.count where outcomes[index].isSuccess {
            outcomes[index] = .failed(error)
        }
    }

    private func runAlone(_ job: PendingWrite, on db: Database) {
        let outcome: Result<@Sendable ((any Error)?) -> Void, any Error>
        do {
            outcome = .success(try job.execute(db))
        } catch {
            outcome = .failure(error)
        }
        var leftOpen: DatabaseError?
        if db.isInTransaction {
            // The next batch's BEGIN would fail; the job's uncommitted work cannot be trusted.
            db.rollbackIfActive()
            leftOpen = DatabaseError.misuse("the job left a transaction open; it was rolled back")
        }
        switch outcome {
        case .success(let complete): complete(leftOpen)
        case .failure(let error): job.fail(error)
        }
    }
}

extension PendingWrite.Outcome {
    fileprivate var isSuccess: Bool {
        if case .succeeded = self { return true }
        return false
    }
}
