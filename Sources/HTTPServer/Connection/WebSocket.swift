/// A live WebSocket connection. `send` and `close` may be called from any thread: off the loop they hop to it
/// through `EventLoop.execute`. Frames are encoded before they are queued, so a broadcast can encode a frame
/// once (`WebSocketFrameWriter`) and hand the same bytes to many sockets with `send(frame:)`.
public final class WebSocket: Sendable {
    public let eventLoop: EventLoop
    /// The TCP peer.
    public let remoteAddress: SocketAddress?
    private let connection: LoopBound<HTTPConnection>

    init(connection: HTTPConnection, eventLoop: EventLoop) {
        self.connection = LoopBound(connection)
        self.eventLoop = eventLoop
        remoteAddress = connection.peer
    }

    public func send(text: String) { send(frame: WebSocketFrameWriter.text(text)) }

    public func send(binary: [UInt8]) { send(frame: WebSocketFrameWriter.binary(binary)) }

    /// Queues an already-encoded server frame.
    public func send(frame: [UInt8]) {
        if eventLoop.inEventLoop {
            connection.value.sendWebSocketFrame(frame)
        } else {
            let connection = self.connection
            eventLoop.execute { connection.value.sendWebSocketFrame(frame) }
        }
    }

    /// Starts the closing handshake (RFC 6455 §7.1.2) with `code` and a short UTF-8 `reason`.
    public func close(code: UInt16 = WebSocketCloseCode.normalClosure, reason: String = "") {
        if eventLoop.inEventLoop {
            connection.value.closeWebSocket(code: code, reason: reason)
        } else {
            let connection = self.connection
            eventLoop.execute { connection.value.closeWebSocket(code: code, reason: reason) }
        }
    }
}

/// The WebSocket state of a connection after its upgrade (loop-confined).
final class WebSocketSession {
    var parser: WebSocketFrameParser
    let handler: any WebSocketHandler
    let socket: WebSocket
    let maxOutboundBytes: Int
    /// We sent a Close frame: only the peer's Close (or the socket closing) is awaited now.
    var sentClose = false
    /// The handler was told that the connection closed.
    var notifiedClosed = false
    /// Heartbeat pings sent since the peer last said anything.
    var unansweredPings = 0
    /// When we sent our Close: the peer has the linger time to answer (and to read what was queued before it).
    var closingSince: Int64?
    /// A flush is scheduled for the end of the loop iteration (frames sent meanwhile share its write).
    var flushScheduled = false

    init(parser: WebSocketFrameParser, handler: any WebSocketHandler, socket: WebSocket, maxOutboundBytes: Int) {
        self.parser = parser
        self.handler = handler
        self.socket = socket
        self.maxOutboundBytes = maxOutboundBytes
    }
}
