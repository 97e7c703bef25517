/// Size limits the request parser enforces while bytes arrive, so a client can never make the server buffer or
/// scan more than these bounds per request.
public struct HTTPLimits: Sendable, Hashable {
    /// Longest request-line (RFC 9112 §3) without its CRLF; longer gets 414, even before the CRLF arrives
    /// (RFC 9112 §3 recommends supporting at least 8000 octets).
    public var maxRequestLineBytes: Int
    /// Largest head: request-line, field lines and every CRLF, up to and including the empty line; larger gets
    /// 431. Also bounds a chunked body's trailer section.
    public var maxHeaderBytes: Int
    /// Most field lines in a head (and in a trailer section); more gets 431.
    public var maxHeaderCount: Int
    /// Largest body, counted after chunked decoding; larger gets 413.
    public var maxBodyBytes: Int
    /// Longest chunk-size line, extensions included, without its CRLF (RFC 9112 §7.1.1: extensions are
    /// unbounded on the wire, so the recipient bounds them); longer gets 400.
    public var maxChunkLineBytes: Int

    /// Negative values are treated as zero.
    public init(
        maxRequestLineBytes: Int = 8192, maxHeaderBytes: Int = 32768, maxHeaderCount: Int = 100,
        maxBodyBytes: Int = 1 << 20, maxChunkLineBytes: Int = 1024
    ) {
        self.maxRequestLineBytes = max(0, maxRequestLineBytes)
        self.maxHeaderBytes = max(0, maxHeaderBytes)
        self.maxHeaderCount = max(0, maxHeaderCount)
        self.maxBodyBytes = max(0, maxBodyBytes)
        self.maxChunkLineBytes = max(0, maxChunkLineBytes)
    }
}
