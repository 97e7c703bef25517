import Foundation
import Glibc
import Synchronization
import SystemSupport
import Testing

@testable import HTTPServer

/// What the streaming handlers saw, for the test to inspect after the response (or instead of one).
private final class Observations: Sendable {
    private let state = Mutex<(errors: [RequestBodyError], maxBuffered: Int)>(([], 0))

    func record(_ error: RequestBodyError) { state.withLock { $0.errors.append(error) } }
    func record(maxBuffered: Int) { state.withLock { $0.maxBuffered = max($0.maxBuffered, maxBuffered) } }
    var errors: [RequestBodyError] { state.withLock { $0.errors } }
    var maxBuffered: Int { state.withLock { $0.maxBuffered } }

    /// Waits up to 5 s for a consumer error.
    func waitForError() async -> RequestBodyError? {
        _ = await eventually { !errors.isEmpty }
        return errors.first
    }
}

extension HTTPServerTests {
    /// Streamed request bodies through a real `HTTPServer` on a loopback port, with raw sockets. Nested in the
    /// serialized `HTTPServerTests`, so one server and its loop threads run at a time.
    @Suite struct StreamedBodies {
        private static let highWater = 256 * 1024

        private static func makeServer(
            configure: (inout HTTPServerConfiguration) -> Void = { _ in }
        ) throws -> (HTTPServer, Observations, Int) {
            let seen = Observations()
            var router = Router()
            router.get("/sync") { _, _ in .now(.text("sync")) }
            // Counts the body; `?slow` sleeps between chunks so the stream fills up to its high-water mark.
            router.post("/upload/count") { request, _ in
                guard let stream = request.bodyStream else { throw HTTPError.badRequest("not streamed") }
                let slow = request.query == "slow"
                return .async {
                    var count = 0
                    do {
                        for try await chunk in stream {
                            count += chunk.count
                            if slow { try await Task.sleep(nanoseconds: 1_000_000) }
                        }
                    } catch let error as RequestBodyError {
                        seen.record(error)
                        throw error
                    }
                    seen.record(maxBuffered: stream.maxBufferedBytes)
                    return .text("\(count)")
                }
            }
            router.post("/upload/small") { request, _ in
                .async { .text("\(try await request.bodyStream?.collect(upTo: 1 << 20).count ?? -1)") }
            }
            router.post("/upload/reject") { _, _ in
                .now(HTTPError(.forbidden, code: "forbidden", message: "No uploads for you.").response)
            }
            router.post("/upload/form") { request, _ in
                guard let stream = request.bodyStream,
                    let boundary = request.headers["Content-Type"].flatMap(MultipartParser.boundary(fromContentType:))
                else { throw HTTPError.badRequest("Expected multipart/form-data.") }
                return .async {
                    var parser = MultipartParser(boundary: boundary)
                    var fields = MultipartFieldCollector()
                    var fileBytes = 0
                    var checksum: UInt8 = 0
                    for try await chunk in stream {
                        for event in try parser.feed(chunk) {
                            if try fields.consume(event) { continue }
                            if case .partData(let bytes) = event {
                                fileBytes += bytes.count
                                for byte in bytes { checksum &+= byte }
                            }
                        }
                    }
                    try parser.finish()
                    return .text("\(fields.value("title") ?? "-") \(fileBytes) \(checksum)")
                }
            }
            router.post("/buffered") { request, _ in .now(.text("\(request.body.count)")) }
            var configuration = HTTPServerConfiguration(
                address: SocketAddress(host: "127.0.0.1", port: 0, family: .v4), loops: 1)
            configuration.requestBodyHighWater = highWater
            configuration.streamedBodies = { request in
                guard request.path.hasPrefix("/upload/") else { return nil }
                return request.path == "/upload/small" ? 1000 : 64 << 20
            }
            configure(&configuration)
            let server = HTTPServer(configuration: configuration, responder: router)
            try server.start()
            return (server, seen, server.localAddress?.port ?? 0)
        }

        /// Runs `body` against a new server and stops the server after it, off the cooperative pool.
        private static func withServer(
            configure: (inout HTTPServerConfiguration) -> Void = { _ in },
            _ body: (_ port: Int, _ seen: Observations) async throws -> Void
        ) async throws {
            let (server, seen, port) = try makeServer(configure: configure)
            let stop = {
                await offThePool {
                    server.shutdown()
                    server.waitUntilStopped()
                }
            }
            do {
                try await body(port, seen)
            } catch {
                await stop()
                throw error
            }
            await stop()
        }

