import Glibc

/// An IPv4 or IPv6 address block in CIDR notation (`10.0.0.0/8`, `::1`, `192.168.1.7`), for deciding whether a
/// peer is a trusted proxy. IPv4-mapped IPv6 addresses (`::ffff:10.1.2.3`) match IPv4 blocks.
public struct AddressBlock: Sendable, Hashable, CustomStringConvertible {
    private let network: [UInt8]
    private let prefixLength: Int

    /// Parses `address` or `address/prefix`; nil when either part is invalid.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = Self.bytes(of: String(parts[0])) else { return nil }
        let maximum = address.count * 8
        var length = maximum
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), (0...maximum).contains(parsed), parts[1].allSatisfy(\.isNumber) else {
                return nil
            }
            length = parsed
        }
        network = Self.masked(address, prefixLength: length)
        prefixLength = length
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = network.count == 4 ? AF_INET : AF_INET6
        _ = network.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text + "/" + String(prefixLength)
    }

    /// Whether the numeric address `text` lies in this block.
    public func contains(_ text: String) -> Bool {
        guard let address = Self.bytes(of: text), address.count == network.count else { return false }
        return Self.masked(address, prefixLength: prefixLength) == network
    }

    /// The 4 (IPv4, including IPv4-mapped IPv6) or 16 address bytes.
    private static func bytes(of text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return Array(bytes[12..<16])
        }
        return bytes
    }

    private static func masked(_ address: [UInt8], prefixLength: Int) -> [UInt8] {
        var result = address
        for index in 0..<result.count {
            let bits = max(0, min(8, prefixLength - index * 8))
            result[index] &= bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
        }
        return result
    }
}
