import HTTPServer
import Storage
import Synchronization

/// `GET /healthz`: the process is alive and its loops answer. `GET /readyz`: the database accepts a write
/// (a heartbeat row written through the single writer, so a full disk, a file-size limit, a read-only file or a
/// wedged writer all turn it 503). Every heartbeat changes the row's bytes (see ``writeHeartbeat(_:at:)``), so
/// its commit must write to the database files. Probes are unauthenticated, so at most one heartbeat write is in
/// flight at a time: callers arriving meanwhile share its outcome instead of queueing writes of their own.
/// Nothing is cached beyond that, so readiness follows the database at once.
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
        writer.submit({ db in try Self.writeHeartbeat(db, at: wallClock) }) { [self] result in
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

    /// Writes the heartbeat row: `value` counts heartbeats, `updated_at` is `now` (unix milliseconds).
    ///
    /// The count is what makes this a real write test. SQLite skips a row update whose new bytes equal the old
    /// ones (no page is dirtied), and a COMMIT with no dirty page writes nothing at all, so it succeeds on a
    /// database that cannot take a single write. Storing only the wall-clock time is not enough: two probes within
    /// the same millisecond store the same bytes, and the second would answer 200 (with `RLIMIT_FSIZE` = 0, where
    /// every `pwrite` fails with EFBIG, the end-to-end test saw it about once in ten runs). Incrementing the stored
    /// value changes the row on every call, whatever the clock says, so the commit always has a WAL frame to write.
    static func writeHeartbeat(_ db: Database, at now: Int64) throws {
        try db.run(
            """
            INSERT INTO server_state(key, value, updated_at) VALUES('heartbeat', '1', ?)
            ON CONFLICT(key) DO UPDATE SET
                value = CAST(CAST(server_state.value AS INTEGER) + 1 AS TEXT), updated_at = excluded.updated_at
            """, [.integer(now)])
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
