import HTTPServer

/// A WebSocket endpoint that sends every message back, served only when `chat serve --ws-echo-path PATH` asks
/// for it: it exists so the RFC 6455 implementation can be checked against the Autobahn TestSuite cases
/// (kosoku), which drive an echo server.
struct WebSocketEchoRoute {
    let path: String
    /// Autobahn's largest messages are 16 MiB (cases 9.*).
    let maxMessageBytes = 32 << 20

    private final class Echo: WebSocketHandler {
        func opened(_ socket: WebSocket) {}

        func received(_ message: WebSocketMessage, on socket: WebSocket) {
            switch message {
            case .text(let text): socket.send(text: text)
            case .binary(let bytes): socket.send(binary: bytes)
            }
        }

        func closed(_ socket: WebSocket, code: UInt16?) {}
    }

    func register(in router: inout Router) {
        let maxMessageBytes = self.maxMessageBytes
        router.get(path) { request, _ in
            switch WebSocketHandshake.response(to: request) {
            case .success(var response):
                response.body = .webSocket(
                    WebSocketUpgrade(maxMessageBytes: maxMessageBytes, maxOutboundBytes: 2 * maxMessageBytes) { _ in
                        Echo()
                    }
                )
                return .now(response)
            case .failure(let error):
                throw error
            }
        }
    }
}
