import HTTPServer
import Storage
import Synchronization

/// `GET /healthz`: the process is alive and its loops answer. `GET /readyz`: the database accepts a write
/// (a heartbeat row written through the single writer, so a full disk, a read-only file or a wedged writer
/// all turn it 503). Probes are unauthenticated, so at most one heartbeat write is in flight at a time: callers
/// arriving meanwhile share its outcome instead of queueing writes of their own. Nothing is cached beyond
/// that, so readiness follows the database at once.
final class HealthRoutes: Sendable {
    private let writer: DatabaseWriter
    /// How long `/readyz` waits for the writer before answering 503.
    private let readinessTimeout: Int64 = 2_000
    private let probe = Mutex(Probe())

    private struct Probe {
        var waiters: [PendingReply]?
        /// Numbers each heartbeat, so a late timeout or write result only answers its own waiters.
        var generation = 0
    }

    private static let alive = HTTPResponse(
        status: .ok, headers: ["Content-Type": "application/json", "Cache-Control": "no-store"],
        body: .bytes(Array(#"{"status":"ok"}"#.utf8)))

    init(writer: DatabaseWriter) {
        self.writer = writer
    }

    func register(in router: inout Router) {
        router.get("/healthz") { _, _ in .now(Self.alive) }
        router.get("/readyz") { [self] _, context in readiness(context: context) }
    }

    private func readiness(context: RequestContext) -> Reply {
        let pending = PendingReply()
        let generation = probe.withLock { probe -> Int? in
            if probe.waiters != nil {
                probe.waiters?.append(pending)
                return nil
            }
            probe.waiters = [pending]
            probe.generation += 1
            return probe.generation
        }
        if let generation { writeHeartbeat(generation: generation, context: context) }
        return .later(pending)
    }

    private func writeHeartbeat(generation: Int, context: RequestContext) {
        let wallClock = WallClock.milliseconds()
        writer.submit({ db in
            try db.run(
                """
                INSERT INTO server_state(key, value, updated_at) VALUES('heartbeat', ?, ?)
                ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                """, [.text(String(wallClock)), .integer(wallClock)])
        }) { [self] result in
            switch result {
            case .success:
                var response = HTTPResponse.json(["status": "ready"])
                response.headers.set("Cache-Control", "no-store")
                finish(generation, with: response)
            case .failure(let error):
                finish(
                    generation,
                    with: HTTPError(
                        .serviceUnavailable, code: "not_ready",
                        message: "The database does not accept writes: \(error)."
                    ).response)
            }
        }
        let timeout = readinessTimeout
        context.eventLoop.schedule(afterMilliseconds: timeout) { [self] in
            finish(
                generation,
                with: HTTPError(
                    .serviceUnavailable, code: "not_ready",
                    message: "The database did not answer a write within \(timeout) ms."
                ).response)
        }
    }

    /// Answers everyone waiting on heartbeat `generation`; its first outcome wins, and outcomes of older
    /// heartbeats are ignored.
    private func finish(_ generation: Int, with response: HTTPResponse) {
        let waiters = probe.withLock { probe -> [PendingReply] in
            guard probe.generation == generation else { return [] }
            let waiters = probe.waiters ?? []
            probe.waiters = nil
            return waiters
        }
        for waiter in waiters { waiter.complete(response) }
    }
}
