/// Where a subscriber's deliveries run: in the server, the event loop that owns its connection. Each delivery
/// to a lane is one `execute` call carrying every subscriber of that lane, so a message to 1,000 connections
/// on two loops costs two hops, not 1,000.
public protocol RealtimeLane: AnyObject, Sendable {
    func execute(_ work: @escaping @Sendable () -> Void)
}

/// One live client connection as the hub sees it. The hub calls ``deliver(_:)`` on the subscriber's
/// ``lane`` only, so an implementation confined to that lane needs no lock.
public protocol RealtimeSubscriber: AnyObject, Sendable {
    /// Unique among the process's connections, and across nodes (it names a message's `origin`).
    var connectionID: UInt64 { get }
    var userID: Int64 { get }
    var lane: any RealtimeLane { get }
    func deliver(_ delivery: RealtimeDelivery)
}

/// An event ready to send: the frame encoded once for all recipients, and what a connection needs to know
/// to order it (resume) or skip it (its own message).
public struct RealtimeDelivery: Sendable {
    public enum Kind: Sendable, Equatable {
        /// A new message of a room, with its seq; `origin` is the connection that sent it, if any.
        case message(roomID: Int64, seq: Int64, origin: UInt64?)
        /// Another event about a room's messages (edit, delete, reaction, receipt).
        case room(roomID: Int64)
        /// The recipient's user stopped being a member of the room.
        case left(roomID: Int64)
        /// Sessions of the recipient's user ended (nil: all): a connection of one of them sends the frame and closes.
        case accessEnded(sessionIDs: Set<String>?)
        /// Anything else (typing, viewers, presence, notifications).
        case other
    }

    public var kind: Kind
    public var frame: [UInt8]

    public init(kind: Kind, frame: [UInt8]) {
        self.kind = kind
        self.frame = frame
    }
}

/// Turns an event into the bytes every recipient gets (in the server: a JSON envelope in a WebSocket text
/// frame). Called once per event, whatever the number of recipients.
public protocol RealtimeEncoder: Sendable {
    func frame(for event: RealtimeEvent) -> [UInt8]
}
