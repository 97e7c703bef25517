/// Produces a reply for a request. Never throws: errors are already turned into responses, so middleware sees
/// every final status (access logs count 4xx and 5xx too).
public protocol Responder: Sendable {
    func respond(to request: HTTPRequest, context: RequestContext) -> Reply
}

/// A step in the middleware chain. It may answer by itself, change the request or context before calling
/// `next`, or post-process the reply with `Reply.map`. A thrown error becomes the error response.
public protocol Middleware: Sendable {
    func handle(_ request: HTTPRequest, context: RequestContext, next: any Responder) throws -> Reply
}

/// A handler function: the shape routes are written in.
public typealias Handler = @Sendable (HTTPRequest, RequestContext) throws -> Reply

/// Builds the chain `middlewares[0] → middlewares[1] → … → responder`.
public struct MiddlewareChain: Responder {
    private let head: any Responder

    public init(_ middlewares: [any Middleware], responder: any Responder) {
        var next = responder
        for middleware in middlewares.reversed() {
            next = Link(middleware: middleware, next: next)
        }
        head = next
    }

    public func respond(to request: HTTPRequest, context: RequestContext) -> Reply {
        head.respond(to: request, context: context)
    }

    private struct Link: Responder {
        let middleware: any Middleware
        let next: any Responder

        func respond(to request: HTTPRequest, context: RequestContext) -> Reply {
            do {
                return try middleware.handle(request, context: context, next: next)
            } catch {
                return .now(ErrorResponse.response(for: error))
            }
        }
    }
}
