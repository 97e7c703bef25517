import Synchronization

/// A response body produced over time, by any thread. The producer calls `write` and then `finish`; the
/// connection that sends it is woken on its own event loop and drains what has been queued.
public final class BodyStream: Sendable {
    private struct State {
        var chunks: [[UInt8]] = []
        var finished = false
        var wake: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    public init() {}

    /// Queues bytes to send; empty writes are ignored (an empty chunk would end chunked framing).
    public func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        let wake = state.withLock { state -> (@Sendable () -> Void)? in
            guard !state.finished else { return nil }
            state.chunks.append(bytes)
            return state.wake
        }
        wake?()
    }

    /// Ends the body. Writes after this are dropped.
    public func finish() {
        let wake = state.withLock { state -> (@Sendable () -> Void)? in
            guard !state.finished else { return nil }
            state.finished = true
            return state.wake
        }
        wake?()
    }

    /// Installs the consumer's wake-up and calls it once so anything already queued is sent.
    func attach(wake: @escaping @Sendable () -> Void) {
        state.withLock { $0.wake = wake }
        wake()
    }

    /// Takes every queued chunk and whether the body is complete.
    func drain() -> (chunks: [[UInt8]], finished: Bool) {
        state.withLock { state in
            let chunks = state.chunks
            state.chunks = []
            return (chunks, state.finished)
        }
    }
}
