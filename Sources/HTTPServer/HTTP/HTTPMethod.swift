/// The request methods the server knows (RFC 9110 §9). A syntactically valid method outside this set is
/// answered 501 Not Implemented by the parser; a known method on a route that lacks it gets 405 with `Allow`.
/// TRACE and QUERY (the safe, body-carrying method of draft-ietf-httpbis-safe-method-w-body) are known, so a
/// resource without them answers 405 with `Allow`, but no route handles them: echoing requests back (TRACE)
/// would hand scripts the cookies and headers they must not read (cross-site tracing).
public enum HTTPMethod: String, Sendable, Hashable, CaseIterable {
    case GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE, QUERY
}
