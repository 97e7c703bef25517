/// Why a `multipart/form-data` body (RFC 7578) was refused. Handlers can throw it as is: it answers with
/// `status` in the API's JSON error shape.
public struct MultipartError: Error, Sendable, Equatable, CustomStringConvertible {
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

    public var httpError: HTTPError { HTTPError(status, code: code, message: message) }
}

extension MultipartError {
    public static let invalidBoundary = MultipartError(
        .badRequest, code: "invalid_multipart", message: "The multipart boundary is missing or invalid.")
    public static let malformedDelimiter = MultipartError(
        .badRequest, code: "invalid_multipart", message: "A multipart boundary line is malformed.")
    public static let malformedHeaders = MultipartError(
        .badRequest, code: "invalid_multipart", message: "The header section of a part is malformed.")
    public static let headersTooLarge = MultipartError(
        .requestHeaderFieldsTooLarge, code: "multipart_headers_too_large",
        message: "The header section of a part is too large.")
    public static let tooManyParts = MultipartError(
        .payloadTooLarge, code: "too_many_parts", message: "The form has too many parts.")
    public static let missingName = MultipartError(
        .badRequest, code: "invalid_multipart", message: "A part has no Content-Disposition form-data name.")
    public static let truncated = MultipartError(
        .badRequest, code: "invalid_multipart", message: "The multipart body ended before its closing boundary.")
    public static let fieldTooLarge = MultipartError(
        .payloadTooLarge, code: "field_too_large", message: "A form field is too large.")
    public static let tooManyFields = MultipartError(
        .payloadTooLarge, code: "too_many_fields", message: "The form has too many fields.")
}
