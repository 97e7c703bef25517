import Glibc
import Synchronization

/// A fixed set of threads for blocking work (file system calls, bcrypt, anything that would stall an event
/// loop). Jobs run in submission order across the pool. A POSIX semaphore counts queued jobs so idle workers
/// sleep in the kernel instead of spinning.
public final class WorkerPool: Sendable {
    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var head = 0
        var stopping = false
    }

    private let state = Mutex(State())
    // The semaphore must not move: it lives in its own allocation, freed after every worker has exited.
    private nonisolated(unsafe) let semaphore: UnsafeMutablePointer<sem_t>
    private let threads = Mutex<[NativeThread]>([])
    public let size: Int

    public init(threads count: Int, name: String = "worker") throws {
        size = max(1, count)
        semaphore = .allocate(capacity: 1)
        sem_init(semaphore, 0, 0)
        var started: [NativeThread] = []
        for index in 0..<size {
            started.append(try NativeThread.start(name: "\(name)-\(index)") { [self] in work() })
        }
        threads.withLock { $0 = started }
    }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    /// Queues `job`. After `shutdown` it is dropped.
    public func submit(_ job: @escaping @Sendable () -> Void) {
        _ = enqueue(job)
    }

    private func enqueue(_ job: @escaping @Sendable () -> Void) -> Bool {
        let accepted = state.withLock { state -> Bool in
            guard !state.stopping else { return false }
            state.jobs.append(job)
            return true
        }
        if accepted { sem_post(semaphore) }
        return accepted
    }

    /// Runs `work` on the pool and resumes the caller with its result: blocking work (bcrypt, file system)
    /// for async code, without holding a thread of Swift concurrency's cooperative pool.
    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = enqueue {
                continuation.resume(with: Result { try work() })
            }
            if !accepted { continuation.resume(throwing: WorkerPoolStopped()) }
        }
    }

    /// Lets queued jobs finish, then stops and joins every worker.
    public func shutdown() {
        state.withLock { $0.stopping = true }
        let workers = threads.withLock { threads in
            let all = threads
            threads = []
            return all
        }
        for _ in workers { sem_post(semaphore) }
        for worker in workers { worker.join() }
    }

    private func work() {
        while true {
            while sem_wait(semaphore) != 0 && errno == EINTR {}
            let job = state.withLock { state -> (@Sendable () -> Void)? in
                guard state.head < state.jobs.count else { return nil }
                let job = state.jobs[state.head]
                state.head += 1
                if state.head > 1024 && state.head * 2 > state.jobs.count {
                    state.jobs.removeFirst(state.head)
                    state.head = 0
                }
                return job
            }
            if let job {
                job()
            } else if state.withLock({ $0.stopping }) {
                return
            }
        }
    }
}

/// Work submitted after `WorkerPool.shutdown`.
public struct WorkerPoolStopped: Error, Sendable, CustomStringConvertible {
    public var description: String { "the worker pool has shut down" }
}
