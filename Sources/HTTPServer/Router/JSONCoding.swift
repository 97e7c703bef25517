#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension HTTPResponse {
    /// `value` encoded as JSON (`application/json`). Encoding failures are programming errors in our own
    /// types, reported as a 500 rather than a crash.
    public static func json<T: Encodable>(_ value: T, status: HTTPStatus = .ok) -> HTTPResponse {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return HTTPResponse(status: status, contentType: "application/json", body: Array(try encoder.encode(value)))
        } catch {
            return ErrorResponse.response(for: error)
        }
    }
}

extension HTTPRequest {
    /// Decodes the JSON body. A missing or non-JSON `Content-Type` is 415, malformed JSON 400, and JSON of the
    /// wrong shape (missing fields, wrong types) 422, each with the API's error shape.
    public func decodeJSON<T: Decodable>(_ type: T.Type) throws(HTTPError) -> T {
        let contentType = headers["Content-Type"].map { $0.split(separator: ";").first.map(String.init) ?? $0 }
        guard let contentType, HTTPHeaders.namesEqual(contentType.trimmingSpaces, "application/json") else {
            throw HTTPError(
                .unsupportedMediaType, code: "unsupported_media_type", message: "Send the body as application/json.")
        }
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch let DecodingError.dataCorrupted(context) where context.codingPath.isEmpty {
            throw HTTPError(.badRequest, code: "invalid_json", message: "The body is not valid JSON.")
        } catch let error as DecodingError {
            throw HTTPError(
                .unprocessableEntity, code: "invalid_body", message: Self.describe(error),
                fields: Self.field(of: error).map { [$0: Self.describe(error)] } ?? [:])
        } catch {
            throw HTTPError(.badRequest, code: "invalid_json", message: "The body is not valid JSON.")
        }
    }

    private static func field(of error: DecodingError) -> String? {
        let path: [any CodingKey]
        switch error {
        case .keyNotFound(let key, let context): path = context.codingPath + [key]
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            path = context.codingPath
        @unknown default: return nil
        }
        let names = path.map { $0.intValue.map(String.init) ?? $0.stringValue }
        return names.isEmpty ? nil : names.joined(separator: ".")
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): "Missing field \"\(key.stringValue)\"."
        case .typeMismatch(let type, let context):
            "Field \"\(field(of: error) ?? "body")\" must be \(jsonTypeName(type)). \(context.debugDescription)"
        case .valueNotFound(let type, _): "Field \"\(field(of: error) ?? "body")\" must be \(jsonTypeName(type))."
        case .dataCorrupted(let context): context.debugDescription
        @unknown default: "The body has the wrong shape."
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Double.Type: "a number"
        case is Bool.Type: "a boolean"
        default: "of another type"
        }
    }
}
