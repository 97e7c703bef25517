import Glibc
import Synchronization
import SystemSupport
import Testing

@testable import RemoteFetch

/// `RemoteFetcher` against a canned loopback server: framing, limits, redirects, refusals and the deadline.
@Suite struct RemoteFetcherTests {
    private static func fetcher(
        allow: [String] = ["127.0.0.1/32"], timeout: Duration = .seconds(10), redirects: Int = 3
    ) throws -> RemoteFetcher {
        var configuration = RemoteFetcher.Configuration()
        configuration.policy = AddressPolicy(allowed: allow.compactMap(AddressBlock.init))
        configuration.timeout = timeout
        configuration.maxRedirects = redirects
        return try RemoteFetcher(configuration: configuration)
    }

    /// Fetches into memory.
    private static func fetch(
        _ url: String, with fetcher: RemoteFetcher, limit: Int64 = 1 << 20
    ) throws -> (RemoteFetcher.Result, [UInt8]) {
        var body: [UInt8] = []
        let result = try fetcher.fetch(url, limit: limit) { body += $0 }
        return (result, body)
    }

    private static func withServer(
        _ answer: @escaping @Sendable (String) -> CannedHTTPServer.Answer,
        _ body: (CannedHTTPServer) throws -> Void
    ) throws {
        let server = try CannedHTTPServer(answer: answer)
        defer { server.stop() }
        try body(server)
    }

