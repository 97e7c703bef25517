import Glibc
import Logging
import Synchronization
import SystemSupport

/// An HTTP/1.1 server: `configuration.loops` event loop threads, each with its own SO_REUSEPORT listening
/// socket, epoll set and connections. It knows nothing about the application: requests go to `responder`.
public final class HTTPServer: Sendable {
    public let configuration: HTTPServerConfiguration
    let responder: any Responder
    private let openConnections = Atomic<Int>(0)
    private let state = Mutex(State())
    private let logger = Logger("http")

    private struct State {
        var loops: [EventLoop] = []
        var serverLoops: [LoopBound<HTTPServerLoop>] = []
        var threads: [NativeThread] = []
        var localAddress: SocketAddress?
        var stopping = false
    }

    public init(configuration: HTTPServerConfiguration, responder: any Responder) {
        self.configuration = configuration
        self.responder = responder
    }

    /// The address actually bound (the real port when configured with port 0).
    public var localAddress: SocketAddress? { state.withLock { $0.localAddress } }

    /// The event loops, for code that schedules work on them.
    public var eventLoops: [EventLoop] { state.withLock { $0.loops } }

    /// Binds every loop's socket (so address errors surface here), then starts the loop threads.
    public func start() throws {
        var address = configuration.address
        var listeners: [ListeningSocket] = []
        do {
            for _ in 0..<configuration.loops {
                let listener = try ListeningSocket(address: address)
                // With port 0 the first bind picks a port; the other loops join it.
                address = listener.address
                listeners.append(listener)
            }
        } catch {
            for listener in listeners { listener.close() }
            throw error
        }
        var loops: [EventLoop] = []
        var serverLoops: [HTTPServerLoop] = []
        var threads: [NativeThread] = []
        do {
            for (index, listener) in listeners.enumerated() {
                let loop = try EventLoop(index: index)
                loops.append(loop)
                serverLoops.append(HTTPServerLoop(loop: loop, listener: listener, server: self))
            }
            for (loop, serverLoop) in zip(loops, serverLoops) {
                let bound = LoopBound(serverLoop)
                threads.append(
                    try NativeThread.start(name: "loop-\(loop.index)") {
                        loop.run {
                            do {
                                try bound.value.start()
                            } catch {
                                Logger("http").error("loop failed to start", ["error": String(describing: error)])
                                bound.value.beginDraining()
                            }
                        }
                    })
            }
        } catch {
            // Undo a partial start: loops already running drain and stop; sockets of loops that never ran
            // are closed here.
            for serverLoop in serverLoops.prefix(threads.count) {
                let bound = LoopBound(serverLoop)
                serverLoop.loop.execute { bound.value.beginDraining() }
            }
            for thread in threads { thread.join() }
            for listener in listeners.dropFirst(threads.count) { listener.close() }
            throw error
        }
        state.withLock {
            $0.loops = loops
            $0.serverLoops = serverLoops.map { LoopBound($0) }
            $0.threads = threads
            $0.localAddress = address
        }
    }

    /// Begins a graceful shutdown: stop accepting, finish in-flight requests (bounded by `shutdownTimeout`),
    /// close every connection, stop the loops. Returns at once; `waitUntilStopped` waits for the end.
    public func shutdown() {
        let serverLoops = state.withLock { state -> [LoopBound<HTTPServerLoop>] in
            guard !state.stopping else { return [] }
            state.stopping = true
            return state.serverLoops
        }
        for serverLoop in serverLoops {
            serverLoop.value.loop.execute { serverLoop.value.beginDraining() }
        }
    }

    /// Blocks until every loop thread has exited.
    public func waitUntilStopped() {
        let threads = state.withLock { $0.threads }
        for thread in threads { thread.join() }
        state.withLock { $0.serverLoops = [] }
    }

    /// Open connections right now, across loops.
    public var connectionCount: Int { openConnections.load(ordering: .relaxed) }

    func reserveConnection() -> Bool {
        let count = openConnections.wrappingAdd(1, ordering: .relaxed).newValue
        if count > configuration.maxConnections {
            openConnections.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func releaseConnection() {
        openConnections.wrappingSubtract(1, ordering: .relaxed)
    }
}
