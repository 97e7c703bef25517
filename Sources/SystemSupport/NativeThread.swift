import CLinux
import Glibc

/// Starts a plain POSIX thread. Event loops, workers and the database writer block in syscalls by design,
/// so they run on their own threads rather than on Swift concurrency's cooperative pool.
public struct NativeThread: Sendable {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    private let handle: pthread_t

    /// Starts `body` on a new thread named `name` (shown by `top -H`, truncated to 15 bytes).
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) throws -> NativeThread {
        let threadName = String(name.prefix(15))
        let box = Unmanaged.passRetained(
            Box {
                _ = clinux_set_thread_name(threadName)
                body()
            }
        ).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(
            &handle, nil,
            { raw in
                guard let raw else { return nil }
                let box = Unmanaged<Box>.fromOpaque(raw).takeRetainedValue()
                box.body()
                return nil
            }, box)
        guard result == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw SystemError("pthread_create", errno: result)
        }
        return NativeThread(handle: handle)
    }

    /// An identifier of the calling thread, for "am I on thread X" checks.
    public static var currentID: UInt { UInt(pthread_self()) }

    /// The identifier `currentID` returns on this thread.
    public var id: UInt { UInt(handle) }

    /// Lets the thread's resources be freed when it exits, for threads nobody joins.
    public func detach() {
        pthread_detach(handle)
    }

    /// Waits for the thread to finish.
    public func join() {
        pthread_join(handle, nil)
    }
}
