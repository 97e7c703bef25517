/// Cross-origin requests from the configured origins (exact match). `*` allows any origin and is answered
/// with a literal `*`, which browsers never combine with credentials; the API authenticates with bearer
/// tokens, not cookies, so no credentials mode is offered at all.
/// Preflights (`OPTIONS` with `Access-Control-Request-Method`) are answered here with 204; other requests
/// get `Access-Control-Allow-Origin` for allowed origins. Every response says `Vary: Origin`, which keeps
/// shared caches honest.
public struct CORSMiddleware: Middleware {
    public let allowedOrigins: Set<String>
    public var allowedMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
    public var allowedHeaders = "Authorization, Content-Type, X-Request-Id"
    public var exposedHeaders = "X-Request-Id, Retry-After"
    public var maxAge = 600

    public init(allowedOrigins: [String]) {
        self.allowedOrigins = Set(allowedOrigins)
    }

    public func handle(_ request: HTTPRequest, context: RequestContext, next: any Responder) throws -> Reply {
        guard let origin = request.headers["Origin"] else {
            // Answers differ by Origin, so a shared cache must key on it even for same-origin requests.
            return next.respond(to: request, context: context).map { response in
                var response = response
                response.headers.add("Vary", "Origin")
                return response
            }
        }
        let allowed = allowedOrigins.contains(origin) || allowedOrigins.contains("*")
        let allowOrigin = allowedOrigins.contains(origin) ? origin : "*"
        if request.method == .OPTIONS, request.headers.contains("Access-Control-Request-Method") {
            var headers: HTTPHeaders = ["Vary": "Origin"]
            if allowed {
                headers.add("Access-Control-Allow-Origin", allowOrigin)
                headers.add("Access-Control-Allow-Methods", allowedMethods)
                headers.add("Access-Control-Allow-Headers", allowedHeaders)
                headers.add("Access-Control-Max-Age", String(maxAge))
            }
            return .now(HTTPResponse(status: .noContent, headers: headers))
        }
        let exposed = exposedHeaders
        return next.respond(to: request, context: context).map { response in
            var response = response
            response.headers.add("Vary", "Origin")
            if allowed {
                response.headers.set("Access-Control-Allow-Origin", allowOrigin)
                response.headers.set("Access-Control-Expose-Headers", exposed)
            }
            return response
        }
    }
}
