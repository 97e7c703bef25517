import SystemSupport

/// What a handler returns: a response available now (the fast path: no task, no continuation, no hop), or a
/// `PendingReply` that some other thread completes later. The connection writes a `.now` response before it
/// reads the next pipelined request; a `.later` one is written on the connection's loop when it arrives.
public enum Reply: Sendable {
    case now(HTTPResponse)
    case later(PendingReply)

    /// Applies `transform` to the response when it is available (middleware post-processing).
    public func map(_ transform: @escaping @Sendable (HTTPResponse) -> HTTPResponse) -> Reply {
        switch self {
        case .now(let response):
            return .now(transform(response))
        case .later(let pending):
            let mapped = PendingReply()
            pending.whenComplete { mapped.complete(transform($0)) }
            return .later(mapped)
        }
    }

    /// Runs `body` as a Swift task; thrown errors become error responses. For handlers that await storage or
    /// other services; the cost of a task is paid only by the routes that use it.
    public static func async(_ body: @escaping @Sendable () async throws -> HTTPResponse) -> Reply {
        let pending = PendingReply()
        Task {
            do {
                pending.complete(try await body())
            } catch {
                pending.complete(ErrorResponse.response(for: error))
            }
        }
        return .later(pending)
    }

    /// Runs `body` on `pool`, for blocking work (file system, bcrypt); thrown errors become error responses.
    public static func blocking(on pool: WorkerPool, _ body: @escaping @Sendable () throws -> HTTPResponse) -> Reply {
        let pending = PendingReply()
        pool.submit {
            do {
                pending.complete(try body())
            } catch {
                pending.complete(ErrorResponse.response(for: error))
            }
        }
        return .later(pending)
    }
}
