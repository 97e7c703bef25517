/// Why a friends, blocks, rooms or messages operation failed. The HTTP layer maps each case to a status
/// and the contract's error `code` (``code``); `unavailable` details are for logs, not clients.
public enum ChatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Input broke the rules (422): message by field name (`user_id`, `name`, `topic`, `member_ids`,
    /// `user_ids`, `role`, `content`, …), every bad field at once.
    case validation([String: String])
    /// Unknown, or not visible to the caller (404). Also what a user who blocked the caller looks like,
    /// and any room the caller is not a member of.
    case notFound
    /// A member lacks the role the action needs (403 `forbidden`).
    case forbidden
    /// The action is refused by policy (403 `not_allowed`): a direct room with a non-friend, sending in a
    /// blocked direct room.
    case notAllowed
    /// The state forbids it (409): `already_friends`, `request_pending`, `blocked`, `room_full`.
    case conflict(code: String)
    /// The database or the worker pool failed; the detail is for logs.
    case unavailable(String)

    /// The contract's error code.
    public var code: String {
        switch self {
        case .validation: return "validation_failed"
        case .notFound: return "not_found"
        case .forbidden: return "forbidden"
        case .notAllowed: return "not_allowed"
        case .conflict(let code): return code
        case .unavailable: return "internal_error"
        }
    }

    public var description: String {
        switch self {
        case .validation(let fields):
            let list = fields.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
            return "validation failed (\(list.joined(separator: "; ")))"
        case .unavailable(let detail): return "internal_error (\(detail))"
        default: return code
        }
    }
}
