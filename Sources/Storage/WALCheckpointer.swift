import Dispatch
import Synchronization
import SystemSupport

/// Checkpoints the WAL on a thread of its own, so the single writer never stalls on it.
///
/// By default SQLite checkpoints inside the commit that crosses `wal_autocheckpoint` pages: that commit copies
/// the WAL back into the database file and fsyncs it, and every write queued behind it waits (up to 126 ms per
/// checkpoint measured under bench/ws.sh, 3–4 checkpoints a second at 5,000 messages/s). Here a separate
/// connection runs `PRAGMA wal_checkpoint(PASSIVE)` every `interval`; a passive checkpoint never blocks the
/// writer or readers and copies what it can. The writer keeps a large `wal_autocheckpoint` only as a safety net
/// for a WAL this thread cannot keep short (long-lived readers).
///
/// A checkpointed WAL is rewound: later commits overwrite its frames instead of growing the file.
/// Related SQLite documentation: <https://www.sqlite.org/wal.html#ckpt>,
/// <https://www.sqlite.org/pragma.html#pragma_wal_checkpoint>
public final class WALCheckpointer: Sendable {
    private let wakeUp = DispatchSemaphore(value: 0)
    private let closed = Atomic<Bool>(false)
    private let exited = DispatchGroup()
    /// Checkpoints run, and those that failed (for tests and metrics).
    public let checkpoints = Atomic<Int>(0)
    public let failures = Atomic<Int>(0)

    /// Opens a connection of its own to `configuration.path` and starts checkpointing every `interval`.
    public init(configuration: DatabaseConfiguration, interval: Duration) throws {
        let db = try Database(configuration: configuration)
        let (seconds, attoseconds) = interval.components
        let nanoseconds = max(1_000_000, Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
        let connection = UncheckedConnection(db)
        exited.enter()
        do {
            try NativeThread.start(name: "chat-db-checkpoint") { [self] in
                let db = connection.db
                while !closed.load(ordering: .acquiring) {
                    _ = wakeUp.wait(timeout: .now() + .nanoseconds(nanoseconds))
                    if closed.load(ordering: .acquiring) { break }
                    do {
                        _ = try db.queryOne("PRAGMA wal_checkpoint(PASSIVE)")
                        checkpoints.add(1, ordering: .relaxed)
                    } catch {
                        failures.add(1, ordering: .relaxed)
                    }
                }
                exited.leave()
            }.detach()
        } catch {
            exited.leave()
            throw error
        }
    }

    /// Stops the thread and waits for it (its connection closes with it).
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wakeUp.signal()
        exited.wait()
    }

    deinit {
        close()
    }

    /// The connection handed to the thread, which alone uses it from then on.
    private struct UncheckedConnection: @unchecked Sendable {
        let db: Database
        init(_ db: Database) { self.db = db }
    }
}
