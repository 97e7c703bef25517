import Synchronization

/// Carries ``RealtimeEvent``s from the services that cause them to the hubs that deliver them. In one
/// process that is a function call (``LocalPubSub``); in a cluster an adapter over Redis channels gives every
/// node's hub every event, so the rest of the server does not change.
///
/// **Order.** Events from one publisher arrive in the order published. Services publish from the database
/// writer's completion, which runs in commit order, so a room's messages arrive in `seq` order.
public protocol PubSub: Sendable {
    func publish(_ event: RealtimeEvent)
    /// Adds a receiver of every event published from now on, on any node.
    func subscribe(_ receiver: @escaping @Sendable (RealtimeEvent) -> Void)
}

/// The in-process ``PubSub``: `publish` calls each receiver synchronously on the publishing thread, so
/// receivers must return quickly (the hub only queues the event). With no receiver, events go nowhere,
/// which is right for the command-line tools that share the services but run no hub.
public final class LocalPubSub: PubSub {
    private let receivers = Mutex<[@Sendable (RealtimeEvent) -> Void]>([])

    public init() {}

    public func publish(_ event: RealtimeEvent) {
        for receiver in receivers.withLock({ $0 }) {
            receiver(event)
        }
    }

    public func subscribe(_ receiver: @escaping @Sendable (RealtimeEvent) -> Void) {
        receivers.withLock { $0.append(receiver) }
    }
}
