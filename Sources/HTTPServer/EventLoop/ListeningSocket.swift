import CLinux
import Glibc
import SystemSupport

/// A non-blocking TCP listening socket. Every event loop opens its own on the same address with SO_REUSEPORT,
/// so the kernel spreads new connections across loops without a shared accept lock.
final class ListeningSocket {
    let descriptor: Int32
    let address: SocketAddress

    init(address: SocketAddress, backlog: Int32 = 4096) throws {
        let domain = address.family == .v4 ? AF_INET : AF_INET6
        let fd = socket(domain, Int32(SOCK_STREAM.rawValue) | CLINUX_SOCK_NONBLOCK | CLINUX_SOCK_CLOEXEC, 0)
        guard fd >= 0 else { throw SystemError("socket") }
        var one: Int32 = 1
        let size = socklen_t(MemoryLayout<Int32>.size)
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, size) == 0,
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, size) == 0
        else {
            let error = SystemError("setsockopt")
            Glibc.close(fd)
            throw error
        }
        if address.family == .v6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, size) }
        let bound = address.withSockAddr { bind(fd, $0, $1) }
        guard bound == 0 else {
            let error = SystemError("bind \(address)")
            Glibc.close(fd)
            throw error
        }
        guard listen(fd, backlog) == 0 else {
            let error = SystemError("listen")
            Glibc.close(fd)
            throw error
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0, let local = SocketAddress(storage: &storage) else {
            let error = SystemError("getsockname")
            Glibc.close(fd)
            throw error
        }
        descriptor = fd
        self.address = local
    }

    /// Accepts one connection; nil when none is pending (EAGAIN) or on transient errors such as ECONNABORTED.
    /// EMFILE/ENFILE are thrown so the caller can back off instead of spinning.
    func accept() throws(SystemError) -> (descriptor: Int32, peer: SocketAddress?)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        while true {
            let fd = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    clinux_accept_nonblocking(descriptor, $0, &length)
                }
            }
            if fd >= 0 { return (fd, SocketAddress(storage: &storage)) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK, ECONNABORTED, EPROTO, EPERM: return nil
            default: throw SystemError("accept4")
            }
        }
    }

    func close() { Glibc.close(descriptor) }
}
