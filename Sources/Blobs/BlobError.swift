/// Why a blob request failed, in Cloudinary's terms (the routes map each to its HTTP status: 400, 401, 403,
/// 404, 409, 413, 420, 500). `message` is what the client reads in `{"error":{"message":…}}`.
public enum BlobError: Error, Sendable, Equatable, CustomStringConvertible {
    case badRequest(String)
    case unauthorized(String)
    case forbidden(String)
    case notFound(String)
    case conflict(String)
    case tooLarge(String)
    /// Too many requests from one client (Cloudinary answers 420).
    case rateLimited(String)
    case unavailable(String)

    public var message: String {
        switch self {
        case .badRequest(let message), .unauthorized(let message), .forbidden(let message),
            .notFound(let message), .conflict(let message), .tooLarge(let message), .rateLimited(let message),
            .unavailable(let message):
            message
        }
    }

    public var description: String { message }
}
