/// Headers every response carries: no MIME sniffing, no framing (clickjacking), no referrer leaks to other
/// origins, and a strict Content-Security-Policy on HTML (scripts and styles only from our origin) unless the
/// handler set a policy of its own for its page (the web client's WebSocket, Swagger UI's asset origin).
public struct SecurityHeadersMiddleware: Middleware {
    public var contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        + "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

    public init() {}

    public func handle(_ request: HTTPRequest, context: RequestContext, next: any Responder) throws -> Reply {
        let policy = contentSecurityPolicy
        return next.respond(to: request, context: context).map { response in
            var response = response
            response.headers.set("X-Content-Type-Options", "nosniff")
            response.headers.set("X-Frame-Options", "DENY")
            response.headers.set("Referrer-Policy", "no-referrer")
            if let type = response.headers["Content-Type"], type.hasPrefix("text/html"),
                response.headers["Content-Security-Policy"] == nil
            {
                response.headers.set("Content-Security-Policy", policy)
            }
            return response
        }
    }
}
