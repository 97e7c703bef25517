import Dispatch
import Synchronization

/// A value handed from one thread to exactly one waiting thread.
///
/// Used where a blocking caller waits for a dedicated database thread: `fulfill` is called once,
/// `wait` once. Dispatch semaphores (not the Swift concurrency pool) do the waiting, because the
/// threads involved are plain threads.
final class Rendezvous<Value: Sendable>: Sendable {
    private let slot = Mutex<Value?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    init() {}

    func fulfill(_ value: Value) {
        slot.withLock { $0 = value }
        ready.signal()
    }

    func wait() -> Value {
        ready.wait()
        guard let value = slot.withLock({ $0.take() }) else {
            // The semaphore is signaled only after the slot is filled, and only once.
            preconditionFailure("Rendezvous woken without a value")
        }
        return value
    }
}
