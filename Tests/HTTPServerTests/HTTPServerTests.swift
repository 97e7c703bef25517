import Foundation
import Glibc
import Synchronization
import SystemSupport
import Testing

@testable import HTTPServer

/// Drives a real `HTTPServer` on a loopback port with raw sockets.
@Suite(.serialized) struct HTTPServerTests {
    /// Handlers of `/async/:ms` that have started (a test waits for its request to be in flight, not a time).
    private static let asyncStarted = Atomic<Int>(0)

    private static func makeServer(
        loops: Int = 2, configure: (inout HTTPServerConfiguration) -> Void = { _ in }
    ) throws -> (HTTPServer, WorkerPool, Int) {
        let pool = try WorkerPool(threads: 2)
        var router = Router()
        router.get("/sync") { _, _ in .now(.text("sync")) }
        router.get("/async/:ms") { request, _ in
            let delay = UInt64(request.pathParameters["ms"] ?? "0") ?? 0
            asyncStarted.add(1, ordering: .relaxed)
            return .async {
                try await Task.sleep(nanoseconds: delay * 1_000_000)
                return .text("async \(delay)")
            }
        }
        router.get("/pool") { _, _ in .blocking(on: pool) { .text("pool") } }
        router.get("/stream") { _, _ in
            let stream = BodyStream()
            Thread.detach {
                for piece in ["alpha", "beta", "gamma"] {
                    usleep(2000)
                    stream.write(Array(piece.utf8))
                }
                stream.finish()
            }
            return .now(HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain"], body: .stream(stream)))
        }
        router.post("/echo") { request, _ in
            .now(HTTPResponse(status: .ok, contentType: "text/plain", body: request.body))
        }
        var configuration = HTTPServerConfiguration(
            address: SocketAddress(host: "127.0.0.1", port: 0, family: .v4), loops: loops)
        configure(&configuration)
        let server = HTTPServer(configuration: configuration, responder: router)
        try server.start()
        return (server, pool, server.localAddress?.port ?? 0)
    }

    /// Runs `body` against a new server and stops the server after it, whatever `body` did.
    private static func withServer(
        loops: Int = 2, configure: (inout HTTPServerConfiguration) -> Void = { _ in },
        _ body: (_ port: Int) async throws -> Void
    ) async throws {
        let (server, pool, port) = try makeServer(loops: loops, configure: configure)
        do {
            try await body(port)
        } catch {
            await stop(server, pool)
            throw error
        }
        await stop(server, pool)
    }

    /// Joining the loop threads blocks, so it happens off the cooperative pool too.
    private static func stop(_ server: HTTPServer, _ pool: WorkerPool) async {
        await offThePool {
            server.shutdown()
            server.waitUntilStopped()
            pool.shutdown()
        }
    }

    @Test func pipelinedResponsesKeepRequestOrderAcrossSyncAndAsyncHandlers() async throws {
        try await Self.withServer { port in
            let client = try TestClient(port: port)
            await client.send(
                "GET /async/30 HTTP/1.1\r\nHost: x\r\n\r\nGET /sync HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /pool HTTP/1.1\r\nHost: x\r\n\r\nGET /async/1 HTTP/1.1\r\nHost: x\r\n\r\n")
            let text = await client.read { $0.occurrences(of: "HTTP/1.1 200 OK") == 4 && $0.hasSuffix("async 1") }
            let bodies = ["async 30", "sync", "pool", "async 1"].map { text.range(of: $0)?.lowerBound }
            #expect(bodies.allSatisfy { $0 != nil })
            #expect(bodies.compactMap { $0 } == bodies.compactMap { $0 }.sorted())
        }
    }

    @Test func streamedBodiesUseChunkedFramingOnHTTP11() async throws {
        try await Self.withServer { port in
            let client = try TestClient(port: port)
            await client.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /sync HTTP/1.1\r\nHost: x\r\n\r\n")
            let text = await client.read { $0.hasSuffix("sync") }
            #expect(text.contains("Transfer-Encoding: chunked\r\n"))
            #expect(text.contains("\r\n\r\n5\r\nalpha\r\n4\r\nbeta\r\n5\r\ngamma\r\n0\r\n\r\nHTTP/1.1 200 OK"))
        }
    }

    @Test func streamedBodiesEndWithTheConnectionOnHTTP10() async throws {
        try await Self.withServer { port in
            let client = try TestClient(port: port)
            await client.send("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let text = await client.readToEnd()
            #expect(text.hasPrefix("HTTP/1.0 200 OK\r\n"))
            #expect(!text.contains("Transfer-Encoding"))
            #expect(text.contains("Connection: close\r\n"))
            #expect(text.hasSuffix("\r\n\r\nalphabetagamma"))
        }
    }

    @Test func parseErrorsAnswerInTheErrorShapeAndClose() async throws {
        try await Self.withServer { port in
            let client = try TestClient(port: port)
            await client.send(
                "GET /sync HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")
            let text = await client.readToEnd()
            #expect(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
            #expect(text.contains("Connection: close\r\n"))
            #expect(text.contains(#"{"error":{"code":"#))
            let other = try TestClient(port: port)
            await other.send("GET /sync HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await other.read { $0.hasSuffix("sync") }.hasSuffix("sync"))
        }
    }

    @Test func bodiesAreReceivedWithContentLengthAndChunked() async throws {
        try await Self.withServer { port in
            let client = try TestClient(port: port)
            await client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
            #expect(await client.read { $0.hasSuffix("hello") }.contains("Content-Length: 5\r\n"))
            await client.send(
                "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
            #expect(await client.read { $0.hasSuffix("abcde") }.hasSuffix("abcde"))
        }
    }

    @Test func connectionsOverTheLimitAreRefusedWith503() async throws {
        try await Self.withServer(loops: 1, configure: { $0.maxConnections = 1 }) { port in
            let first = try TestClient(port: port)
            await first.send("GET /sync HTTP/1.1\r\nHost: x\r\n\r\n")
            _ = await first.read { $0.hasSuffix("sync") }
            let second = try TestClient(port: port)
            let refused = await second.readToEnd()
            #expect(refused.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
            #expect(refused.contains("too_many_connections"))
        }
    }

    @Test func gracefulShutdownFinishesTheRequestInFlight() async throws {
        let (server, pool, port) = try Self.makeServer(loops: 1)
        let client = try TestClient(port: port)
        let started = Self.asyncStarted.load(ordering: .relaxed)
        await client.send("GET /async/300 HTTP/1.1\r\nHost: x\r\n\r\n")
        // Shut down only once the request is in flight: before that, an idle connection is rightly just closed.
        #expect(await eventually { Self.asyncStarted.load(ordering: .relaxed) != started })
        server.shutdown()
        let text = await client.readToEnd()
        await Self.stop(server, pool)
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.contains("Connection: close\r\n"))
        #expect(text.hasSuffix("async 300"))
    }

    @Test func slowHeadsGet408() async throws {
        try await Self.withServer(loops: 1, configure: { $0.headerTimeout = 200 }) { port in
            let client = try TestClient(port: port)
            await client.send("GET /sync HTTP/1.1\r\nHo")
            let text = await client.readToEnd()
            #expect(text.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        }
    }
}

/// A detached native thread for test producers.
enum Thread {
    static func detach(_ body: @escaping @Sendable () -> Void) {
        _ = try? NativeThread.start(name: "test-producer", body)
    }
}
