/// An IPv4 or IPv6 address block in CIDR notation (`10.0.0.0/8`, `::1`, `192.168.1.7`): trusted proxies, and
/// what a remote fetch may or may not reach. IPv4-mapped IPv6 addresses (`::ffff:10.1.2.3`) match IPv4 blocks.
public struct AddressBlock: Sendable, Hashable, CustomStringConvertible {
    /// The first address of the block (host bits cleared).
    public let network: IPAddress
    public let prefixLength: Int

    /// Parses `address` or `address/prefix`; nil when either part is invalid.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { return nil }
        let maximum = address.bytes.count * 8
        var length = maximum
        if parts.count == 2 {
            guard parts[1].allSatisfy(\.isNumber), let parsed = Int(parts[1]), (0...maximum).contains(parsed) else {
                return nil
            }
            length = parsed
        }
        self.init(address, prefixLength: length)
    }

    /// The block of `address`'s first `prefixLength` bits.
    public init(_ address: IPAddress, prefixLength: Int) {
        var bytes = address.bytes
        for index in bytes.indices {
            let bits = max(0, min(8, prefixLength - index * 8))
            bytes[index] &= bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
        }
        network = IPAddress(bytes: bytes) ?? address
        self.prefixLength = prefixLength
    }

    public func contains(_ address: IPAddress) -> Bool {
        address.bytes.count == network.bytes.count && AddressBlock(address, prefixLength: prefixLength) == self
    }

    /// Whether the numeric address `text` lies in this block.
    public func contains(_ text: String) -> Bool {
        IPAddress(text).map(contains) ?? false
    }

    public var description: String { "\(network)/\(prefixLength)" }
}
