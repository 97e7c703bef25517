import Glibc
import Synchronization
import SystemSupport

/// A loopback TCP server on its own thread that answers each connection with canned bytes chosen by the
/// request's target, and remembers the request heads it read. Blocking, on a native thread: no test task waits
/// on the cooperative pool for it.
final class CannedHTTPServer: Sendable {
    enum Answer: Sendable {
        case bytes([UInt8])
        /// Accept, read the request, and never answer (until the server stops).
        case silence
        /// These bytes, then `repeating` again and again until the client goes away.
        case endless(head: [UInt8], repeating: [UInt8])
    }

    let port: Int
    private let listener: Int32
    private let requests = RequestLog()
    private let thread: NativeThread

    init(answer: @escaping @Sendable (_ target: String) -> Answer) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 16) == 0
                    && getsockname(listener, $0, &length) == 0
            }
        }
        guard bound else { throw SystemError("bind") }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        let requests = self.requests
        thread = try NativeThread.start(name: "canned-http") {
            var silent: [Int32] = []
            while true {
                let connection = accept(listener, nil, nil)
                if connection < 0 { break }
                let head = Self.readHead(connection)
                requests.heads.withLock { $0.append(head) }
                let target = head.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
                switch answer(target) {
                case .bytes(let bytes):
                    _ = bytes.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    close(connection)
                case .silence:
                    silent.append(connection)
                case .endless(let head, let piece):
                    var sent = head.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    while sent > 0 {
                        sent = piece.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    }
                    close(connection)
                }
            }
            silent.forEach { close($0) }
        }
    }

    /// The request heads received so far.
    var received: [String] { requests.heads.withLock { $0 } }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        thread.join()
        close(listener)
    }

    private static func readHead(_ connection: Int32) -> String {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while recv(connection, &byte, 1, 0) == 1 {
            bytes.append(byte)
            if bytes.count >= 4, bytes.suffix(4) == [13, 10, 13, 10] { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

private final class RequestLog: Sendable {
    let heads = Mutex<[String]>([])
}

extension CannedHTTPServer.Answer {
    static func response(_ head: String, body: [UInt8] = []) -> Self {
        .bytes(Array(head.replacingOccurrences("\n", "\r\n").utf8) + Array("\r\n".utf8) + body)
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
