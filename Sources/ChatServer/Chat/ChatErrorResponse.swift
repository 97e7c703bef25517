import ChatCore
import HTTPServer

extension ChatError {
    /// The HTTP answer for each chat failure. `notFound` also covers rooms the caller is not in and users who
    /// blocked the caller, so neither is revealed.
    var httpError: HTTPError {
        switch self {
        case .validation(let fields):
            return HTTPError(
                .unprocessableEntity, code: "validation_failed", message: "Some fields are invalid.", fields: fields)
        case .notFound:
            return HTTPError.notFound()
        case .forbidden:
            return HTTPError(.forbidden, code: "forbidden", message: "Your role in this room does not allow that.")
        case .notAllowed:
            return HTTPError(.forbidden, code: "not_allowed", message: "That is not allowed between you and this user.")
        case .conflict(let code):
            return HTTPError(.conflict, code: code, message: Self.conflictMessage(code))
        case .unavailable:
            return HTTPError.internalError()
        }
    }

    private static func conflictMessage(_ code: String) -> String {
        switch code {
        case "already_friends": "You are already friends."
        case "request_pending": "You already sent a friend request to this user."
        case "blocked": "You blocked this user; unblock them first."
        case "room_full": "The room has reached its member limit."
        default: "The request conflicts with the current state."
        }
    }
}
