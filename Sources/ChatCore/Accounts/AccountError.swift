/// Why an account operation failed. The HTTP layer maps each case to a status and the contract's
/// error `code` (``code``); associated strings other than field messages are for logs, not clients.
public enum AccountError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Input broke the rules: message by field name (`username`, `email`, `password`, `display_name`,
    /// `bio`, `avatar_url`, `login`, `current_password`, `new_password`, `limit`, `cursor`, `count`,
    /// `cost`), every bad field at once.
    case validation([String: String])
    case usernameTaken
    case emailTaken
    /// Unknown user, deleted user or wrong password: deliberately indistinguishable.
    case invalidCredentials
    /// The password was right but the account is disabled.
    case accountDisabled
    /// Unknown, expired or revoked refresh token, or its account can no longer sign in.
    case invalidRefreshToken
    /// A spent refresh token was presented again: its whole session has been revoked.
    case refreshTokenReused
    /// The access token is not acceptable; the reason is for logs (the client sees `invalid_token`).
    case invalidToken(String)
    /// No such user or session (or not visible to the caller).
    case notFound
    /// The database or the worker pool failed; the detail is for logs.
    case unavailable(String)

    /// The contract's error code.
    public var code: String {
        switch self {
        case .validation: return "validation_failed"
        case .usernameTaken: return "username_taken"
        case .emailTaken: return "email_taken"
        case .invalidCredentials: return "invalid_credentials"
        case .accountDisabled: return "account_disabled"
        case .invalidRefreshToken: return "invalid_refresh_token"
        case .refreshTokenReused: return "refresh_token_reused"
        case .invalidToken: return "invalid_token"
        case .notFound: return "not_found"
        case .unavailable: return "internal_error"
        }
    }

    public var description: String {
        switch self {
        case .validation(let fields):
            let list = fields.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
            return "validation failed (\(list.joined(separator: "; ")))"
        case .invalidToken(let reason): return "invalid_token (\(reason))"
        case .unavailable(let detail): return "internal_error (\(detail))"
        default: return code
        }
    }
}
