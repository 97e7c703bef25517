import COpenSSL
import Glibc
import SystemSupport

/// One outgoing TCP connection, optionally wrapped in TLS, whose every wait ends at a deadline: the socket is
/// non-blocking and each read, write, connect and handshake step waits with `poll` for the time left.
/// Blocking: for a fetch thread, never an event loop.
final class FetchConnection {
    /// -1 once closed: `close()` runs at most once on the descriptor, whoever calls it (the fetch or deinit), so a
    /// number the kernel has handed to another thread's file is never closed by mistake.
    private var descriptor: Int32
    private var ssl: OpaquePointer?
    private let deadline: UInt64
    /// Set when a TLS peer ended the stream without close_notify (the body may have been cut).
    private(set) var endedUncleanly = false

    /// Connects to `address`:`port`, then for `https` runs the TLS handshake, verifying the certificate against
    /// `serverName` (a host name, also sent as SNI, or an address literal).
    init(
        address: IPAddress, port: Int, tls: TLSClientContext?, serverName: String, deadline: UInt64
    ) throws(FetchError) {
        self.deadline = deadline
        descriptor = socket(
            address.isV4 ? AF_INET : AF_INET6,
            Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
                | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .connectFailed(String(cString: strerror(errno))) }
        do {
            try connect(to: address, port: port)
            if let tls { try handshake(tls, serverName: serverName) }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    func close() {
        if let ssl {
            SSL_free(ssl)
            self.ssl = nil
        }
        if descriptor >= 0 {
            Glibc.close(descriptor)
            descriptor = -1
        }
    }

    private func connect(to address: IPAddress, port: Int) throws(FetchError) {
        var storage = sockaddr_storage()
        let length: Int
        if address.isV4 {
            var v4 = sockaddr_in()
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeMutableBytes(of: &v4.sin_addr) { $0.copyBytes(from: address.bytes) }
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: v4) { raw.copyMemory(from: $0) } }
            length = MemoryLayout<sockaddr_in>.size
        } else {
            var v6 = sockaddr_in6()
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeMutableBytes(of: &v6.sin6_addr) { $0.copyBytes(from: address.bytes) }
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: v6) { raw.copyMemory(from: $0) } }
            length = MemoryLayout<sockaddr_in6>.size
        }
        let result = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(length)) }
        }
        if result == 0 { return }
        guard errno == EINPROGRESS else { throw .connectFailed(String(cString: strerror(errno))) }
        try wait(for: Int16(POLLOUT))
        var failure: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &failure, &size)
        guard failure == 0 else { throw .connectFailed(String(cString: strerror(failure))) }
    }

    private func handshake(_ tls: TLSClientContext, serverName: String) throws(FetchError) {
        guard let ssl = SSL_new(tls.context) else { throw .tls("cannot create a TLS session") }
        self.ssl = ssl
        SSL_set_fd(ssl, descriptor)
        if IPAddress(serverName) == nil {
            guard chat_ssl_set_server_name(ssl, serverName) == 1, SSL_set1_host(ssl, serverName) == 1 else {
                throw .tls("invalid server name \(serverName)")
            }
        } else {
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName) == 1 else {
                throw .tls("invalid server address \(serverName)")
            }
        }
        while true {
            ERR_clear_error()
            let result = SSL_connect(ssl)
            if result == 1 { return }
            let error = SSL_get_error(ssl, result)
            switch error {
            case SSL_ERROR_WANT_READ: try wait(for: Int16(POLLIN))
            case SSL_ERROR_WANT_WRITE: try wait(for: Int16(POLLOUT))
            default:
                let verify = SSL_get_verify_result(ssl)
                if verify != X509_V_OK {
                    let reason = String(cString: X509_verify_cert_error_string(verify))
                    throw .tls("certificate verify failed (\(reason))")
                }
                throw .tls(Self.openSSLReason() ?? "the server closed the connection")
            }
        }
    }

    /// Reads what is available into `buffer`; 0 at the end of the stream.
    func read(into buffer: inout [UInt8]) throws(FetchError) -> Int {
        while true {
            // Checked before every read, not only when one would block: a remote that never stops sending
            // must not outlive the deadline.
            guard FetchClock.now() < deadline else { throw .timedOut }
            if let ssl {
                ERR_clear_error()
                errno = 0
                let count = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
                if count > 0 { return Int(count) }
                let error = SSL_get_error(ssl, count)
                switch error {
                case SSL_ERROR_WANT_READ: try wait(for: Int16(POLLIN))
                case SSL_ERROR_WANT_WRITE: try wait(for: Int16(POLLOUT))
                case SSL_ERROR_ZERO_RETURN: return 0
                default:
                    // Many servers close without close_notify: an end of stream for bodies whose framing (length
                    // or chunks) tells whether they were cut; ``endedUncleanly`` lets the reader refuse the rest.
                    let unexpectedEOF = ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING
                    let systemError = errno
                    if unexpectedEOF || (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && systemError == 0) {
                        ERR_clear_error()
                        endedUncleanly = true
                        return 0
                    }
                    throw .connectFailed(Self.openSSLReason() ?? String(cString: strerror(systemError)))
                }
            } else {
                let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
                if count >= 0 { return count }
                guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else {
                    throw .connectFailed(String(cString: strerror(errno)))
                }
                try wait(for: Int16(POLLIN))
            }
        }
    }

    func write(_ bytes: [UInt8]) throws(FetchError) {
        var offset = 0
        while offset < bytes.count {
            guard FetchClock.now() < deadline else { throw .timedOut }
            if let ssl {
                ERR_clear_error()
                let count = bytes.withUnsafeBytes {
                    SSL_write(ssl, $0.baseAddress.map { $0 + offset }, Int32($0.count - offset))
                }
                if count > 0 {
                    offset += Int(count)
                    continue
                }
                switch SSL_get_error(ssl, count) {
                case SSL_ERROR_WANT_READ: try wait(for: Int16(POLLIN))
                case SSL_ERROR_WANT_WRITE: try wait(for: Int16(POLLOUT))
                default: throw .connectFailed(Self.openSSLReason() ?? "write failed")
                }
            } else {
                let count = bytes.withUnsafeBytes {
                    send(descriptor, $0.baseAddress.map { $0 + offset }, $0.count - offset, Int32(MSG_NOSIGNAL))
                }
                if count >= 0 {
                    offset += count
                    continue
                }
                guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else {
                    throw .connectFailed(String(cString: strerror(errno)))
                }
                try wait(for: Int16(POLLOUT))
            }
        }
    }

    /// Waits until the socket is ready for `events` or the deadline passes.
    private func wait(for events: Int16) throws(FetchError) {
        while true {
            let now = FetchClock.now()
            guard now < deadline else { throw .timedOut }
            var descriptor = pollfd(fd: self.descriptor, events: events, revents: 0)
            let milliseconds = Int32(min((deadline - now) / 1_000_000 + 1, 60_000))
            let ready = poll(&descriptor, 1, milliseconds)
            if ready > 0 { return }
            if ready < 0, errno != EINTR { throw .connectFailed(String(cString: strerror(errno))) }
        }
    }

    private static func openSSLReason() -> String? {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0, let reason = ERR_reason_error_string(code) else { return nil }
        return String(cString: reason)
    }
}

/// CLOCK_MONOTONIC in nanoseconds, for deadlines.
enum FetchClock {
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
