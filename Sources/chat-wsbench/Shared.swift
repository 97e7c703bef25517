import Synchronization

/// Where a run is; workers read it once per loop turn.
enum Phase {
    static let connecting = 0
    /// Sending, figures not kept.
    static let warmup = 1
    /// Sending; messages sent now are marked as measured.
    static let measuring = 2
    /// No more sending; in-flight messages still arrive and count.
    static let draining = 3
    static let stop = 4
}

/// What a connection does in a run.
enum Role: Sendable {
    /// fanout: sends SEND_MESSAGE with a bounded window of unacknowledged ones.
    case sender
    /// fanout: counts what arrives.
    case subscriber
    /// latency: sends now and then, and receives what the others of its room send.
    case member
    /// idle: connects and stays.
    case idle
}

/// One connection to make.
struct Endpoint: Sendable {
    var index: Int
    /// Request path with query (`/ws`, `/ws?room=3`).
    var path: String
    /// chat: the access token sent as `Authorization: Bearer`.
    var token: String?
    var role: Role
    /// latency: the room group (index into the room list) the connection belongs to.
    var group: Int
}

/// What one worker thread measured, merged by the coordinator at the end.
struct WorkerReport: Sendable {
    var latency = Histogram()
    /// Every delivery of a benchmark message (a NEW_MESSAGE or a broadcast frame from another connection).
    var deliveries = 0
    /// Deliveries of messages sent during the measured phase (the ones whose latency was recorded).
    var measuredDeliveries = 0
    /// Messages sent during the measured phase, and how many receivers each one should reach.
    var measuredSent = 0
    var expectedDeliveries = 0
    var sent = 0
    var acknowledged = 0
    var serverErrors: [String: Int] = [:]
    /// chat: frames of the other types (PRESENCE, system messages…), by type.
    var otherFrames: [String: Int] = [:]
}

/// State the workers and the coordinator share: atomics read on the hot path, mutexes for rare events.
final class Shared: Sendable {
    let phase = Atomic<Int>(Phase.connecting)
    let ready = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    /// Connections that closed after they were ready, before the end.
    let dropped = Atomic<Int>(0)
    /// Deliveries received while the phase was `measuring` (published once per loop turn).
    let phaseDeliveries = Atomic<Int>(0)
    /// Every delivery so far, all phases: the fanout sender's window is counted in deliveries, not only ACKs.
    let deliveries = Atomic<Int>(0)
    let sent = Atomic<Int>(0)
    let acknowledged = Atomic<Int>(0)
    let problems = Mutex<[String: Int]>([:])
    let reports = Mutex<[WorkerReport]>([])

    func problem(_ text: String) {
        problems.withLock { $0[text, default: 0] += 1 }
    }
}
