import Dispatch
import Foundation
import Storage
import Synchronization
import Testing

/// Runs `body` with a fresh empty directory, removed afterwards.
@discardableResult
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// Async variant of ``withTemporaryDirectory(_:)``.
@discardableResult
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

private func makeTemporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("storage-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func configuration(in directory: String, readers: Int = 2) -> DatabaseConfiguration {
    var configuration = DatabaseConfiguration(path: directory + "/test.db")
    configuration.readers = readers
    return configuration
}

/// Waits for `semaphore`, failing the test instead of hanging forever if the code under test
/// deadlocks. The bound is a safety net, far above any expected duration; nothing asserts timing.
func waitOrFail(_ semaphore: DispatchSemaphore, _ what: String, sourceLocation: SourceLocation = #_sourceLocation)
    throws
{
    let result = semaphore.wait(timeout: .now() + .seconds(60))
    try #require(result == .success, "timed out waiting for \(what)", sourceLocation: sourceLocation)
}

/// Same safety net for a group.
func waitOrFail(_ group: DispatchGroup, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let result = group.wait(timeout: .now() + .seconds(60))
    try #require(result == .success, "timed out waiting for \(what)", sourceLocation: sourceLocation)
}

/// Collects values from several threads.
final class Recorder<Value: Sendable>: Sendable {
    private let storage = Mutex<[Value]>([])

    func append(_ value: Value) {
        storage.withLock { $0.append(value) }
    }

    var values: [Value] { storage.withLock { $0 } }
}

/// Holds the writer thread inside a job until `release()`, so that jobs submitted meanwhile queue
/// up and are deterministically taken together as the next batch. Released on deinit too, so a
/// failing test does not leave the writer thread stuck (its close would then hang).
final class WriterBlocker {
    private let releaseSemaphore = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private var isReleased = false

    init(_ writer: DatabaseWriter) throws {
        let started = DispatchSemaphore(value: 0)
        let release = releaseSemaphore
        let finished = finished
        writer.submit({ _ in
            started.signal()
            release.wait()
        }) { _ in finished.signal() }
        try waitOrFail(started, "the blocking job to start")
    }

    /// Lets the blocking job finish and waits for its completion.
    func release() throws {
        isReleased = true
        releaseSemaphore.signal()
        try waitOrFail(finished, "the blocking job to complete")
    }

    deinit {
        if !isReleased {
            releaseSemaphore.signal()
        }
    }
}

struct TestError: Error, Equatable {
    let id: Int
}

func count(_ table: String, in db: Database) throws -> Int {
    try db.queryOne("SELECT count(*) FROM \(table)")?[0].int ?? -1
}
