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

    private static func stop(_ server: HTTPServer, _ pool: WorkerPool) {
        server.shutdown()
        server.waitUntilStopped()
        pool.shutdown()
    }

    @Test func pipelinedResponsesKeepRequestOrderAcrossSyncAndAsyncHandlers() throws {
        let (server, pool, port) = try Self.makeServer()
        defer { Self.stop(server, pool) }
        let client = try TestClient(port: port)
        client.send(
            "GET /async/30 HTTP/1.1\r\nHost: x\r\n\r\nGET /sync HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /pool HTTP/1.1\r\nHost: x\r\n\r\nGET /async/1 HTTP/1.1\r\nHost: x\r\n\r\n")
        let text = client.read { $0.occurrences(of: "HTTP/1.1 200 OK") == 4 && $0.hasSuffix("async 1") }
        let bodies = ["async 30", "sync", "pool", "async 1"].map { text.range(of: $0)?.lowerBound }
        #expect(bodies.allSatisfy { $0 != nil })
        #expect(bodies.compactMap { $0 } == bodies.compactMap { $0 }.sorted())
    }

    @Test func streamedBodiesUseChunkedFramingOnHTTP11() throws {
        let (server, pool, port) = try Self.makeServer()
        defer { Self.stop(server, pool) }
        let client = try TestClient(port: port)
        client.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /sync HTTP/1.1\r\nHost: x\r\n\r\n")
        let text = client.read { $0.hasSuffix("sync") }
        #expect(text.contains("Transfer-Encoding: chunked\r\n"))
        #expect(text.contains("\r\n\r\n5\r\nalpha\r\n4\r\nbeta\r\n5\r\ngamma\r\n0\r\n\r\nHTTP/1.1 200 OK"))
    }

    @Test func streamedBodiesEndWithTheConnectionOnHTTP10() throws {
        let (server, pool, port) = try Self.makeServer()
        defer { Self.stop(server, pool) }
        let client = try TestClient(port: port)
        client.send("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let text = client.readToEnd()
        #expect(text.hasPrefix("HTTP/1.0 200 OK\r\n"))
        #expect(!text.contains("Transfer-Encoding"))
        #expect(text.contains("Connection: close\r\n"))
        #expect(text.hasSuffix("\r\n\r\nalphabetagamma"))
    }

    @Test func parseErrorsAnswerInTheErrorShapeAndClose() throws {
        let (server, pool, port) = try Self.makeServer()
        defer { Self.stop(server, pool) }
        let client = try TestClient(port: port)
        client.send("GET /sync HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")
        let text = client.readToEnd()
        #expect(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(text.contains("Connection: close\r\n"))
        #expect(text.contains(#"{"error":{"code":"#))
        let other = try TestClient(port: port)
        other.send("GET /sync HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(other.read { $0.hasSuffix("sync") }.hasSuffix("sync"))
    }

    @Test func bodiesAreReceivedWithContentLengthAndChunked() throws {
        let (server, pool, port) = try Self.makeServer()
        defer { Self.stop(server, pool) }
        let client = try TestClient(port: port)
        client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        #expect(client.read { $0.hasSuffix("hello") }.contains("Content-Length: 5\r\n"))
        client.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        #expect(client.read { $0.hasSuffix("abcde") }.hasSuffix("abcde"))
    }

    @Test func connectionsOverTheLimitAreRefusedWith503() throws {
        let (server, pool, port) = try Self.makeServer(loops: 1) { $0.maxConnections = 1 }
        defer { Self.stop(server, pool) }
        let first = try TestClient(port: port)
        first.send("GET /sync HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = first.read { $0.hasSuffix("sync") }
        let second = try TestClient(port: port)
        let refused = second.readToEnd()
        #expect(refused.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(refused.contains("too_many_connections"))
    }

    @Test func gracefulShutdownFinishesTheRequestInFlight() throws {
        let (server, pool, port) = try Self.makeServer(loops: 1)
        let client = try TestClient(port: port)
        let started = Self.asyncStarted.load(ordering: .relaxed)
        client.send("GET /async/300 HTTP/1.1\r\nHost: x\r\n\r\n")
        // Shut down only once the request is in flight: before that, an idle connection is rightly just closed.
        for _ in 0..<1000 where Self.asyncStarted.load(ordering: .relaxed) == started { usleep(5_000) }
        server.shutdown()
        let text = client.readToEnd()
        server.waitUntilStopped()
        pool.shutdown()
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.contains("Connection: close\r\n"))
        #expect(text.hasSuffix("async 300"))
    }

    @Test func slowHeadsGet408() throws {
        let (server, pool, port) = try Self.makeServer(loops: 1) { $0.headerTimeout = 200 }
        defer { Self.stop(server, pool) }
        let client = try TestClient(port: port)
        client.send("GET /sync HTTP/1.1\r\nHo")
        let text = client.readToEnd()
        #expect(text.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
    }
}

/// A detached native thread for test producers.
enum Thread {
    static func detach(_ body: @escaping @Sendable () -> Void) {
        _ = try? NativeThread.start(name: "test-producer", body)
    }
}
