import Synchronization

/// A response body produced over time, by any thread. The producer calls `write` and then `finish`; the
/// connection that sends it is woken on its own event loop and drains what has been queued, no faster than
/// the socket takes it. When the client goes away (or the response has no body, as for HEAD) the stream is
/// cancelled: queued bytes are dropped, later writes are ignored, and `isCancelled` tells the producer to stop.
public final class BodyStream: Sendable {
    private struct State {
        var chunks: [[UInt8]] = []
        var queuedBytes = 0
        var finished = false
        var cancelled = false
        /// A wake-up is already on its way: further writes need not send another.
        var wakePending = false
        var wake: (@Sendable () -> Void)?
        var onCancel: [@Sendable () -> Void] = []

        /// The wake-up to send for new data, unless one is already on its way.
        mutating func takeWake() -> (@Sendable () -> Void)? {
            guard !wakePending, let wake else { return nil }
            wakePending = true
            return wake
        }
    }

    private let state = Mutex(State())

    public init() {}

    /// Queues bytes to send; empty writes are ignored (an empty chunk would end chunked framing).
    public func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        let wake = state.withLock { state -> (@Sendable () -> Void)? in
            guard !state.finished, !state.cancelled else { return nil }
            state.chunks.append(bytes)
            state.queuedBytes += bytes.count
            return state.takeWake()
        }
        wake?()
    }

    /// Ends the body. Writes after this are dropped.
    public func finish() {
        let wake = state.withLock { state -> (@Sendable () -> Void)? in
            guard !state.finished, !state.cancelled else { return nil }
            state.finished = true
            return state.takeWake()
        }
        wake?()
    }

    /// Whether the consumer is gone; a producer should stop producing.
    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Bytes written but not yet taken by the connection: a producer can wait while this is high.
    public var queuedBytes: Int { state.withLock { $0.queuedBytes } }

    /// Runs `handler` once when the stream is cancelled (at once if it already is).
    public func onCancel(_ handler: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            guard !state.cancelled else { return true }
            state.onCancel.append(handler)
            return false
        }
        if runNow { handler() }
    }

    /// Drops everything and refuses further writes; called by the connection when nobody will read the body.
    func cancel() {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            guard !state.cancelled else { return [] }
            state.cancelled = true
            state.chunks = []
            state.queuedBytes = 0
            state.wake = nil
            let handlers = state.onCancel
            state.onCancel = []
            return handlers
        }
        for handler in handlers { handler() }
    }

    /// Installs the consumer's wake-up and calls it once so anything already queued is sent.
    func attach(wake: @escaping @Sendable () -> Void) {
        state.withLock {
            $0.wake = wake
            $0.wakePending = true
        }
        wake()
    }

    /// Takes queued chunks up to about `limit` bytes (at least one chunk), and whether the body is complete.
    /// The next write wakes the consumer again.
    func drain(limit: Int) -> (chunks: [[UInt8]], finished: Bool) {
        state.withLock { state in
            state.wakePending = false
            var taken = 0
            var count = 0
            while count < state.chunks.count && (count == 0 || taken + state.chunks[count].count <= limit) {
                taken += state.chunks[count].count
                count += 1
            }
            let chunks = Array(state.chunks.prefix(count))
            state.chunks.removeFirst(count)
            state.queuedBytes -= taken
            // More remains: stay "pending" so the consumer (which asked with a limit) comes back by itself.
            if !state.chunks.isEmpty { state.wakePending = true }
            return (chunks, state.finished && state.chunks.isEmpty)
        }
    }
}
