/// Maps method + path to handlers. Paths are patterns of `/`-separated segments: literals, `:name` parameters
/// (one segment, percent-decoded into `request.pathParameters`) and a final `*name` that captures the rest.
/// Literal segments win over parameters, parameters over the catch-all. A path that exists without the
/// request's method is 405 with `Allow` (RFC 9110 §15.5.6); `HEAD` falls back to `GET`; `OPTIONS` is answered
/// with `Allow` unless a route handles it.
public struct Router: Responder {
    /// One registered route, kept so documentation (OpenAPI) can be generated from the table.
    public struct Route: Sendable {
        public var method: HTTPMethod
        public var pattern: String
    }

    private final class Node: @unchecked Sendable {
        // @unchecked: nodes are mutated only while routes are registered, before the router is shared.
        var literals: [String: Node] = [:]
        var parameter: (name: String, node: Node)?
        var catchAll: (name: String, handlers: [HTTPMethod: Handler])?
        var handlers: [HTTPMethod: Handler] = [:]
    }

    private let root = Node()
    public private(set) var routes: [Route] = []
    /// Answers requests no route matches (404 by default).
    public var notFound: Handler = { _, _ in throw HTTPError.notFound() }

    public init() {}

    /// Registers `handler` for `method` on `pattern`. Registering the same method and pattern twice is a
    /// programming error and traps.
    public mutating func on(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping Handler) {
        var node = root
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: true)
        for (index, segment) in segments.enumerated() {
            if segment.hasPrefix("*") {
                precondition(index == segments.count - 1, "catch-all must be last in \(pattern)")
                var catchAll = node.catchAll ?? (String(segment.dropFirst()), [:])
                precondition(catchAll.handlers[method] == nil, "duplicate route \(method) \(pattern)")
                catchAll.handlers[method] = handler
                node.catchAll = catchAll
                routes.append(Route(method: method, pattern: pattern))
                return
            } else if segment.hasPrefix(":") {
                let name = String(segment.dropFirst())
                if let parameter = node.parameter {
                    precondition(parameter.name == name, "conflicting parameter names at \(pattern)")
                    node = parameter.node
                } else {
                    let child = Node()
                    node.parameter = (name, child)
                    node = child
                }
            } else {
                let key = String(segment)
                if let child = node.literals[key] {
                    node = child
                } else {
                    let child = Node()
                    node.literals[key] = child
                    node = child
                }
            }
        }
        precondition(node.handlers[method] == nil, "duplicate route \(method) \(pattern)")
        node.handlers[method] = handler
        routes.append(Route(method: method, pattern: pattern))
    }

    public mutating func get(_ pattern: String, _ handler: @escaping Handler) { on(.GET, pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: @escaping Handler) { on(.POST, pattern, handler) }
    public mutating func put(_ pattern: String, _ handler: @escaping Handler) { on(.PUT, pattern, handler) }
    public mutating func patch(_ pattern: String, _ handler: @escaping Handler) { on(.PATCH, pattern, handler) }
    public mutating func delete(_ pattern: String, _ handler: @escaping Handler) { on(.DELETE, pattern, handler) }

    public func respond(to request: HTTPRequest, context: RequestContext) -> Reply {
        do {
            var request = request
            guard let (handlers, parameters) = match(request.path) else {
                return try notFound(request, context)
            }
            request.pathParameters = parameters
            if let handler = handlers[request.method] ?? (request.method == .HEAD ? handlers[.GET] : nil) {
                return try handler(request, context)
            }
            let allow = Self.allowHeader(for: handlers)
            if request.method == .OPTIONS {
                return .now(HTTPResponse(status: .noContent, headers: ["Allow": allow]))
            }
            throw HTTPError(
                .methodNotAllowed, code: "method_not_allowed",
                message: "\(request.method.rawValue) is not allowed here; use \(allow).", headers: ["Allow": allow])
        } catch {
            return .now(ErrorResponse.response(for: error))
        }
    }

    /// Finds the handlers for `path` (still percent-encoded) and the decoded parameter values. Walks the
    /// path's UTF-8 bytes: segment boundaries are ASCII `/`, so no Character (grapheme) work is needed.
    private func match(_ path: String) -> ([HTTPMethod: Handler], [String: String])? {
        let slash = UInt8(ascii: "/")
        let bytes = path.utf8
        var parameters: [String: String] = [:]
        var node = root
        var catchAllCandidate: (handlers: [HTTPMethod: Handler], name: String, rest: String.Index)?
        var start = bytes.startIndex
        while start < bytes.endIndex {
            if bytes[start] == slash {
                start = bytes.index(after: start)
                continue
            }
            if let catchAll = node.catchAll {
                catchAllCandidate = (catchAll.handlers, catchAll.name, start)
            }
            var stop = start
            while stop < bytes.endIndex && bytes[stop] != slash { stop = bytes.index(after: stop) }
            let segment = String(Substring(bytes[start..<stop]))
            if let child = node.literals[segment] {
                node = child
            } else if let parameter = node.parameter, let value = PercentDecoding.decode(segment) {
                parameters[parameter.name] = value
                node = parameter.node
            } else {
                return catchAllCandidate.map { candidate in
                    parameters[candidate.name] = String(Substring(bytes[candidate.rest...]))
                    return (candidate.handlers, parameters)
                }
            }
            start = stop
        }
        if !node.handlers.isEmpty { return (node.handlers, parameters) }
        if let catchAll = node.catchAll {
            parameters[catchAll.name] = ""
            return (catchAll.handlers, parameters)
        }
        return catchAllCandidate.map { candidate in
            parameters[candidate.name] = String(Substring(bytes[candidate.rest...]))
            return (candidate.handlers, parameters)
        }
    }

    private static func allowHeader(for handlers: [HTTPMethod: Handler]) -> String {
        var methods = Set(handlers.keys)
        if methods.contains(.GET) { methods.insert(.HEAD) }
        methods.insert(.OPTIONS)
        return HTTPMethod.allCases.filter { methods.contains($0) }.map(\.rawValue).joined(separator: ", ")
    }
}
