import Logging

/// One log line per request: request id, method, path, status, body bytes, duration and peer. Written when the
/// response is ready, so deferred responses are timed to completion.
public struct AccessLogMiddleware: Middleware {
    private let logger = Logger("access")

    public init() {}

    public func handle(_ request: HTTPRequest, context: RequestContext, next: any Responder) throws -> Reply {
        guard logger.isEnabled(.info) else { return next.respond(to: request, context: context) }
        let method = request.method.rawValue
        let target = request.target
        let id = context.requestID
        let peer = context.remoteAddress?.host ?? "-"
        let started = MonotonicClock.nanoseconds()
        let logger = self.logger
        return next.respond(to: request, context: context).map { response in
            let micros = (MonotonicClock.nanoseconds() &- started) / 1000
            let bytes = response.body.knownLength.map(String.init) ?? "-"
            logger.info(
                "request",
                [
                    "request_id": id, "method": method, "path": target, "status": String(response.status.code),
                    "bytes": bytes, "duration_ms": Self.milliseconds(micros), "remote": peer,
                ])
            return response
        }
    }

    /// Microseconds as milliseconds with three decimals, without Foundation's formatting.
    static func milliseconds(_ micros: UInt64) -> String {
        let fraction = String(micros % 1000)
        return String(micros / 1000) + "." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
