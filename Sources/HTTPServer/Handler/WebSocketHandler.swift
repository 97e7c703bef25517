/// A complete message received on a WebSocket (fragments already reassembled, text already UTF-8 checked).
public enum WebSocketMessage: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
}

/// The application side of an accepted WebSocket. Its methods run on the connection's event loop, one at a
/// time; they must not block (hand blocking work to a worker pool and `send` the result from there).
public protocol WebSocketHandler: AnyObject {
    func opened(_ socket: WebSocket)
    func received(_ message: WebSocketMessage, on socket: WebSocket)
    /// The connection is gone; `code` is the peer's close code, or nil when it vanished without one (1006).
    func closed(_ socket: WebSocket, code: UInt16?)
}

/// What a `101 Switching Protocols` response carries: how to make the handler once the upgrade is written.
/// The closure runs on the event loop that owns the connection, and is given that loop.
public struct WebSocketUpgrade: Sendable {
    /// Largest message accepted from the client; larger ones close with 1009.
    public let maxMessageBytes: Int
    /// Bytes that may wait to be sent before the connection is closed with 1013 (a slow consumer).
    public let maxOutboundBytes: Int
    public let makeHandler: @Sendable (EventLoop) -> any WebSocketHandler

    public init(
        maxMessageBytes: Int = 1 << 20, maxOutboundBytes: Int = 1 << 20,
        makeHandler: @escaping @Sendable (EventLoop) -> any WebSocketHandler
    ) {
        self.maxMessageBytes = maxMessageBytes
        self.maxOutboundBytes = maxOutboundBytes
        self.makeHandler = makeHandler
    }
}