    private static let payload = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7) }

    @Test func aContentLengthBodyArrivesWholeAndTheRequestIsPlain() throws {
        try Self.withServer { _ in
            .response("HTTP/1.1 200 OK\nContent-Type: image/png\nContent-Length: 5000\n", body: Self.payload)
        } _: { server in
            let (result, body) = try Self.fetch("http://127.0.0.1:\(server.port)/a/b.png?x=1", with: try Self.fetcher())
            #expect(body == Self.payload)
            #expect(result.byteCount == 5000)
            #expect(result.contentType == "image/png")
            let request = try #require(server.received.first)
            #expect(request.hasPrefix("GET /a/b.png?x=1 HTTP/1.1\r\n"))
            #expect(request.contains("\r\nHost: 127.0.0.1:\(server.port)\r\n"))
            #expect(request.contains("\r\nAccept-Encoding: identity\r\n"))
            #expect(request.contains("\r\nConnection: close\r\n"))
        }
    }

    @Test func chunkedBodiesAreDecodedWithExtensionsAndTrailers() throws {
        let chunked =
            "1388;name=value\r\n" + String(decoding: Self.payload.map { _ in UInt8(ascii: "z") }, as: UTF8.self)
            + "\r\n3\r\nabc\r\n0\r\nX-Trailer: yes\r\n\r\n"
        try Self.withServer { _ in
            .response(
                "HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\nTransfer-Encoding: chunked\n", body: Array(chunked.utf8))
        } _: { server in
            let (_, body) = try Self.fetch("http://127.0.0.1:\(server.port)/", with: try Self.fetcher())
            #expect(body.count == 5003)
            #expect(body.suffix(3) == Array("abc".utf8))
        }
    }

    @Test func aBodyWithoutLengthEndsWithTheConnection() throws {
        try Self.withServer { _ in
            .response("HTTP/1.0 200 OK\n", body: Self.payload)
        } _: { server in
            let (_, body) = try Self.fetch("http://127.0.0.1:\(server.port)/", with: try Self.fetcher())
            #expect(body == Self.payload)
        }
    }

    @Test(arguments: [
        "HTTP/1.1 200 OK\nContent-Length: 5000\n",  // refused from the header, before any byte
        "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n",
        "HTTP/1.1 200 OK\n",
    ])
    func bodiesOverTheLimitAreRefused(head: String) throws {
        let body =
            head.contains("chunked")
            ? Array("1388\r\n".utf8) + Self.payload + Array("\r\n0\r\n\r\n".utf8) : Self.payload
        try Self.withServer { _ in
            .response(head, body: body)
        } _: { server in
            var received = 0
            #expect(throws: FetchError.tooLarge(4096)) {
                try Self.fetcher().fetch("http://127.0.0.1:\(server.port)/", limit: 4096) { received += $0.count }
            }
            #expect(received <= 4096)
        }
    }

    @Test(arguments: [
        ("HTTP/1.1 200 OK\nContent-Length: 10\n", "short"),  // the body ends early
        ("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n", "zz\r\n"),  // not a chunk size
        ("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n", "+5\r\nabcde\r\n0\r\n\r\n"),  // a signed size
        ("HTTP/1.1 200 OK\nContent-Encoding: identity\nContent-Encoding: gzip\nContent-Length: 4\n", "abcd"),
        ("HTTP/1.1 200 OK\nContent-Length: 3\nContent-Length: 4\n", "abcd"),  // conflicting lengths
        ("HTTP/1.1 200 OK\nContent-Encoding: gzip\nContent-Length: 4\n", "abcd"),  // we asked for identity
        ("HTCPCP/1.0 418 I'm a teapot\n", ""),
        ("HTTP/1.1 200 OK\nBad Header: x\n", ""),
    ])
    func malformedResponsesAreBadResponses(head: String, body: String) throws {
        try Self.withServer { _ in
            .response(head, body: Array(body.utf8))
        } _: { server in
            #expect {
                _ = try Self.fetch("http://127.0.0.1:\(server.port)/", with: try Self.fetcher())
            } throws: { error in
                if case .badResponse = error as? FetchError { true } else { false }
            }
        }
    }

    @Test func errorStatusesFail() throws {
        try Self.withServer { _ in
            .response("HTTP/1.1 404 Not Found\nContent-Length: 0\n")
        } _: { server in
            #expect(throws: FetchError.status(404, "Not Found")) {
                try Self.fetch("http://127.0.0.1:\(server.port)/x", with: try Self.fetcher())
            }
        }
    }

    @Test func redirectsAreFollowedAndEachHopIsChecked() throws {
        try Self.withServer { target in
            switch target {
            case "/start": .response("HTTP/1.1 302 Found\nLocation: next?a=1\nContent-Length: 0\n")
            case "/next?a=1": .response("HTTP/1.1 301 Moved\nLocation: /final.png\nContent-Length: 0\n")
            case "/final.png": .response("HTTP/1.1 200 OK\nContent-Length: 5000\n", body: Self.payload)
            case "/private": .response("HTTP/1.1 307 Temporary\nLocation: http://10.9.8.7/x\nContent-Length: 0\n")
            default: .response("HTTP/1.1 302 Found\nLocation: /loop\nContent-Length: 0\n")
            }
        } _: { server in
            let base = "http://127.0.0.1:\(server.port)"
            let (result, body) = try Self.fetch(base + "/start", with: try Self.fetcher())
            #expect(body == Self.payload)
            #expect(result.url.target == "/final.png")
            #expect(throws: FetchError.refusedAddress(host: "10.9.8.7", address: "10.9.8.7")) {
                try Self.fetch(base + "/private", with: try Self.fetcher())
            }
            let before = server.received.count
            #expect(throws: FetchError.tooManyRedirects) {
                try Self.fetch(base + "/loop", with: try Self.fetcher(redirects: 2))
            }
            #expect(server.received.count - before == 3)  // the first request and two redirects
        }
    }

    @Test func refusedAddressesAreNeverContacted() throws {
        try Self.withServer { _ in
            .response("HTTP/1.1 200 OK\nContent-Length: 0\n")
        } _: { server in
            #expect(throws: FetchError.refusedAddress(host: "127.0.0.1", address: "127.0.0.1")) {
                try Self.fetch("http://127.0.0.1:\(server.port)/", with: try Self.fetcher(allow: []))
            }
            #expect {
                try Self.fetch("http://localhost:\(server.port)/", with: try Self.fetcher(allow: []))
            } throws: { error in
                if case .refusedAddress(host: "localhost", _) = error as? FetchError { true } else { false }
            }
            #expect(server.received.isEmpty)
        }
    }

    @Test func aSilentServerRunsIntoTheDeadline() throws {
        try Self.withServer { _ in
            .silence
        } _: { server in
            #expect(throws: FetchError.timedOut) {
                try Self.fetch("http://127.0.0.1:\(server.port)/", with: try Self.fetcher(timeout: .milliseconds(200)))
            }
        }
    }

    @Test func theDeadlineHoldsWhileDataKeepsComing() throws {
        let chunk = Array("1\r\na\r\n".utf8)
        try Self.withServer { _ in
            .endless(head: Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".utf8), repeating: chunk)
        } _: { server in
            #expect(throws: FetchError.timedOut) {
                try Self.fetcher(timeout: .milliseconds(300)).fetch("http://127.0.0.1:\(server.port)/", limit: 1 << 40)
                {
                    _ in
                }
            }
        }
    }

    @Test func interimResponsesShareOneHeadBudget() throws {
        try Self.withServer { _ in
            .endless(head: [], repeating: Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        } _: { server in
            #expect {
                try Self.fetch("http://127.0.0.1:\(server.port)/", with: try Self.fetcher())
            } throws: { error in
                if case .badResponse = error as? FetchError { true } else { false }
            }
        }
    }

    @Test func aConnectionClosesItsDescriptorOnce() throws {
        try Self.withServer { _ in
            .silence
        } _: { server in
            let connection = try FetchConnection(
                address: try #require(IPAddress("127.0.0.1")), port: server.port, tls: nil, serverName: "127.0.0.1",
                deadline: RemoteFetcher.now() + 5_000_000_000)
            connection.close()
            // The lowest free number is handed out next: the one just closed. A second close must not touch it.
            let other = open("/dev/null", O_RDONLY)
            defer { Glibc.close(other) }
            connection.close()
            #expect(fcntl(other, F_GETFD) != -1)
        }
    }

    @Test func aCAFileThatCannotBeReadFailsAtConstruction() {
        var configuration = RemoteFetcher.Configuration()
        configuration.caFile = "/nonexistent/ca.pem"
        #expect(throws: FetchError.caFile("/nonexistent/ca.pem")) {
            try RemoteFetcher(configuration: configuration)
        }
    }
}
