/// A response: status, headers and a body. The connection adds `Date`, `Content-Length` (or chunked framing),
/// and `Connection` when it writes the response, so handlers never set them by hand.
public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: HTTPBody

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: HTTPBody = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: HTTPStatus = .ok, contentType: String, body: [UInt8]) {
        self.status = status
        self.headers = ["Content-Type": contentType]
        self.body = .bytes(body)
    }

    /// A plain-text response (`text/plain; charset=utf-8`).
    public static func text(_ text: String, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
    }
}

/// What a response carries after its head.
public enum HTTPBody: Sendable {
    case empty
    /// Bytes already in memory; framed with `Content-Length`.
    case bytes([UInt8])
    /// A region of an open file, sent with sendfile(2); framed with `Content-Length`. The connection closes the
    /// descriptor when done.
    case file(FileRegion)
    /// Bytes produced later, sent with chunked transfer coding (RFC 9112 §7.1) on HTTP/1.1, or until close on 1.0.
    case stream(BodyStream)
    /// With a `101 Switching Protocols` response: after the head, the connection speaks WebSocket (RFC 6455).
    case webSocket(WebSocketUpgrade)

    /// The length when it is known before sending.
    public var knownLength: Int? {
        switch self {
        case .empty: 0
        case .bytes(let bytes): bytes.count
        case .file(let region): region.length
        case .stream: nil
        case .webSocket: 0
        }
    }
}

/// An open file descriptor and the byte range of it to send. The connection owns and closes the descriptor.
public struct FileRegion: Sendable {
    public var descriptor: Int32
    public var offset: Int
    public var length: Int

    public init(descriptor: Int32, offset: Int, length: Int) {
        self.descriptor = descriptor
        self.offset = offset
        self.length = length
    }
}
