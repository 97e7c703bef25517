/// How the HTTP server listens, limits and times out. Durations are milliseconds.
public struct HTTPServerConfiguration: Sendable {
    public var address: SocketAddress
    /// Event loop threads; each accepts on its own SO_REUSEPORT socket.
    public var loops: Int
    public var limits: HTTPLimits
    /// Open connections across all loops; past it new ones get a 503 and are closed.
    public var maxConnections: Int
    /// A request head must arrive completely within this time of its first byte (slowloris), else 408.
    public var headerTimeout: Int64
    /// A keep-alive connection with nothing in flight is closed after this long; a stalled body gets 408.
    public var idleTimeout: Int64
    /// A handler that has not answered after this long gets a 503 written for it; a streamed body whose
    /// producer stays silent this long is cut off.
    public var responseTimeout: Int64
    /// How long a graceful shutdown waits for in-flight requests before closing everything.
    public var shutdownTimeout: Int64
    /// After a final response, how long unread input is drained before the socket is closed.
    public var lingerTimeout: Int64
    /// Reading from a connection pauses while more than this many response bytes wait to be written.
    public var outputHighWater: Int
    /// A WebSocket quiet this long gets a ping, and another after each further period; one that stays silent
    /// through two pings is closed.
    public var webSocketPingInterval: Int64 = 30_000
    /// Which requests stream their body instead of buffering it, called with each request head (body empty):
    /// nil buffers it under `limits.maxBodyBytes`; a number streams it as `HTTPRequest.bodyStream`, dispatched as
    /// soon as the head is parsed, with that number as its size limit instead (larger gets 413). The default
    /// buffers every body.
    public var streamedBodies: @Sendable (HTTPRequest) -> Int? = { _ in nil }
    /// A streamed request body pauses reading from the socket above this many unconsumed bytes, and resumes once
    /// the handler has taken it below half of that.
    public var requestBodyHighWater = 256 * 1024

    public init(
        address: SocketAddress, loops: Int = 1, limits: HTTPLimits = HTTPLimits(), maxConnections: Int = 10_000,
        headerTimeout: Int64 = 10_000, idleTimeout: Int64 = 60_000, responseTimeout: Int64 = 30_000,
        shutdownTimeout: Int64 = 10_000,
        lingerTimeout: Int64 = 2_000, outputHighWater: Int = 256 * 1024
    ) {
        self.address = address
        self.loops = max(1, loops)
        self.limits = limits
        self.maxConnections = maxConnections
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.responseTimeout = responseTimeout
        self.shutdownTimeout = shutdownTimeout
        self.lingerTimeout = lingerTimeout
        self.outputHighWater = outputHighWater
    }
}
