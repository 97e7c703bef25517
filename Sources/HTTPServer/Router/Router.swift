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
            var firstMatch: Match?
            var chosen: (Match, Handler)?
            // Candidates come in priority order (literal, then parameter, then catch-all, depth first); the
            // first one that has the method wins, so `/users/me/profile` still reaches `/users/:id/profile`
            // and `GET /files/upload` reaches `GET /files/*path` when only `POST /files/upload` exists.
            forEachMatch(of: request.path) { match in
                if firstMatch == nil { firstMatch = match }
                let handlers = match.handlers
                if let handler = handlers[request.method] ?? (request.method == .HEAD ? handlers[.GET] : nil) {
                    chosen = (match, handler)
                    return false
                }
                return true
            }
            if let (match, handler) = chosen {
                request.pathParameters = match.parameters
                return try handler(request, context)
            }
            guard let firstMatch else { return try notFound(request, context) }
            let allow = Self.allowHeader(for: firstMatch.handlers)
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

    private struct Match {
        var handlers: [HTTPMethod: Handler]
        var parameters: [String: String]
    }

    /// Calls `visit` with every route matching `path` (still percent-encoded), best first, until it returns
    /// false. Walks the path's UTF-8 bytes: segment boundaries are ASCII `/`, so no Character work is needed.
    private func forEachMatch(of path: String, _ visit: (Match) -> Bool) {
        let bytes = path.utf8
        var parameters: [String: String] = [:]
        _ = search(root, bytes, from: bytes.startIndex, &parameters, visit)
    }

    /// Depth-first search; returns false once `visit` asked to stop.
    private func search(
        _ node: Node, _ bytes: String.UTF8View, from start: String.Index, _ parameters: inout [String: String],
        _ visit: (Match) -> Bool
    ) -> Bool {
        let slash = UInt8(ascii: "/")
        var start = start
        while start < bytes.endIndex && bytes[start] == slash { start = bytes.index(after: start) }
        if start == bytes.endIndex {
            if !node.handlers.isEmpty && !visit(Match(handlers: node.handlers, parameters: parameters)) {
                return false
            }
            if let catchAll = node.catchAll {
                var withRest = parameters
                withRest[catchAll.name] = ""
                if !visit(Match(handlers: catchAll.handlers, parameters: withRest)) { return false }
            }
            return true
        }
        var stop = start
        while stop < bytes.endIndex && bytes[stop] != slash { stop = bytes.index(after: stop) }
        let segment = String(Substring(bytes[start..<stop]))
        if let child = node.literals[segment], !search(child, bytes, from: stop, &parameters, visit) {
            return false
        }
        if let parameter = node.parameter, let value = PercentDecoding.decode(segment) {
            let previous = parameters[parameter.name]
            parameters[parameter.name] = value
            let keepGoing = search(parameter.node, bytes, from: stop, &parameters, visit)
            parameters[parameter.name] = previous
            if !keepGoing { return false }
        }
        if let catchAll = node.catchAll {
            var withRest = parameters
            withRest[catchAll.name] = String(Substring(bytes[start...]))
            if !visit(Match(handlers: catchAll.handlers, parameters: withRest)) { return false }
        }
        return true
    }

    private static func allowHeader(for handlers: [HTTPMethod: Handler]) -> String {
        var methods = Set(handlers.keys)
        if methods.contains(.GET) { methods.insert(.HEAD) }
        methods.insert(.OPTIONS)
        return HTTPMethod.allCases.filter { methods.contains($0) }.map(\.rawValue).joined(separator: ", ")
    }
}
