import SystemSupport

/// The client's address as the application should see it, stored on the context as `ClientAddress`.
public struct ClientAddress: Sendable, Hashable {
    public var ip: String

    public init(ip: String) { self.ip = ip }
}

/// Resolves the client address: the TCP peer, unless the peer is a trusted proxy, in which case the
/// `X-Forwarded-For` chain is walked from the right (the entry our proxy appended) past every trusted proxy,
/// and the first untrusted address is the client. A client cannot spoof its address by sending the header
/// itself: without a trusted peer the header is ignored, and behind one only the proxies' own entries count.
public struct ClientAddressMiddleware: Middleware {
    public let trustedProxies: [AddressBlock]

    public init(trustedProxies: [AddressBlock]) {
        self.trustedProxies = trustedProxies
    }

    public func handle(_ request: HTTPRequest, context: RequestContext, next: any Responder) throws -> Reply {
        var context = context
        context[ClientAddress.self] = ClientAddress(ip: resolve(request: request, peer: context.remoteAddress?.host))
        return next.respond(to: request, context: context)
    }

    func resolve(request: HTTPRequest, peer: String?) -> String {
        guard let peer else { return "unknown" }
        guard isTrusted(peer) else { return peer }
        let chain = request.headers.values("X-Forwarded-For")
            .flatMap { $0.split(separator: ",") }
            .map { String($0.trimmingSpaces) }
            .filter { !$0.isEmpty }
        var client = peer
        for hop in chain.reversed() {
            guard AddressBlock(hop) != nil else { break }  // garbage: stop at the last trusted hop
            client = hop
            if !isTrusted(hop) { break }
        }
        return client
    }

    private func isTrusted(_ address: String) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }
}

extension RequestContext {
    /// The resolved client IP (`ClientAddressMiddleware`), else the TCP peer.
    public var clientIP: String {
        self[ClientAddress.self]?.ip ?? remoteAddress?.host ?? "unknown"
    }
}
