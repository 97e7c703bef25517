import Blobs
import HTTPServer

/// `POST /api/v1/uploads`: a signed-in user's upload (multipart `file`, streamed), stored as an
/// `authenticated` asset they own, within `blobs.user_quota`; answered like Cloudinary's upload. Its public id
/// goes into a message's `attachments`.
struct UploadRoutes: Sendable {
    let cloudinary: CloudinaryRoutes
    let auth: BearerAuthentication

    func register(in router: inout Router) {
        router.post(
            "/api/v1/uploads",
            auth.handler { request, _, principal in
                do {
                    return try await cloudinary.upload(request, resourceType: "auto", owner: principal.userID)
                } catch let error as BlobError {
                    throw Self.httpError(error)
                }
            })
    }

    /// The API's error shape for blob failures.
    static func httpError(_ error: BlobError) -> HTTPError {
        switch error {
        case .badRequest(let message): HTTPError(.badRequest, code: "invalid_upload", message: message)
        case .tooLarge(let message): HTTPError(.payloadTooLarge, code: "too_large", message: message)
        case .unauthorized(let message): HTTPError(.unauthorized, code: "unauthorized", message: message)
        case .forbidden(let message): HTTPError(.forbidden, code: "forbidden", message: message)
        case .notFound(let message): HTTPError(.notFound, code: "not_found", message: message)
        case .conflict(let message): HTTPError(.conflict, code: "conflict", message: message)
        case .rateLimited(let message): HTTPError(.tooManyRequests, code: "rate_limited", message: message)
        case .unavailable: HTTPError.internalError()
        }
    }
}
