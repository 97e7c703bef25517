#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A numeric `host:port` to listen on: `127.0.0.1:8080`, `0.0.0.0:80` or `[::1]:8080`. Port 0 asks the
/// kernel for a free port. Host names are not accepted: they would need resolving, and could resolve to several.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible, LosslessStringConvertible {
    /// The address literal without brackets: `127.0.0.1`, `::1`.
    public var host: String
    public var port: UInt16
    /// Whether `host` is an IPv6 literal (written `[host]:port`).
    public var isIPv6: Bool

    /// Parses `a.b.c.d:port` or `[ipv6]:port`; nil for anything else.
    public init?(_ description: String) {
        let hostPart: Substring
        let portPart: Substring
        if description.first == "[" {
            guard let close = description.firstIndex(of: "]") else { return nil }
            let afterClose = description.index(after: close)
            guard afterClose < description.endIndex, description[afterClose] == ":" else { return nil }
            hostPart = description[description.index(after: description.startIndex)..<close]
            portPart = description[description.index(after: afterClose)...]
            isIPv6 = true
        } else {
            guard let colon = description.lastIndex(of: ":") else { return nil }
            hostPart = description[..<colon]
            portPart = description[description.index(after: colon)...]
            isIPv6 = false
        }
        guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy({ $0.isASCII && $0.isNumber }),
            let port = UInt16(portPart)
        else { return nil }
        guard Self.isNumericAddress(String(hostPart), ipv6: isIPv6) else { return nil }
        self.host = String(hostPart)
        self.port = port
    }

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
        self.isIPv6 = host.contains(":")
    }

    public var description: String {
        isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    private static func isNumericAddress(_ host: String, ipv6: Bool) -> Bool {
        if ipv6 {
            var address = in6_addr()
            return inet_pton(AF_INET6, host, &address) == 1
        }
        var address = in_addr()
        return inet_pton(AF_INET, host, &address) == 1
    }
}
