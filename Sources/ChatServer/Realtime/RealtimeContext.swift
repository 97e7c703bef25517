import ChatCore
import HTTPServer
import Synchronization

/// What every realtime connection shares: the hub, the services its requests call, and the `[realtime]`
/// settings.
struct RealtimeContext: Sendable {
    let hub: RealtimeHub
    let messages: MessageService
    let rooms: RoomService
    let accounts: AccountService
    let settings: Settings.Realtime
    let lanes = LoopLanes()
    let connectionIDs = ConnectionIDs()
}

/// An event loop as the hub's delivery lane.
final class LoopLane: RealtimeLane {
    let loop: EventLoop

    init(loop: EventLoop) {
        self.loop = loop
    }

    func execute(_ work: @escaping @Sendable () -> Void) {
        loop.execute(work)
    }
}

/// One ``LoopLane`` per event loop, so the hub groups a fan-out by loop.
final class LoopLanes: Sendable {
    private let lanes = Mutex<[ObjectIdentifier: LoopLane]>([:])

    func lane(for loop: EventLoop) -> LoopLane {
        lanes.withLock { lanes in
            if let lane = lanes[ObjectIdentifier(loop)] { return lane }
            let lane = LoopLane(loop: loop)
            lanes[ObjectIdentifier(loop)] = lane
            return lane
        }
    }
}

/// Connection ids unique across the nodes of a cluster: a random 32-bit node prefix and a counter.
final class ConnectionIDs: Sendable {
    private let next: Atomic<UInt64>

    init() {
        next = Atomic(UInt64(UInt32.random(in: 1...UInt32.max)) << 32)
    }

    func make() -> UInt64 {
        next.wrappingAdd(1, ordering: .relaxed).newValue
    }
}
