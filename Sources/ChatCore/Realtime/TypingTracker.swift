import Dispatch
import Synchronization

/// Who is typing where, so typing signals stay cheap and honest: a start is forwarded at most once a second
/// per user and room (clients send one per keystroke), a stop only after a start, and a start that is not
/// refreshed within `timeout` expires into a stop (a client that vanished mid-sentence). Never stored.
final class TypingTracker: Sendable {
    private struct Key: Hashable {
        var roomID: Int64
        var userID: Int64
    }

    private struct Entry {
        var lastForwarded: ContinuousClock.Instant
        var generation: UInt64
    }

    /// A start that was recorded: `generation` identifies it for ``expire(roomID:userID:token:)``.
    struct Start {
        var forward: Bool
        var generation: UInt64
    }

    let timeout: Duration
    static let forwardInterval = Duration.seconds(1)
    private let entries = Mutex<(typing: [Key: Entry], generation: UInt64)>(([:], 0))

    init(timeout: Duration) {
        self.timeout = timeout
    }

    var timeoutInterval: DispatchTimeInterval {
        .milliseconds(
            Int(timeout.components.seconds * 1000)
                + Int(timeout.components.attoseconds / 1_000_000_000_000_000))
    }

    /// Records a start (or refresh); `forward` tells whether viewers should hear it now.
    func start(roomID: Int64, userID: Int64, now: ContinuousClock.Instant) -> Start? {
        entries.withLock { state in
            state.generation &+= 1
            let key = Key(roomID: roomID, userID: userID)
            var forward = true
            var lastForwarded = now
            if let entry = state.typing[key], now - entry.lastForwarded < Self.forwardInterval {
                forward = false
                lastForwarded = entry.lastForwarded
            }
            state.typing[key] = Entry(lastForwarded: lastForwarded, generation: state.generation)
            return Start(forward: forward, generation: state.generation)
        }
    }

    /// Records a stop; true if the user was typing (so viewers should hear it).
    func stop(roomID: Int64, userID: Int64) -> Bool {
        entries.withLock { $0.typing.removeValue(forKey: Key(roomID: roomID, userID: userID)) != nil }
    }

    /// The timeout of the start `token` ran out: true (and the entry removed) if no later start refreshed it.
    func expire(roomID: Int64, userID: Int64, token: UInt64) -> Bool {
        entries.withLock { state in
            let key = Key(roomID: roomID, userID: userID)
            guard state.typing[key]?.generation == token else { return false }
            state.typing.removeValue(forKey: key)
            return true
        }
    }
}
