import Storage

/// A writer job that also produces the events its change causes. The events are published from the writer's
/// completion, that is after the COMMIT and in commit order (see ``DatabaseWriter``), so clients never hear of
/// a change that did not happen, and hear of a room's messages in `seq` order. A job that throws publishes
/// nothing.
struct RealtimeWrite {
    let writer: DatabaseWriter
    let events: any PubSub

    /// The events a job collects while it runs.
    final class Outbox: @unchecked Sendable {
        // Only touched by the job, on the writer thread, and read after it returned.
        private(set) var events: [RealtimeEvent] = []

        func post(_ event: RealtimeEvent) { events.append(event) }
    }

    private struct Outcome<T: Sendable>: Sendable {
        var value: T
        var outbox: Outbox
    }

    func callAsFunction<T: Sendable>(
        _ job: @escaping @Sendable (Database, Outbox) throws -> T
    ) async throws -> T {
        let events = self.events
        return try await withCheckedThrowingContinuation { continuation in
            writer.submit({ db in
                let outbox = Outbox()
                return Outcome(value: try job(db, outbox), outbox: outbox)
            }) { result in
                switch result {
                case .success(let outcome):
                    for event in outcome.outbox.events { events.publish(event) }
                    continuation.resume(returning: outcome.value)
                case .failure(let error):
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
