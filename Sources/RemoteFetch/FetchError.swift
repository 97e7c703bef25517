import SystemSupport

/// Why a remote fetch failed; `message` is written for the person who sent the URL.
public enum FetchError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidURL(String)
    case unsupportedScheme
    case credentialsInURL
    /// The host resolved to an address the policy refuses (nothing was sent to it).
    case refusedAddress(host: String, address: String)
    case hostNotFound(String)
    case connectFailed(String)
    case timedOut
    case tls(String)
    /// The configured CA bundle cannot be loaded.
    case caFile(String)
    case badResponse(String)
    /// The remote answered with a status other than 2xx (after redirects).
    case status(Int, String)
    case tooManyRedirects
    /// A redirect from https to http (the rest of the fetch would lose TLS's protection).
    case insecureRedirect
    /// The body is larger than the limit.
    case tooLarge(Int64)

    public var message: String {
        switch self {
        case .invalidURL(let why): "Invalid URL: \(why)"
        case .unsupportedScheme: "Remote fetch supports http and https URLs only"
        case .credentialsInURL: "URLs with credentials (user:password@) are not fetched"
        case .refusedAddress(let host, _):
            // Which address a name resolved to stays in the server's log: the answer would map internal DNS.
            "Remote fetch refused: \(host) \(IPAddress(host) == nil ? "resolves to" : "is") a private, loopback, "
                + "link-local, reserved or local address (an operator can allow it with [blobs] remote_fetch_allow)"
        case .hostNotFound(let host): "host \(host) not found"
        case .connectFailed(let why): "connection failed: \(why)"
        case .timedOut: "timed out"
        case .tls(let why): "TLS handshake failed: \(why)"
        case .caFile(let path): "cannot read the CA file \(path) (PEM certificates expected)"
        case .badResponse(let why): "invalid HTTP response: \(why)"
        case .status(let code, let reason): "\(code) \(reason)"
        case .tooManyRedirects: "too many redirects"
        case .insecureRedirect: "redirect from https to http refused"
        case .tooLarge(let limit): "File size too large. Maximum is \(limit) bytes"
        }
    }

    /// Whether the message is about the URL itself rather than about loading it.
    public var isAboutTheURL: Bool {
        switch self {
        case .invalidURL, .unsupportedScheme, .credentialsInURL, .refusedAddress, .tooLarge: true
        default: false
        }
    }

    public var description: String { message }
}
