/// A parsed HTTP/1.x request with its whole body (bodies are bounded by the `max_body` limit), or, for routes that
/// stream (`HTTPServerConfiguration.streamedBodies`), with its body arriving through `bodyStream`.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The request-target exactly as sent (origin-form: path and optional query).
    public var target: String
    /// The path part of the target, still percent-encoded (validated: every `%` is followed by two hex digits).
    public var path: String
    /// The query part after `?`, still percent-encoded, or nil when the target had no `?`.
    public var query: String?
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    /// The whole body; empty when it streams.
    public var body: [UInt8]
    /// The body as it arrives, for streamed routes (set even when the request has no body: it just ends).
    public var bodyStream: RequestBodyStream?
    /// Values captured by the router from `:name` segments, percent-decoded.
    public var pathParameters: [String: String] = [:]

    public init(
        method: HTTPMethod, target: String, path: String, query: String?, version: HTTPVersion,
        headers: HTTPHeaders, body: [UInt8] = []
    ) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// Whether the connection may carry another request after this one (RFC 9112 §9.3): HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    public var keepAlive: Bool {
        if version == .http1_1 { return !headers.hasToken("close", in: "Connection") }
        return headers.hasToken("keep-alive", in: "Connection")
    }

    /// The path with percent-escapes decoded, or nil if it decodes to invalid UTF-8.
    public var decodedPath: String? { PercentDecoding.decode(path) }

    /// The query string as ordered, decoded name/value pairs (`+` is a space, as HTML forms send it).
    public var queryItems: [(name: String, value: String)] {
        guard let query else { return [] }
        return PercentDecoding.queryItems(query)
    }

    /// The first decoded value of query parameter `name`.
    public func queryValue(_ name: String) -> String? {
        queryItems.first { $0.name == name }?.value
    }
}
