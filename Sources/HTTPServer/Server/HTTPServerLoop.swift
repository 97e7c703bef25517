import CLinux
import Glibc
import Logging
import SystemSupport

/// The HTTP server's state on one event loop: its listening socket, its connections, the cached `Date` value.
/// Confined to the loop thread.
final class HTTPServerLoop: Selectable {
    let loop: EventLoop
    let configuration: HTTPServerConfiguration
    let responder: any Responder
    private let listener: ListeningSocket
    private unowned let server: HTTPServer
    private var listening = true
    private var acceptPaused = false
    private var refusedSinceLog = 0
    private var lastRefusalLog: Int64 = -1_000_000
    private var connections: [Int32: HTTPConnection] = [:]
    /// A connection gave idle buffers back since the last timeout sweep (see `checkTimeouts`).
    var releasedBuffers = false
    private(set) var draining = false
    private var drainDeadline: Int64 = 0
    private var dates = HTTPDateCache()
    private let logger = Logger("http")

    init(loop: EventLoop, listener: ListeningSocket, server: HTTPServer) {
        self.loop = loop
        self.listener = listener
        self.server = server
        configuration = server.configuration
        responder = server.responder
    }

    var now: Int64 { MonotonicClock.milliseconds() }

    /// Registers the listener and the once-a-second timeout sweep. Runs on the loop thread.
    func start() throws {
        try loop.register(listener.descriptor, handler: self, events: CLINUX_EPOLLIN)
        loop.scheduleRepeating(everyMilliseconds: 1000) { [unowned self] in sweep() }
        loop.onExit { [self] in
            for connection in Array(connections.values) { connection.close() }
            if listening { listener.close() }
        }
    }

    /// `Date` header value, formatted once per second (RFC 9110 §6.6.1).
    func dateHeader() -> String { dates.string(for: time(nil)) }

    // MARK: Accepting

    func ready(events: UInt32) {
        // Bounded per wake-up so one busy listener cannot starve the loop's connections.
        for _ in 0..<128 {
            guard listening, !acceptPaused else { return }
            let accepted: (descriptor: Int32, peer: SocketAddress?)?
            do {
                accepted = try listener.accept()
            } catch {
                pauseAccepting(after: error)
                return
            }
            guard let (descriptor, peer) = accepted else { return }
            guard server.reserveConnection() else {
                refuse(descriptor)
                continue
            }
            var one: Int32 = 1
            setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let connection = HTTPConnection(descriptor: descriptor, peer: peer, owner: self, now: now)
            do {
                try loop.register(
                    descriptor, handler: connection,
                    events: CLINUX_EPOLLIN | CLINUX_EPOLLOUT | CLINUX_EPOLLRDHUP | CLINUX_EPOLLET)
                connections[descriptor] = connection
            } catch {
                close(descriptor)
                server.releaseConnection()
            }
        }
    }

    /// Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): the pending connection stays in the
    /// backlog and the level-triggered listener would fire again at once, so stop listening for a moment
    /// instead of spinning, and log once per pause.
    private func pauseAccepting(after error: SystemError) {
        acceptPaused = true
        loop.deregister(listener.descriptor)
        logger.error(
            "accept failed; pausing new connections for 100 ms",
            ["error": error.description, "open_connections": String(server.connectionCount)])
        loop.scheduleOnLoop(afterMilliseconds: 100) { [unowned self] in
            acceptPaused = false
            guard listening else { return }
            do {
                try loop.register(listener.descriptor, handler: self, events: CLINUX_EPOLLIN)
            } catch {
                logger.error("cannot resume accepting", ["error": String(describing: error)])
            }
        }
    }

    /// Over `max_connections`: a best-effort 503 on the fresh socket (its send buffer is empty, so this
    /// small write does not block), then a graceful close: our side is shut down for writing and the socket
    /// closed with a zero linger only if the client had sent nothing, so the client reads the 503 rather than
    /// a reset in the common case. Logged at most once a second.
    private func refuse(_ descriptor: Int32) {
        let body = #"{"error":{"code":"too_many_connections","message":"The server is at its connection limit."}}"#
        let response =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
            + "Connection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        _ = response.withCString { send(descriptor, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        shutdown(descriptor, Int32(SHUT_WR))
        // Whatever the client already sent would turn close() into a reset that can destroy the 503 in
        // flight; read it away first (non-blocking: only what has arrived).
        var scratch = [UInt8](repeating: 0, count: 4096)
        while scratch.withUnsafeMutableBytes({ read(descriptor, $0.baseAddress, $0.count) }) > 0 {}
        close(descriptor)
        refusedSinceLog += 1
        let now = self.now
        if now - lastRefusalLog >= 1000 {
            logger.warn(
                "connections refused: limit reached",
                ["max_connections": String(configuration.maxConnections), "refused": String(refusedSinceLog)])
            refusedSinceLog = 0
            lastRefusalLog = now
        }
    }

    func connectionClosed(_ connection: HTTPConnection) {
        if connections.removeValue(forKey: connection.descriptor) != nil {
            server.releaseConnection()
        }
        if draining && connections.isEmpty { loop.stop() }
    }

    // MARK: Timeouts and shutdown

    private func sweep() {
        let now = self.now
        if draining && now >= drainDeadline {
            for connection in Array(connections.values) { connection.close() }
            return
        }
        for connection in Array(connections.values) { connection.checkTimeouts(now: now) }
        if releasedBuffers {
            // Idle connections gave their buffers back: hand the freed pages to the kernel too, or they stay in
            // the resident set (glibc keeps freed small chunks in its arenas). Once a second at most.
            releasedBuffers = false
            _ = clinux_malloc_trim(0)
        }
    }

    /// Stops accepting, closes idle connections, lets in-flight requests finish (their responses carry
    /// `Connection: close`), and stops the loop when the last connection is gone or the deadline passes.
    func beginDraining() {
        guard !draining else { return }
        draining = true
        drainDeadline = now + configuration.shutdownTimeout
        if listening {
            listening = false
            if !acceptPaused { loop.deregister(listener.descriptor) }
            listener.close()
        }
        for connection in Array(connections.values) { connection.beginDraining() }
        if connections.isEmpty {
            loop.stop()
        } else {
            loop.scheduleRepeating(everyMilliseconds: 100) { [unowned self] in sweep() }
        }
    }
}
