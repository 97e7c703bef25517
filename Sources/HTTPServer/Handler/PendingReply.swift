import Synchronization

/// A response that will be available later: completed once, from any thread. The callback registered with
/// `whenComplete` runs on the thread that completes it (or at once, if it is already complete).
public final class PendingReply: Sendable {
    private enum State {
        case waiting((@Sendable (HTTPResponse) -> Void)?)
        case completed(HTTPResponse)
        case delivered
    }

    private let state = Mutex(State.waiting(nil))

    public init() {}

    /// Supplies the response; later calls are ignored.
    public func complete(_ response: HTTPResponse) {
        let callback = state.withLock { state -> (@Sendable (HTTPResponse) -> Void)? in
            guard case .waiting(let callback) = state else { return nil }
            if let callback {
                state = .delivered
                return callback
            }
            state = .completed(response)
            return nil
        }
        callback?(response)
    }

    /// Registers the single consumer.
    public func whenComplete(_ callback: @escaping @Sendable (HTTPResponse) -> Void) {
        let ready = state.withLock { state -> HTTPResponse? in
            switch state {
            case .waiting:
                state = .waiting(callback)
                return nil
            case .completed(let response):
                state = .delivered
                return response
            case .delivered:
                return nil
            }
        }
        if let ready { callback(ready) }
    }
}
