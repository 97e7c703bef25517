import CLinux
import Glibc
import Synchronization

/// Gives every request an id: the client's (or proxy's) `X-Request-Id` when it is short and plain, else a new
/// one. The id is on the context for logs and echoed in the response header.
public struct RequestIDMiddleware: Middleware {
    public let headerName: String
    private let generator = RequestIDGenerator()

    public init(headerName: String = "X-Request-Id") {
        self.headerName = headerName
    }

    public func handle(_ request: HTTPRequest, context: RequestContext, next: any Responder) throws -> Reply {
        var context = context
        if let incoming = request.headers[headerName], Self.isAcceptable(incoming) {
            context.requestID = incoming
        } else {
            context.requestID = generator.next()
        }
        let id = context.requestID
        let name = headerName
        return next.respond(to: request, context: context).map { response in
            var response = response
            // Handlers never set this header themselves, so appending is enough (no search-and-replace).
            response.headers.add(name, id)
            return response
        }
    }

    /// At most 128 characters from `[A-Za-z0-9._:-]`, so ids are safe to log and to echo.
    static func isAcceptable(_ id: String) -> Bool {
        guard !id.isEmpty, id.utf8.count <= 128 else { return false }
        return id.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"),
                UInt8(ascii: "-"):
                true
            default: false
            }
        }
    }
}

/// Ids of the form `<process prefix>-<counter>`: unique within a process, distinct across restarts, and cheap
/// (one atomic increment, no randomness per request).
final class RequestIDGenerator: Sendable {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
    private let prefix: String
    private let counter = Atomic<UInt64>(0)

    init() {
        var seed: UInt32 = 0
        if getrandom(&seed, 4, 0) != 4 { seed = UInt32(truncatingIfNeeded: time(nil)) ^ UInt32(getpid()) }
        let hex = String(seed, radix: 16)
        prefix = String(repeating: "0", count: 8 - hex.count) + hex
    }

    func next() -> String {
        var value = counter.wrappingAdd(1, ordering: .relaxed).newValue
        // prefix (8) + "-" + up to 16 hex digits, written in place: one allocation per id.
        return String(unsafeUninitializedCapacity: 25) { buffer in
            var count = 0
            for byte in prefix.utf8 {
                buffer[count] = byte
                count += 1
            }
            buffer[count] = UInt8(ascii: "-")
            count += 1
            var digits = 1
            var probe = value >> 4
            while probe > 0 {
                digits += 1
                probe >>= 4
            }
            for index in stride(from: count + digits - 1, through: count, by: -1) {
                buffer[index] = Self.hexDigits[Int(value & 0xF)]
                value >>= 4
            }
            return count + digits
        }
    }
}
