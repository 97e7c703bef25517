import Foundation
import Glibc
import SystemSupport

@testable import HTTPServer

/// A TCP client for tests: connect to the server under test, send raw bytes, read until a condition.
///
/// Every call that can block runs on a thread of its own while the test's task waits: a test that blocked a
/// thread of the cooperative pool would starve the server's async handlers on a loaded 2-core machine (CI saw
/// them wait more than 30 s behind the other suites), and the test would fail for a reason not its own.
final class TestClient: Sendable {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(descriptor)
            throw SystemError("connect")
        }
    }

    deinit { close(descriptor) }

    func send(_ text: String) async { await send(bytes: Array(text.utf8)) }

    func send(bytes: [UInt8]) async {
        await offThePool { [descriptor] in
            var sent = 0
            while sent < bytes.count {
                let count = bytes.withUnsafeBytes {
                    Glibc.send(descriptor, $0.baseAddress.map { $0 + sent }, $0.count - sent, Int32(MSG_NOSIGNAL))
                }
                if count <= 0 { return }
                sent += count
            }
        }
    }

    /// Reads until `done` holds for what was received, the peer closes, or the receive timeout passes.
    func read(until done: @escaping @Sendable (String) -> Bool) async -> String {
        await offThePool { [descriptor] in
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while !done(String(decoding: received, as: UTF8.self)) {
                let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                received += chunk[0..<count]
            }
            return String(decoding: received, as: UTF8.self)
        }
    }

    /// Reads until the server closes the connection.
    func readToEnd() async -> String { await read { _ in false } }
}

/// Runs blocking work on a native thread of its own and resumes the caller with its result.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        do {
            try NativeThread.start(name: "test-blocking") { continuation.resume(returning: body()) }.detach()
        } catch {
            continuation.resume(returning: body())  // no thread to be had: block here rather than hang
        }
    }
}

/// Polls `condition` every 5 ms for up to `seconds` without holding a thread; true once it holds.
func eventually(within seconds: Double = 5, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

extension String {
    func occurrences(of needle: String) -> Int {
        var count = 0
        var rest = self[...]
        while let range = rest.range(of: needle) {
            count += 1
            rest = rest[range.upperBound...]
        }
        return count
    }
}
