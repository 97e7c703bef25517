/// The closing handshake (RFC 6455 §5.5.1, §7) as a pure state machine: it says what to send and when to drop
/// the TCP connection, and the connection does the I/O.
///
/// - open: messages flow both ways.
/// - closing: we sent a Close and wait for the peer's; incoming data frames are dropped and nothing but the
///   peer's Close matters (§5.5.1: no data frames after a Close). The connection should bound this wait.
/// - closed: both Close frames have crossed, or the connection failed; the server closes TCP first (§7.1.1).
///
/// A peer's Close is answered exactly once, with its own code (or 1000 when it sent none).
public struct WebSocketCloseState: Sendable, Equatable {
    public enum Phase: Sendable, Equatable {
        case open
        case closing
        case closed
    }

    public enum Action: Sendable, Equatable {
        /// Nothing to send: the frame needs no answer, or arrived after we sent our Close.
        case ignore
        /// Hand the message (or pong) to the application.
        case deliver
        /// Answer a Ping with a Pong carrying the same payload (§5.5.2, §5.5.3).
        case sendPong([UInt8])
        /// Send a Close frame with this code and reason; then close TCP once it is written if `thenDisconnect`.
        case sendClose(code: UInt16, reason: String, thenDisconnect: Bool)
        /// The closing handshake is over: close TCP (§7.1.1).
        case disconnect
    }

    public private(set) var phase = Phase.open
    /// The code of the Close frame we sent, if any.
    public private(set) var sentCloseCode: UInt16?
    /// The peer's close code: its Close frame's code, 1005 when that frame had none (§7.1.5), 1006 when the
    /// connection ended without one (§7.1.5), or the code we failed the connection with.
    public private(set) var closeCode: UInt16?

    public init() {}

    /// Data frames may be sent only while open (§5.5.1).
    public var canSendData: Bool { phase == .open }

    /// We start the closing handshake (shutdown, policy, idle). Only the first call sends anything.
    public mutating func close(code: UInt16, reason: String = "") -> Action {
        guard phase == .open else { return .ignore }
        phase = .closing
        sentCloseCode = code
        return .sendClose(code: code, reason: reason, thenDisconnect: false)
    }

    /// What to do with an event from `WebSocketFrameParser`.
    public mutating func handle(_ event: WebSocketFrameParser.Event) -> Action {
        switch event {
        case .needMoreData:
            return .ignore
        case .text, .binary, .pong:
            return phase == .open ? .deliver : .ignore
        case .ping(let payload):
            // After our Close, §5.5.1 has us send nothing more but wait for the peer's Close.
            return phase == .open ? .sendPong(payload) : .ignore
        case .close(let code, _):
            return receivedClose(code: code)
        case .protocolError(let code, let reason):
            return failed(code: code, reason: reason)
        }
    }

    /// The TCP connection ended (EOF, reset, or our close timeout) without a complete handshake (§7.1.5: 1006).
    public mutating func connectionLost() {
        guard phase != .closed else { return }
        phase = .closed
        closeCode = closeCode ?? 1006
    }

    private mutating func receivedClose(code: UInt16?) -> Action {
        switch phase {
        case .open:
            // §5.5.1: echo the status code; a Close without one is answered with 1000, never an empty body.
            phase = .closed
            closeCode = code ?? 1005
            let reply = code ?? WebSocketCloseCode.normalClosure
            sentCloseCode = reply
            return .sendClose(code: reply, reason: "", thenDisconnect: true)
        case .closing:
            phase = .closed
            closeCode = code ?? 1005
            return .disconnect
        case .closed:
            return .ignore
        }
    }

    /// §7.1.7 _Fail the WebSocket Connection_: send a Close with the code if none was sent yet, then close TCP
    /// without waiting for the peer's Close.
    private mutating func failed(code: UInt16, reason: String) -> Action {
        switch phase {
        case .open:
            phase = .closed
            closeCode = code
            sentCloseCode = code
            return .sendClose(code: code, reason: reason, thenDisconnect: true)
        case .closing:
            phase = .closed
            closeCode = code
            return .disconnect
        case .closed:
            return .ignore
        }
    }
}
