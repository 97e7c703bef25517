import Logging

/// Turns any error a handler throws into the API's JSON error response; errors that are not `HTTPError` are
/// logged and answered with a generic 500 so internals never leak to clients.
public enum ErrorResponse {
    private static let logger = Logger("http")

    public static func response(for error: any Error) -> HTTPResponse {
        if let error = error as? HTTPError { return error.response }
        if let error = error as? RequestBodyError { return error.httpError.response }
        if let error = error as? MultipartError { return error.httpError.response }
        logger.error("handler failed", ["error": String(describing: error)])
        return HTTPError.internalError().response
    }
}
