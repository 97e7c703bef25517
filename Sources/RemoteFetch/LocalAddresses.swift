import Glibc
import SystemSupport

/// The addresses of this host's own interfaces (`getifaddrs`). A fetch to one of them reaches services bound to
/// all interfaces from the inside, past any firewall in front of the box, even when the address is public.
enum LocalAddresses {
    static func current() -> Set<IPAddress> {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var addresses: Set<IPAddress> = []
        var entry = list
        while let current = entry {
            if let raw = current.pointee.ifa_addr, let address = IPAddress(socketAddress: raw) {
                addresses.insert(address)
            }
            entry = current.pointee.ifa_next
        }
        return addresses
    }
}

extension IPAddress {
    /// The address in a `sockaddr_in` or `sockaddr_in6`; nil for other families.
    init?(socketAddress raw: UnsafePointer<sockaddr>) {
        switch Int32(raw.pointee.sa_family) {
        case AF_INET:
            let bytes = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) }
            }
            self.init(bytes: bytes)
        case AF_INET6:
            let bytes = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
            }
            self.init(bytes: bytes)
        default:
            return nil
        }
    }
}
