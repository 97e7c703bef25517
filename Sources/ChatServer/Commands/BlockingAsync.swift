import Dispatch
import Synchronization

/// Runs async service code from a command-line command (plain synchronous `main`): the calling thread waits
/// on a semaphore while the work runs on Swift concurrency's pool. Never call it from an async context.
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let result: Result<T, any Error>
        do {
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        outcome.withLock { $0 = result }
        done.signal()
    }
    done.wait()
    guard let result = outcome.withLock({ $0 }) else { preconditionFailure("the task finished without a result") }
    return try result.get()
}
