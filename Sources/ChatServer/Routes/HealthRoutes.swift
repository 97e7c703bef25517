import HTTPServer
import Storage

/// `GET /healthz`: the process is alive and its loops answer. `GET /readyz`: the database accepts a write
/// (a heartbeat row written through the single writer, so a full disk, a read-only file or a wedged writer
/// all turn it 503).
struct HealthRoutes {
    let writer: DatabaseWriter
    /// How long `/readyz` waits for the writer before answering 503.
    let readinessTimeout: Int64 = 2_000

    private static let alive = HTTPResponse(
        status: .ok, headers: ["Content-Type": "application/json", "Cache-Control": "no-store"],
        body: .bytes(Array(#"{"status":"ok"}"#.utf8)))

    func register(in router: inout Router) {
        router.get("/healthz") { _, _ in .now(Self.alive) }
        router.get("/readyz") { _, context in readiness(context: context) }
    }

    private func readiness(context: RequestContext) -> Reply {
        let pending = PendingReply()
        let now = WallClock.milliseconds()
        writer.submit({ db in
            try db.run(
                """
                INSERT INTO server_state(key, value, updated_at) VALUES('heartbeat', ?, ?)
                ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                """, [.text(String(now)), .integer(now)])
        }) { result in
            switch result {
            case .success:
                var response = HTTPResponse.json(["status": "ready"])
                response.headers.set("Cache-Control", "no-store")
                pending.complete(response)
            case .failure(let error):
                pending.complete(
                    HTTPError(
                        .serviceUnavailable, code: "not_ready",
                        message: "The database does not accept writes: \(error)."
                    ).response)
            }
        }
        let timeout = readinessTimeout
        context.eventLoop.schedule(afterMilliseconds: timeout) {
            pending.complete(
                HTTPError(
                    .serviceUnavailable, code: "not_ready",
                    message: "The database did not answer a write within \(timeout) ms."
                ).response)
        }
        return .later(pending)
    }
}
