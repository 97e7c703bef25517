import ChatCore
import HTTPServer
import Logging

extension AccountError {
    /// The HTTP answer for each account failure (README, "Accounts"). Authentication failures carry
    /// `WWW-Authenticate: Bearer` (RFC 6750 §3) so clients know how to retry.
    var httpError: HTTPError {
        switch self {
        case .validation(let fields):
            return HTTPError(
                .unprocessableEntity, code: "validation_failed", message: "Some fields are invalid.", fields: fields)
        case .usernameTaken:
            return HTTPError(.conflict, code: "username_taken", message: "That username is taken.")
        case .emailTaken:
            return HTTPError(.conflict, code: "email_taken", message: "That email address is already registered.")
        case .invalidCredentials:
            return HTTPError(.unauthorized, code: "invalid_credentials", message: "Wrong login or password.")
        case .accountDisabled:
            return HTTPError(.forbidden, code: "account_disabled", message: "This account is disabled.")
        case .invalidRefreshToken:
            return HTTPError(
                .unauthorized, code: "invalid_refresh_token", message: "The refresh token is invalid or expired.")
        case .refreshTokenReused:
            return HTTPError(
                .unauthorized, code: "refresh_token_reused",
                message: "This refresh token was already used; the session has been ended for safety.")
        case .invalidToken(let reason):
            return HTTPError(
                .unauthorized, code: "invalid_token", message: "The access token is not valid: \(reason).",
                headers: ["WWW-Authenticate": #"Bearer error="invalid_token""#])
        case .notFound:
            return HTTPError.notFound()
        case .unavailable:
            // The detail (database or worker-pool failure) goes to the log, not to the client.
            return HTTPError.internalError()
        }
    }
}

/// Thrown errors from API routes: account and chat errors map to their statuses, HTTP errors pass through,
/// anything else becomes a logged 500. Failures of the storage layer are logged with their detail.
func accountResponse(for error: any Error) -> HTTPResponse {
    if let error = error as? AccountError {
        if case .unavailable(let detail) = error {
            Logger("accounts").error("account operation failed", ["error": detail])
        }
        return error.httpError.response
    }
    if let error = error as? ChatError {
        if case .unavailable(let detail) = error {
            Logger("chat").error("chat operation failed", ["error": detail])
        }
        return error.httpError.response
    }
    return ErrorResponse.response(for: error)
}
