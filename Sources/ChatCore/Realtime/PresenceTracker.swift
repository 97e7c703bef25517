import Dispatch
import Synchronization

/// Online and offline, with a grace period: a user is online from their first connection; when the last one
/// closes they stay online for `grace` more, so a reconnect (a page reload, a network switch) does not flap.
/// Transitions are handed, in order, to `transition` (``PresenceService`` persists and publishes them).
///
/// This is the state of one process; in a cluster, the Redis adapter shares it.
public final class PresenceTracker: Sendable {
    /// `online` true when a user came online, false when the grace after their last connection ran out;
    /// `at` is unix milliseconds.
    public typealias Transition = @Sendable (_ userID: Int64, _ online: Bool, _ at: Int64) -> Void

    private enum UserState {
        case online
        /// The last connection closed; offline unless the timer with this generation is cancelled first.
        case leaving(generation: UInt64)
    }

    private let state = Mutex<(users: [Int64: UserState], generation: UInt64)>(([:], 0))
    private let queue = DispatchQueue(label: "chat-presence")
    private let grace: Duration
    private let clock: @Sendable () -> Int64
    /// Boxed: a closure held directly as a `Mutex`'s generic value is reabstracted on every `withLock` access and
    /// written back wrapped in two more thunks, so each transition made every later call walk a longer chain
    /// (perf showed a quarter of the server's CPU in them during bench/ws.sh; it would end in a stack overflow).
    private let transition = Mutex<TransitionTarget?>(nil)

    private final class TransitionTarget: Sendable {
        let deliver: Transition
        init(_ deliver: @escaping Transition) { self.deliver = deliver }
    }

    public init(grace: Duration, clock: @escaping @Sendable () -> Int64 = AccountService.systemClock) {
        self.grace = grace
        self.clock = clock
    }

    /// Sets where transitions go (once, at wiring time).
    public func onTransition(_ transition: @escaping Transition) {
        let target = TransitionTarget(transition)
        self.transition.withLock { $0 = target }
    }

    /// Whether the user is online (connected, or within the grace after their last connection).
    public func isOnline(_ userID: Int64) -> Bool {
        state.withLock { $0.users[userID] != nil }
    }

    /// Users online now.
    public var onlineUserIDs: [Int64] { state.withLock { Array($0.users.keys) } }

    func connected(_ userID: Int64) {
        let now = clock()
        state.withLock { state in
            let wasKnown = state.users[userID] != nil
            state.users[userID] = .online
            // Queued under the lock, so reports leave in the order of the state changes.
            if !wasKnown { report(userID, online: true, at: now) }
        }
    }

    func disconnected(_ userID: Int64) {
        // "Last seen" is when the last connection closed, not when the grace ran out.
        let closedAt = clock()
        let generation = state.withLock { state -> UInt64 in
            state.generation &+= 1
            state.users[userID] = .leaving(generation: state.generation)
            return state.generation
        }
        let nanoseconds = grace.components.seconds * 1_000_000_000 + grace.components.attoseconds / 1_000_000_000
        queue.asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) { [weak self] in
            guard let self else { return }
            state.withLock { state in
                guard case .leaving(let pending) = state.users[userID], pending == generation else { return }
                state.users.removeValue(forKey: userID)
                report(userID, online: false, at: closedAt)
            }
        }
    }

    private func report(_ userID: Int64, online: Bool, at: Int64) {
        // On the tracker's queue: transitions leave in the order they happened.
        let target = transition.withLock { $0 }
        queue.async { target?.deliver(userID, online, at) }
    }
}
