/// Per-request information that is not part of the HTTP message: request id, peer, timing, the loop that owns
/// the connection, and typed values middleware attaches (for example the authenticated user).
public struct RequestContext: Sendable {
    public var requestID: String
    /// The TCP peer. Behind a trusted proxy the client address comes from headers, decided by middleware.
    public var remoteAddress: SocketAddress?
    /// When the request's last byte was read (monotonic nanoseconds).
    public var receivedAt: UInt64
    public let eventLoop: EventLoop
    private var values: [ObjectIdentifier: any Sendable] = [:]

    public init(requestID: String, remoteAddress: SocketAddress?, receivedAt: UInt64, eventLoop: EventLoop) {
        self.requestID = requestID
        self.remoteAddress = remoteAddress
        self.receivedAt = receivedAt
        self.eventLoop = eventLoop
    }

    /// A value stored under its type's key: `context[User.self] = user`.
    public subscript<Value: Sendable>(key: Value.Type) -> Value? {
        get { values[ObjectIdentifier(key)] as? Value }
        set { values[ObjectIdentifier(key)] = newValue }
    }
}
