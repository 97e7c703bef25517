import CLinux
import Glibc
import Logging

/// The HTTP server's state on one event loop: its listening socket, its connections, the cached `Date` value.
/// Confined to the loop thread.
final class HTTPServerLoop: Selectable {
    let loop: EventLoop
    let configuration: HTTPServerConfiguration
    let responder: any Responder
    private let listener: ListeningSocket
    private unowned let server: HTTPServer
    private var listening = true
    private var connections: [Int32: HTTPConnection] = [:]
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
            guard listening else { return }
            let accepted: (descriptor: Int32, peer: SocketAddress?)?
            do {
                accepted = try listener.accept()
            } catch {
                logger.error("accept failed", ["error": error.description])
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

    /// Over `max_connections`: a best-effort 503 on the fresh socket (its send buffer is empty, so this
    /// small write does not block), then close.
    private func refuse(_ descriptor: Int32) {
        let body = #"{"error":{"code":"too_many_connections","message":"The server is at its connection limit."}}"#
        let response =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
            + "Connection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        _ = response.withCString { send(descriptor, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        close(descriptor)
        logger.warn("connection refused: limit reached", ["max_connections": String(configuration.maxConnections)])
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
    }

    /// Stops accepting, closes idle connections, lets in-flight requests finish (their responses carry
    /// `Connection: close`), and stops the loop when the last connection is gone or the deadline passes.
    func beginDraining() {
        guard !draining else { return }
        draining = true
        drainDeadline = now + configuration.shutdownTimeout
        if listening {
            listening = false
            loop.deregister(listener.descriptor)
            listener.close()
        }
        for connection in Array(connections.values) where connection.isIdle { connection.close() }
        if connections.isEmpty {
            loop.stop()
        } else {
            loop.scheduleRepeating(everyMilliseconds: 100) { [unowned self] in sweep() }
        }
    }
}
