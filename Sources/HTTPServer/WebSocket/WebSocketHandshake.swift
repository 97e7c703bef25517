/// The server side of the opening handshake (RFC 6455 §4.2). No subprotocol or extension is ever agreed:
/// `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions` (permessage-deflate) offers are ignored, which
/// §4.2.2 allows and which leaves every RSV bit reserved.
public enum WebSocketHandshake {
    /// The GUID appended to the client's key (§1.3, §4.2.2).
    public static let acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)) (§4.2.2 step 5.4).
    public static func acceptKey(for key: some StringProtocol) -> String {
        Base64.encode(SHA1.hash(Array(key.utf8) + Array(acceptGUID.utf8)))
    }

    /// Checks a client's opening handshake (§4.2.1) and returns the 101 response that switches protocols, or the
    /// error to answer with: 405 for a method other than GET, 426 (with `Upgrade: websocket`) when the request
    /// does not ask for WebSocket, 426 (with `Sec-WebSocket-Version: 13`) for another version (§4.2.2), 403 when
    /// `allowedOrigin` rejects the `Origin` header (nil when absent; §10.2), 400 for anything else malformed.
    ///
    /// The response carries `Connection: Upgrade`, which the connection must write as is, with no
    /// `Content-Length` (RFC 9110 §8.6: a 1xx response has none).
    public static func response(
        to request: HTTPRequest, allowedOrigin: (String?) -> Bool = { _ in true }
    ) -> Result<HTTPResponse, HTTPError> {
        guard request.method == .GET else {
            return .failure(
                HTTPError(
                    .methodNotAllowed, code: "method_not_allowed", message: "A WebSocket handshake is a GET request.",
                    headers: ["Allow": "GET"]))
        }
        let version = request.version
        guard version.major > 1 || (version.major == 1 && version.minor >= 1) else {
            return .failure(badRequest("A WebSocket handshake needs HTTP/1.1."))
        }
        guard request.headers.hasToken("websocket", in: "Upgrade") else {
            // RFC 9110 §15.5.22: a 426 names the protocol to upgrade to.
            return .failure(
                HTTPError(
                    .upgradeRequired, code: "upgrade_required", message: "This endpoint only speaks WebSocket.",
                    headers: ["Upgrade": "websocket"]))
        }
        guard request.headers.hasToken("Upgrade", in: "Connection") else {
            return .failure(badRequest("The Connection header must include Upgrade."))
        }
        let versions = request.headers.values("Sec-WebSocket-Version")
        guard versions.count == 1, versions[0].trimmingSpaces == "13" else {
            return .failure(
                HTTPError(
                    .upgradeRequired, code: "unsupported_websocket_version",
                    message: "Only WebSocket version 13 is supported.", headers: ["Sec-WebSocket-Version": "13"]))
        }
        // §4.1: the key is a random 16-byte value, base64-encoded; §11.3.1: it appears exactly once.
        let keys = request.headers.values("Sec-WebSocket-Key")
        guard keys.count == 1, let decoded = Base64.decode(keys[0].trimmingSpaces), decoded.count == 16 else {
            return .failure(badRequest("Sec-WebSocket-Key must be the base64 encoding of 16 bytes."))
        }
        guard allowedOrigin(request.headers["Origin"]) else {
            return .failure(
                HTTPError(
                    .forbidden, code: "origin_not_allowed",
                    message: "WebSocket connections from this origin are refused."))
        }
        let headers: HTTPHeaders = [
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Accept": acceptKey(for: keys[0].trimmingSpaces),
        ]
        return .success(HTTPResponse(status: .switchingProtocols, headers: headers))
    }

    private static func badRequest(_ message: String) -> HTTPError {
        HTTPError(.badRequest, code: "invalid_websocket_handshake", message: message)
    }
}
