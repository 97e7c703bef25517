import Logging

/// Turns any error a handler throws into the API's JSON error response; errors that do not know their answer
/// (``HTTPErrorConvertible``) are logged and answered with a generic 500 so internals never leak to clients.
public enum ErrorResponse {
    private static let logger = Logger("http")

    public static func response(for error: any Error) -> HTTPResponse {
        if let error = error as? any HTTPErrorConvertible { return error.httpError.response }
        logger.error("handler failed", ["error": String(describing: error)])
        return HTTPError.internalError().response
    }
}
