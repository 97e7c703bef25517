/// An error a handler throws to answer with the single error shape of the API (RFC 9457 in spirit):
/// `{"error":{"code":"...","message":"...","fields":{...}}}`. `fields` carries per-field validation messages.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPStatus
    public var code: String
    public var message: String
    public var fields: [String: String]
    public var headers: HTTPHeaders

    public init(
        _ status: HTTPStatus, code: String, message: String, fields: [String: String] = [:],
        headers: HTTPHeaders = HTTPHeaders()
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    /// The JSON error response.
    public var response: HTTPResponse {
        var body = #"{"error":{"code":"#
        JSONText.appendString(code, to: &body)
        body += #","message":"#
        JSONText.appendString(message, to: &body)
        if !fields.isEmpty {
            body += #","fields":{"#
            for (index, key) in fields.keys.sorted().enumerated() {
                if index > 0 { body += "," }
                JSONText.appendString(key, to: &body)
                body += ":"
                JSONText.appendString(fields[key] ?? "", to: &body)
            }
            body += "}"
        }
        body += "}}"
        var headers = self.headers
        headers.set("Content-Type", "application/json")
        return HTTPResponse(status: status, headers: headers, body: .bytes(Array(body.utf8)))
    }

    public static func badRequest(_ message: String, code: String = "bad_request") -> HTTPError {
        HTTPError(.badRequest, code: code, message: message)
    }

    public static func notFound(_ message: String = "No such resource.") -> HTTPError {
        HTTPError(.notFound, code: "not_found", message: message)
    }

    public static func internalError(_ message: String = "The server failed to handle the request.") -> HTTPError {
        HTTPError(.internalServerError, code: "internal_error", message: message)
    }
}
