/// The request methods the server implements (RFC 9110 §9). A syntactically valid method outside this set is
/// answered 501 Not Implemented by the parser; a known method on a route that lacks it gets 405 with `Allow`.
public enum HTTPMethod: String, Sendable, Hashable, CaseIterable {
    case GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS
}
