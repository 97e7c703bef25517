/// Why a request could not be parsed. The connection answers with `status` and closes: after a framing error
/// the position of the next request is unknown, so the connection cannot be reused (RFC 9112 §9.6).
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPStatus
    /// A stable, machine-readable reason, the `code` of the JSON error body.
    public var code: String
    public var message: String

    public init(_ status: HTTPStatus, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    /// The error in the API's single error shape, ready to be written as the response.
    public var httpError: HTTPError { HTTPError(status, code: code, message: message) }
}

extension HTTPParseError {
    // Head framing (RFC 9112 §2.2, §3).
    static let bareLineFeed = HTTPParseError(
        .badRequest, code: "bare_line_feed", message: "Lines must end with CRLF.")
    static let bareCarriageReturn = HTTPParseError(
        .badRequest, code: "bare_carriage_return", message: "A CR must be followed by LF.")
    static let requestLineTooLong = HTTPParseError(
        .uriTooLong, code: "uri_too_long", message: "The request line is too long.")
    static let headTooLarge = HTTPParseError(
        .requestHeaderFieldsTooLarge, code: "headers_too_large", message: "The request header section is too large.")
    static let tooManyFields = HTTPParseError(
        .requestHeaderFieldsTooLarge, code: "too_many_headers", message: "The request has too many header fields.")

    // Request line (RFC 9112 §3).
    static let malformedRequestLine = HTTPParseError(
        .badRequest, code: "malformed_request_line", message: "The request line is not METHOD SP target SP version.")
    static let invalidMethod = HTTPParseError(
        .badRequest, code: "invalid_method", message: "The method is not a token.")
    static let unsupportedMethod = HTTPParseError(
        .notImplemented, code: "not_implemented", message: "The method is not implemented.")
    static let invalidVersion = HTTPParseError(
        .badRequest, code: "invalid_version", message: "The HTTP version is malformed.")
    static let versionNotSupported = HTTPParseError(
        .httpVersionNotSupported, code: "version_not_supported", message: "Only HTTP/1.0 and HTTP/1.1 are supported.")
    static let invalidTarget = HTTPParseError(
        .badRequest, code: "invalid_target", message: "The request target is malformed.")

    // Field lines (RFC 9112 §5, RFC 9110 §5.5).
    static let obsoleteLineFolding = HTTPParseError(
        .badRequest, code: "obsolete_line_folding", message: "Header lines must not start with whitespace.")
    static let whitespaceBeforeColon = HTTPParseError(
        .badRequest, code: "invalid_header", message: "Whitespace between a header name and the colon.")
    static let invalidFieldName = HTTPParseError(
        .badRequest, code: "invalid_header", message: "A header name is not a token followed by a colon.")
    static let invalidFieldValue = HTTPParseError(
        .badRequest, code: "invalid_header", message: "A header value contains a control character.")
    static let missingHost = HTTPParseError(
        .badRequest, code: "missing_host", message: "HTTP/1.1 requests must have a Host header.")
    static let duplicateHost = HTTPParseError(
        .badRequest, code: "duplicate_host", message: "The request has more than one Host header.")
    static let invalidHost = HTTPParseError(
        .badRequest, code: "invalid_host", message: "The Host header is not a valid authority.")
    static let unsupportedExpectation = HTTPParseError(
        .expectationFailed, code: "expectation_failed", message: "Only Expect: 100-continue is supported.")

    // Body framing (RFC 9112 §6, §7).
    static let invalidContentLength = HTTPParseError(
        .badRequest, code: "invalid_content_length", message: "Content-Length must be a decimal number.")
    static let conflictingContentLength = HTTPParseError(
        .badRequest, code: "invalid_content_length", message: "The request has different Content-Length values.")
    static let contentLengthWithTransferEncoding = HTTPParseError(
        .badRequest, code: "ambiguous_framing", message: "Content-Length and Transfer-Encoding are both present.")
    static let transferEncodingOnHTTP10 = HTTPParseError(
        .badRequest, code: "ambiguous_framing", message: "Transfer-Encoding is not allowed in HTTP/1.0.")
    static let invalidTransferEncoding = HTTPParseError(
        .badRequest, code: "invalid_transfer_encoding", message: "Transfer-Encoding must end with a single chunked.")
    static let unsupportedTransferCoding = HTTPParseError(
        .notImplemented, code: "unsupported_transfer_coding", message: "Only the chunked transfer coding is supported.")
    static let bodyTooLarge = HTTPParseError(
        .payloadTooLarge, code: "body_too_large", message: "The request body is too large.")
    static let invalidChunkSize = HTTPParseError(
        .badRequest, code: "invalid_chunk", message: "A chunk size is not a hexadecimal number.")
    static let invalidChunkExtension = HTTPParseError(
        .badRequest, code: "invalid_chunk", message: "A chunk extension contains a control character.")
    static let chunkLineTooLong = HTTPParseError(
        .badRequest, code: "invalid_chunk", message: "A chunk-size line is too long.")
    static let missingChunkTerminator = HTTPParseError(
        .badRequest, code: "invalid_chunk", message: "Chunk data must be followed by CRLF.")
    static let invalidTrailer = HTTPParseError(
        .badRequest, code: "invalid_trailer", message: "A trailer field is malformed.")
    static let trailerTooLarge = HTTPParseError(
        .requestHeaderFieldsTooLarge, code: "headers_too_large", message: "The trailer section is too large.")
}
