import Glibc
import SystemSupport

/// Fetches an `http`/`https` URL for an upload (Cloudinary's `file=<URL>`), guarded against SSRF:
///
/// - the host is resolved here, every address it resolves to must pass the ``AddressPolicy``, and the connection
///   goes to an address that was checked (no second lookup a DNS rebinding could answer differently);
/// - redirects are followed by hand, each hop checked the same way, at most `maxRedirects`;
/// - one deadline covers the whole fetch, including redirects (DNS resolution excepted: `getaddrinfo` has its own
///   timeouts); the body is streamed to a sink and refused past a byte limit, with or without Content-Length.
///
/// Blocking: runs on a thread of its own pool, never on an event loop.
public final class RemoteFetcher: Sendable {
    public struct Configuration: Sendable {
        public var policy = AddressPolicy()
        /// The time one fetch may take, redirects included.
        public var timeout: Duration = .seconds(10)
        public var maxRedirects = 3
        /// A PEM CA bundle trusted instead of the system's store.
        public var caFile: String?
        public var userAgent = "chat-remote-fetch/1"

        public init() {}
    }

    /// What was fetched.
    public struct Result: Sendable {
        /// The URL the bytes came from, after redirects.
        public var url: FetchURL
        public var contentType: String?
        public var byteCount: Int64
    }

    public let configuration: Configuration
    private let tls: TLSClientContext

    public init(configuration: Configuration) throws(FetchError) {
        self.configuration = configuration
        tls = try TLSClientContext(caFile: configuration.caFile)
    }

    /// A monotonic instant, for ``fetch(_:limit:since:into:)``'s `since`.
    public static func now() -> UInt64 { FetchClock.now() }

    /// Fetches `text` and hands the body to `sink`; rethrows what `sink` throws. The timeout runs from `since`
    /// (when the fetch was asked for, so that time spent waiting for a thread counts).
    public func fetch(
        _ text: String, limit: Int64, since: UInt64 = RemoteFetcher.now(), into sink: ([UInt8]) throws -> Void
    ) throws -> Result {
        var url = try FetchURL(text)
        let timeout = configuration.timeout.components
        let nanoseconds =
            min(max(timeout.seconds, 0), 86_400) * 1_000_000_000 + max(timeout.attoseconds, 0) / 1_000_000_000
        let deadline = since.addingReportingOverflow(UInt64(nanoseconds)).partialValue
        var hops = 0
        while true {
            let connection = try open(url, deadline: deadline)
            defer { connection.close() }
            try connection.write(Array(request(for: url).utf8))
            var reader = ResponseReader(connection)
            let head = try reader.readHead()
            if [301, 302, 303, 307, 308].contains(head.status), let location = head.value("location") {
                guard hops < configuration.maxRedirects else { throw FetchError.tooManyRedirects }
                hops += 1
                let next = try url.resolving(location)
                guard url.scheme == .http || next.scheme == .https else { throw FetchError.insecureRedirect }
                url = next
                continue
            }
            guard (200...299).contains(head.status) else { throw FetchError.status(head.status, head.reason) }
            let count = try reader.readBody(head, limit: limit, into: sink)
            return Result(url: url, contentType: head.value("content-type"), byteCount: count)
        }
    }

    /// Resolves, checks every address, and connects to the first checked address that answers.
    private func open(_ url: FetchURL, deadline: UInt64) throws(FetchError) -> FetchConnection {
        let addresses = try Self.resolve(url.host)
        let local = LocalAddresses.current()
        let refused = addresses.first { address in
            !configuration.policy.permits(address)
                || (local.contains(address) && !configuration.policy.allowed.contains { $0.contains(address) })
        }
        if let refused { throw .refusedAddress(host: url.host, address: refused.description) }
        var lastError = FetchError.hostNotFound(url.host)
        for address in addresses {
            do {
                return try FetchConnection(
                    address: address, port: url.port, tls: url.scheme == .https ? tls : nil, serverName: url.host,
                    deadline: deadline)
            } catch .timedOut {
                throw .timedOut
            } catch {
                lastError = error
                if case .tls = error { throw error }  // the next address would present the same certificate
            }
        }
        throw lastError
    }

    private func request(for url: FetchURL) -> String {
        "GET \(url.target) HTTP/1.1\r\nHost: \(url.hostHeader)\r\nUser-Agent: \(configuration.userAgent)\r\n"
            + "Accept: */*\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n"
    }

    /// The addresses of `host` (an address literal is its own), without duplicates, in resolver order.
    static func resolve(_ host: String) throws(FetchError) -> [IPAddress] {
        if let literal = IPAddress(host) { return [literal] }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { throw .hostNotFound(host) }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let raw = current.pointee.ai_addr, let address = IPAddress(socketAddress: raw),
                !addresses.contains(address)
            {
                addresses.append(address)
            }
            entry = current.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw .hostNotFound(host) }
        return addresses
    }
}
