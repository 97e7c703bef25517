import SystemSupport

/// Which addresses a remote fetch may connect to: public unicast addresses, plus the blocks an operator allowed.
///
/// The blocked list is the IANA special-purpose registries (RFC 6890 and its updates) and the multicast ranges:
/// fetching them from a server is how SSRF reaches metadata services (169.254.169.254), loopback admin ports and
/// the private network behind the box. IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry
/// (``IPAddress`` stores them so); NAT64, 6to4 and Teredo addresses, which embed an IPv4 address a gateway would
/// reach, are blocked outright.
public struct AddressPolicy: Sendable {
    public var allowed: [AddressBlock]

    public init(allowed: [AddressBlock] = []) {
        self.allowed = allowed
    }

    static let specialPurpose: [AddressBlock] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
        "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        "::/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "2002::/16",
        "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    ].compactMap(AddressBlock.init)

    /// Whether `address` is a special-purpose (private, loopback, link-local, reserved, multicast) address.
    public static func isSpecialPurpose(_ address: IPAddress) -> Bool {
        specialPurpose.contains { $0.contains(address) }
    }

    /// Whether a fetch may connect to `address`.
    public func permits(_ address: IPAddress) -> Bool {
        allowed.contains { $0.contains(address) } || !Self.isSpecialPurpose(address)
    }
}