        @Test func aFiftyMegabyteBodyStreamsThroughABoundedBuffer() async throws {
            try await Self.withServer { port, seen in
                let client = try TestClient(port: port)
                let total = 50 * 1024 * 1024
                await client.send("POST /upload/count HTTP/1.1\r\nHost: x\r\nContent-Length: \(total)\r\n\r\n")
                let sender = ClientSender(client)
                sender.sendPattern(total: total)
                let text = await client.read { $0.hasSuffix("\r\n\r\n\(total)") }
                await sender.join()
                #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
                #expect(text.hasSuffix("\r\n\r\n\(total)"))
                // One read (16 KiB) past the high-water mark at most: nothing like 50 MB.
                #expect(seen.maxBuffered <= Self.highWater + 16 * 1024)
                // The connection is still good for the next request.
                await client.send("GET /sync HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(await client.read { $0.hasSuffix("sync") }.hasSuffix("sync"))
            }
        }

        @Test func aSlowConsumerPausesReadingAtTheHighWaterMark() async throws {
            try await Self.withServer { port, seen in
                let client = try TestClient(port: port)
                let total = 4 * 1024 * 1024
                await client.send("POST /upload/count?slow HTTP/1.1\r\nHost: x\r\nContent-Length: \(total)\r\n\r\n")
                let sender = ClientSender(client)
                sender.sendPattern(total: total)
                let text = await client.read { $0.hasSuffix("\r\n\r\n\(total)") }
                await sender.join()
                #expect(text.hasSuffix("\r\n\r\n\(total)"))
                #expect(seen.maxBuffered > Self.highWater)  // it did fill up…
                #expect(seen.maxBuffered <= Self.highWater + 16 * 1024)  // …and stopped there
            }
        }

        @Test func chunkedBodiesStream() async throws {
            try await Self.withServer { port, _ in
                let client = try TestClient(port: port)
                await client.send("POST /upload/count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
                var expected = 0
                for size in [1, 100, 70_000, 3, 300_000] {
                    await client.send(
                        String(size, radix: 16) + ";ext=1\r\n" + String(repeating: "z", count: size) + "\r\n")
                    expected += size
                }
                await client.send("0\r\nTrailer: x\r\n\r\nGET /sync HTTP/1.1\r\nHost: x\r\n\r\n")
                let text = await client.read { $0.hasSuffix("sync") }
                #expect(text.contains("\r\n\r\n\(expected)HTTP/1.1 200 OK"))
            }
        }

        @Test func aBodylessRequestToAStreamedRouteGetsAnEndedStream() async throws {
            try await Self.withServer { port, _ in
                let client = try TestClient(port: port)
                await client.send("POST /upload/count HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                #expect(await client.read { $0.hasSuffix("\r\n\r\n0") }.hasSuffix("\r\n\r\n0"))
            }
        }

        @Test func aClientDisconnectingMidBodyFailsTheConsumer() async throws {
            try await Self.withServer { port, seen in
                do {
                    let client = try TestClient(port: port)
                    await client.send("POST /upload/count HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
                    await client.send(String(repeating: "a", count: 5000))
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(await seen.waitForError() == .disconnected)
            }
        }

        @Test func aMalformedChunkMidBodyFailsTheConsumerAndAnswers400() async throws {
            try await Self.withServer { port, seen in
                let client = try TestClient(port: port)
                await client.send(
                    "POST /upload/count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n")
                let text = await client.readToEnd()
                #expect(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
                #expect(text.contains(#""code":"invalid_chunk""#))
                #expect(text.contains("Connection: close\r\n"))
                #expect(await seen.waitForError() == .invalid(.invalidChunkSize))
            }
        }

        @Test func anEarlyAnswerDiscardsASmallBodyAndKeepsTheConnection() async throws {
            try await Self.withServer { port, _ in
                let client = try TestClient(port: port)
                // The body comes in two pieces around the answer; the leftovers must not be parsed as a request.
                await client.send("POST /upload/reject HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n")
                await client.send(String(repeating: "GET /sync HTTP/1.1\r\n\r\n", count: 400))
                let first = await client.read { $0.contains("No uploads for you.") }
                #expect(first.hasPrefix("HTTP/1.1 403 Forbidden\r\n"))
                #expect(!first.contains("Connection: close"))
                await client.send(
                    String(repeating: "x", count: 20000 - 400 * 22) + "GET /sync HTTP/1.1\r\nHost: x\r\n\r\n")
                let second = await client.read { $0.hasSuffix("sync") }
                #expect(second.hasPrefix("HTTP/1.1 200 OK\r\n"))
                #expect(second.occurrences(of: "HTTP/1.1") == 1)
            }
        }

        @Test(arguments: [
            "Content-Length: 10000000\r\n",  // more than max_body to discard
            "Transfer-Encoding: chunked\r\n",  // unknown length
            "Content-Length: 100\r\nExpect: 100-continue\r\n",  // the client may never send it
        ])
        func anEarlyAnswerClosesWhenTheRestCannotBeDiscardedCheaply(framing: String) async throws {
            try await Self.withServer { port, _ in
                let client = try TestClient(port: port)
                await client.send("POST /upload/reject HTTP/1.1\r\nHost: x\r\n\(framing)\r\n")
                let text = await client.readToEnd()
                #expect(text.hasPrefix("HTTP/1.1 403 Forbidden\r\n"))
                #expect(text.contains("Connection: close\r\n"))
                #expect(!text.contains("100 Continue"))
            }
        }

        @Test func continueIsSentWhenTheHandlerReadsTheBody() async throws {
            try await Self.withServer { port, _ in
                let client = try TestClient(port: port)
                await client.send(
                    "POST /upload/small HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
                #expect(await client.read { $0.hasSuffix("\r\n\r\n") } == "HTTP/1.1 100 Continue\r\n\r\n")
                await client.send("hello")
                #expect(await client.read { $0.hasSuffix("\r\n\r\n5") }.hasPrefix("HTTP/1.1 200 OK\r\n"))
            }
        }

        @Test func bodiesOverTheRouteLimitGet413() async throws {
            try await Self.withServer { port, seen in
                let client = try TestClient(port: port)
                await client.send("POST /upload/small HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n")
                let declared = await client.readToEnd()
                #expect(declared.hasPrefix("HTTP/1.1 413 Content Too Large\r\n"))
                #expect(declared.contains(#""code":"body_too_large""#))
                // Chunked: found out mid-body, after the handler started.
                let chunked = try TestClient(port: port)
                await chunked.send(
                    "POST /upload/count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n")
                await chunked.send("5000000\r\n")
                #expect(await chunked.readToEnd().hasPrefix("HTTP/1.1 413 Content Too Large\r\n"))
                #expect(await seen.waitForError() == .invalid(.bodyTooLarge))
                let other = try TestClient(port: port)
                await other.send("POST /upload/small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n")
                await other.send(String(repeating: "a", count: 1024) + "\r\n")
                let text = await other.readToEnd()
                #expect(text.hasPrefix("HTTP/1.1 413 Content Too Large\r\n"))
                // The route's limit replaces max_body: larger bodies pass on other streamed routes.
                let large = try TestClient(port: port)
                await large.send("POST /upload/count HTTP/1.1\r\nHost: x\r\nContent-Length: 3000000\r\n\r\n")
                ClientSender(large).sendPattern(total: 3_000_000)
                #expect(await large.read { $0.hasSuffix("3000000") }.hasPrefix("HTTP/1.1 200 OK\r\n"))
            }
        }

        @Test func aStalledStreamedBodyGets408AndFailsTheConsumer() async throws {
            try await Self.withServer(configure: { $0.idleTimeout = 1000 }) { port, seen in
                let client = try TestClient(port: port)
                await client.send("POST /upload/count HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc")
                let text = await client.readToEnd()
                #expect(text.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
                #expect(await seen.waitForError() == .timedOut)
            }
        }

        @Test func aMultipartUploadIsParsedAsItStreams() async throws {
            try await Self.withServer { port, seen in
                let client = try TestClient(port: port)
                let size = 3_000_000
                let head = Array(
                    ("--b0und\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHoliday\r\n"
                        + "--b0und\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\n"
                        + "Content-Type: application/octet-stream\r\n\r\n").utf8)
                let tail = Array("\r\n--b0und--\r\n".utf8)
                await client.send(
                    "POST /upload/form HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=\"b0und\"\r\n"
                        + "Content-Length: \(head.count + size + tail.count)\r\n\r\n")
                await client.send(bytes: head)
                let sender = ClientSender(client)
                sender.sendPattern(total: size)
                await sender.join()
                await client.send(bytes: tail)
                let checksum = (0..<size).reduce(UInt8(0)) { $0 &+ ClientSender.patternByte($1) }
                let text = await client.read { $0.hasSuffix("Holiday \(size) \(checksum)") }
                #expect(text.hasSuffix("Holiday \(size) \(checksum)"))
                #expect(seen.errors.isEmpty)
            }
        }

        @Test func routesThatDoNotStreamStillBuffer() async throws {
            try await Self.withServer { port, _ in
                let client = try TestClient(port: port)
                await client.send("POST /buffered HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
                #expect(await client.read { $0.hasSuffix("\r\n\r\n5") }.hasSuffix("\r\n\r\n5"))
            }
        }
    }
}

/// Sends a large body on a test client from another thread while the test reads the response.
private final class ClientSender: @unchecked Sendable {
    // @unchecked: the descriptor is only written to by the sending thread; `done` is the handshake.
    private let descriptor: Int32
    private let done = Mutex(false)

    init(_ client: TestClient) { descriptor = client.descriptor }

    static func patternByte(_ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: index &* 31 &+ index >> 8) }

    /// Starts sending `total` pattern bytes; returns at once.
    func sendPattern(total: Int) {
        Thread.detach { [self] in
            var sent = 0
            var block = [UInt8](repeating: 0, count: 65536)
            while sent < total {
                let count = min(block.count, total - sent)
                for index in 0..<count { block[index] = Self.patternByte(sent + index) }
                var offset = 0
                while offset < count {
                    let written = block.withUnsafeBytes {
                        Glibc.send(descriptor, $0.baseAddress.map { $0 + offset }, count - offset, Int32(MSG_NOSIGNAL))
                    }
                    if written <= 0 { break }
                    offset += written
                }
                if offset < count { break }
                sent += count
            }
            done.withLock { $0 = true }
        }
    }

    /// Waits (without holding a thread) until every byte went out or the connection failed.
    func join() async {
        while !done.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(1)) }
    }
}
