import CLinux
import Glibc

/// One client WebSocket: a non-blocking TCP socket, the RFC 6455 client handshake, and buffers. The worker that
/// owns it does all the I/O; the connection only holds state.
final class Connection {
    enum State {
        case idle
        case connecting
        case handshaking
        case open
        case closed
    }

    let endpoint: Endpoint
    var fd: Int32 = -1
    var state = State.idle
    /// chat: CONNECTED received; gorilla: the upgrade answered 101.
    var ready = false
    /// Bytes read but not yet parsed (a partial frame or handshake head).
    var inbound: [UInt8] = []
    /// Bytes not yet written, from `outboundSent` on.
    var outbound: [UInt8] = []
    var outboundSent = 0
    /// A fragmented message being put together.
    var fragments: [UInt8] = []
    var fragmented = false
    var expectedAccept = ""
    /// Sent messages not yet acknowledged (ACK, or the sender's own copy from the Go hub).
    var outstanding = 0

    init(endpoint: Endpoint) {
        self.endpoint = endpoint
    }

    /// Opens the socket and starts a non-blocking connect to `address`, from `source` when given (127.0.0.x,
    /// so that past ~28k connections a destination still has ephemeral ports to offer). Returns an errno.
    func startConnect(to address: sockaddr_in, from source: in_addr?) -> Int32 {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | CLINUX_SOCK_NONBLOCK | CLINUX_SOCK_CLOEXEC, 0)
        guard fd >= 0 else { return errno }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if let source {
            // IP_BIND_ADDRESS_NO_PORT (24): pick the port at connect time, per 4-tuple, not at bind time.
            _ = setsockopt(fd, Int32(IPPROTO_IP), 24, &one, socklen_t(MemoryLayout<Int32>.size))
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr = source
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if bound != 0 { return errno }
        }
        var remote = address
        let result = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0, errno != EINPROGRESS { return errno }
        state = .connecting
        return 0
    }

    /// The pending error of a non-blocking connect (SO_ERROR).
    func connectError() -> Int32 {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) == 0 else { return errno }
        return code
    }

    /// Queues the upgrade request; remembers the accept value the server must answer.
    func queueHandshake(host: String, port: UInt16, random: inout FastRandom) {
        var keyBytes: [UInt8] = []
        for _ in 0..<2 {
            let word = random.next()
            for shift in stride(from: 0, to: 64, by: 8) {
                keyBytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        let key = HandshakeDigest.base64(keyBytes)
        expectedAccept = HandshakeDigest.accept(for: key)
        var request = "GET \(endpoint.path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\n"
        request += "Connection: Upgrade\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
        if let token = endpoint.token { request += "Authorization: Bearer \(token)\r\n" }
        request += "\r\n"
        outbound.append(contentsOf: request.utf8)
        state = .handshaking
    }

    /// Queues one masked frame (client frames are always masked, RFC 6455 §5.3).
    func queueFrame(opcode: UInt8, payload: UnsafeRawBufferPointer, random: inout FastRandom) {
        let length = payload.count
        outbound.append(0x80 | opcode)
        if length < 126 {
            outbound.append(0x80 | UInt8(length))
        } else if length < 65536 {
            outbound.append(0x80 | 126)
            outbound.append(UInt8(length >> 8))
            outbound.append(UInt8(length & 0xFF))
        } else {
            outbound.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) {
                outbound.append(UInt8(truncatingIfNeeded: length >> shift))
            }
        }
        let maskWord = random.next()
        let mask = (
            UInt8(truncatingIfNeeded: maskWord), UInt8(truncatingIfNeeded: maskWord >> 8),
            UInt8(truncatingIfNeeded: maskWord >> 16), UInt8(truncatingIfNeeded: maskWord >> 24)
        )
        outbound.append(mask.0)
        outbound.append(mask.1)
        outbound.append(mask.2)
        outbound.append(mask.3)
        let start = outbound.count
        outbound.append(contentsOf: payload)
        outbound.withUnsafeMutableBufferPointer { bytes in
            var i = 0
            while i < length {
                switch i & 3 {
                case 0: bytes[start + i] ^= mask.0
                case 1: bytes[start + i] ^= mask.1
                case 2: bytes[start + i] ^= mask.2
                default: bytes[start + i] ^= mask.3
                }
                i += 1
            }
        }
    }

    /// Writes what it can of `outbound`. Returns false when the socket failed (the caller closes it).
    func flush() -> Bool {
        while outboundSent < outbound.count {
            let written = outbound.withUnsafeBytes { bytes in
                send(fd, bytes.baseAddress.map { $0 + outboundSent }, bytes.count - outboundSent, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                outboundSent += written
                continue
            }
            let code = errno
            if written < 0, code == EINTR { continue }
            return written < 0 && code == EAGAIN
        }
        if outbound.count > 4096 {
            outbound = []
        } else {
            outbound.removeAll(keepingCapacity: true)
        }
        outboundSent = 0
        return true
    }
}
