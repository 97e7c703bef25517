import Testing

@testable import HTTPServer

@Suite("WebSocket handshake")
struct WebSocketHandshakeTests {
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
    }

    // MARK: SHA-1 (RFC 3174 §7.3) and base64 (RFC 4648 §10)

    @Test func sha1TestVectors() {
        #expect(Self.hex(SHA1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(Self.hex(SHA1.hash([UInt8]())) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(
            Self.hex(SHA1.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(Self.hex(SHA1.hash((0..<256).map { UInt8($0) })) == "4916d6bdb7f78e6803698cab32d1586ea457dfc8")
    }

    @Test func sha1PaddingBoundaries() {
        // Lengths around the 55/56- and 64-byte block edges, where the length field spills into another block.
        let expected: [Int: String] = [
            55: "c1c8bbdc22796e28c0e15163d20899b65621d65a", 56: "c2db330f6083854c99d4b5bfb6e8f29f201be699",
            63: "03f09f5b158a7a8cdad920bddc29b81c18a551f5", 64: "0098ba824b5c16427bd7a1122a5a442a25ec644d",
            65: "11655326c708d70319be2610e8a57d9a5b959d3b", 119: "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56",
            120: "f34c1488385346a55709ba056ddd08280dd4c6d6", 1000: "291e9a6c66994949b57ba5e650361e98fc36b1ba",
        ]
        for (length, digest) in expected {
            #expect(Self.hex(SHA1.hash([UInt8](repeating: 0x61, count: length))) == digest, "length \(length)")
        }
    }

    @Test func base64Vectors() {
        let vectors = [
            ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.decode(encoded) == Array(plain.utf8))
        }
        let all = (0..<256).map { UInt8($0) }
        #expect(Base64.decode(Base64.encode(all)) == all)
        #expect(Base64.decode("+/+/") == [0xFB, 0xFF, 0xBF])
    }

    @Test func base64RejectsMalformedInput() {
        for bad in [
            "Zg=", "Zg", "Zh==", "Zm9=", "Z===", "====", "Zm9v YmFy", "Zm=v", "=Zm9", "Zg==Zg==", "Zm9v\n", "Zm-_",
        ] {
            #expect(Base64.decode(bad) == nil, "\(bad)")
        }
    }

    // MARK: Accept key (§1.3, §4.2.2)

    @Test func rfcAcceptKey() {
        #expect(WebSocketHandshake.acceptKey(for: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    // MARK: Validation (§4.2.1)

    static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    static func request(
        method: HTTPMethod = .GET, version: HTTPVersion = .http1_1, removing: [String] = [],
        setting: [(String, String)] = [], adding: [(String, String)] = []
    ) -> HTTPRequest {
        var headers: HTTPHeaders = [
            "Host": "server.example.com", "Upgrade": "websocket", "Connection": "Upgrade",
            "Sec-WebSocket-Key": key, "Origin": "http://example.com", "Sec-WebSocket-Version": "13",
        ]
        for name in removing { headers.remove(name) }
        for (name, value) in setting { headers.set(name, value) }
        for (name, value) in adding { headers.add(name, value) }
        return HTTPRequest(
            method: method, target: "/chat", path: "/chat", query: nil, version: version, headers: headers)
    }

    static func error(_ result: Result<HTTPResponse, HTTPError>) -> HTTPError? {
        if case .failure(let error) = result { return error }
        return nil
    }

    @Test func rfcHandshakeSwitchesProtocols() throws {
        let response = try WebSocketHandshake.response(to: Self.request()).get()
        #expect(response.status == .switchingProtocols)
        #expect(response.headers["Upgrade"] == "websocket")
        #expect(response.headers["Connection"] == "Upgrade")
        #expect(response.headers["Sec-WebSocket-Accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(!response.headers.contains("Sec-WebSocket-Protocol"))
        #expect(!response.headers.contains("Sec-WebSocket-Extensions"))
        #expect(response.body.knownLength == 0)
    }

    @Test func tokensAreCaseInsensitiveAndListed() throws {
        // Firefox sends `Connection: keep-alive, Upgrade`.
        let request = Self.request(setting: [("Upgrade", "WebSocket"), ("Connection", "keep-alive, upgrade")])
        let response = try WebSocketHandshake.response(to: request).get()
        #expect(response.status.code == 101)
    }

    @Test func offeredExtensionsAndSubprotocolsAreNotAccepted() throws {
        let request = Self.request(adding: [
            ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"),
            ("Sec-WebSocket-Protocol", "chat"),
        ])
        let response = try WebSocketHandshake.response(to: request).get()
        #expect(!response.headers.contains("Sec-WebSocket-Extensions"))
        #expect(!response.headers.contains("Sec-WebSocket-Protocol"))
    }

    @Test func otherMethodsAre405() {
        for method in [HTTPMethod.POST, .HEAD, .PUT] {
            let error = Self.error(WebSocketHandshake.response(to: Self.request(method: method)))
            #expect(error?.status.code == 405)
            #expect(error?.headers["Allow"] == "GET")
        }
    }

    @Test func http10Is400() {
        let error = Self.error(WebSocketHandshake.response(to: Self.request(version: .http1_0)))
        #expect(error?.status.code == 400)
        #expect(error?.code == "invalid_websocket_handshake")
    }

    @Test func missingOrOtherUpgradeIs426NamingWebSocket() {
        for request in [Self.request(removing: ["Upgrade"]), Self.request(setting: [("Upgrade", "h2c")])] {
            let error = Self.error(WebSocketHandshake.response(to: request))
            #expect(error?.status.code == 426)
            #expect(error?.headers["Upgrade"] == "websocket")
        }
    }

    @Test func connectionWithoutUpgradeIs400() {
        for request in [Self.request(removing: ["Connection"]), Self.request(setting: [("Connection", "keep-alive")])] {
            #expect(Self.error(WebSocketHandshake.response(to: request))?.status.code == 400)
        }
    }

    @Test func otherVersionsAre426WithTheSupportedVersion() {
        let requests = [
            Self.request(setting: [("Sec-WebSocket-Version", "8")]), Self.request(removing: ["Sec-WebSocket-Version"]),
            Self.request(setting: [("Sec-WebSocket-Version", "13, 8")]),
            Self.request(adding: [("Sec-WebSocket-Version", "13")]),
        ]
        for request in requests {
            let error = Self.error(WebSocketHandshake.response(to: request))
            #expect(error?.status.code == 426)
            #expect(error?.headers["Sec-WebSocket-Version"] == "13")
        }
    }

    @Test func badKeysAre400() {
        let requests = [
            Self.request(removing: ["Sec-WebSocket-Key"]),
            Self.request(setting: [("Sec-WebSocket-Key", "")]),
            Self.request(setting: [("Sec-WebSocket-Key", "not base64!")]),
            Self.request(setting: [("Sec-WebSocket-Key", Base64.encode([UInt8](repeating: 1, count: 15)))]),
            Self.request(setting: [("Sec-WebSocket-Key", Base64.encode([UInt8](repeating: 1, count: 17)))]),
            Self.request(adding: [("Sec-WebSocket-Key", Self.key)]),
        ]
        for request in requests {
            let error = Self.error(WebSocketHandshake.response(to: request))
            #expect(error?.status.code == 400)
            #expect(error?.message == "Sec-WebSocket-Key must be the base64 encoding of 16 bytes.")
        }
    }

    @Test func originCheck() {
        var seen: [String?] = []
        let allowOnlyExample: (String?) -> Bool = { origin in
            seen.append(origin)
            return origin == "http://example.com"
        }
        #expect((try? WebSocketHandshake.response(to: Self.request(), allowedOrigin: allowOnlyExample).get()) != nil)
        let other = Self.request(setting: [("Origin", "https://evil.example")])
        let error = Self.error(WebSocketHandshake.response(to: other, allowedOrigin: allowOnlyExample))
        #expect(error?.status.code == 403)
        #expect(error?.code == "origin_not_allowed")
        _ = WebSocketHandshake.response(to: Self.request(removing: ["Origin"]), allowedOrigin: allowOnlyExample)
        #expect(seen == ["http://example.com", "https://evil.example", nil])
    }

    @Test func errorsUseTheAPIErrorShape() throws {
        let error = try #require(
            Self.error(WebSocketHandshake.response(to: Self.request(removing: ["Sec-WebSocket-Key"]))))
        guard case .bytes(let body) = error.response.body else {
            Issue.record("expected a JSON body")
            return
        }
        #expect(
            String(decoding: body, as: UTF8.self)
                == #"{"error":{"code":"invalid_websocket_handshake","message":"Sec-WebSocket-Key must be the base64 encoding of 16 bytes."}}"#
        )
    }
}
