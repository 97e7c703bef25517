import HTTPServer

extension HTTPRequest {
    /// A positive integer path parameter (`:id`), or 400 `invalid_id`.
    func id(_ name: String) throws(HTTPError) -> Int64 {
        guard let text = pathParameters[name], let id = Int64(text), id > 0, text.allSatisfy(\.isNumber) else {
            throw HTTPError(.badRequest, code: "invalid_id", message: "\(name) must be a positive integer.")
        }
        return id
    }

    /// An optional non-negative integer query parameter, or 422 naming it.
    func integerQuery(_ name: String) throws(HTTPError) -> Int64? {
        guard let text = queryValue(name), !text.isEmpty else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw HTTPError(
                .unprocessableEntity, code: "validation_failed", message: "\(name) must be a whole number.",
                fields: [name: "must be a whole number"])
        }
        return value
    }
}

extension HTTPRequest {
    /// The `limit` query parameter as a whole number (any sign: services clamp it), or 422 if it is not one.
    func limitQuery(default value: Int) throws(HTTPError) -> Int {
        guard let text = queryValue("limit"), !text.isEmpty else { return value }
        guard let limit = Int(text) else {
            throw HTTPError(
                .unprocessableEntity, code: "validation_failed", message: "limit must be a whole number.",
                fields: ["limit": "must be a whole number"])
        }
        return limit
    }
}
