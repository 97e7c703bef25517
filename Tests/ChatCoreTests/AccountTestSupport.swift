import Foundation
import Security
import Storage
import Synchronization
import SystemSupport
import Testing

@testable import ChatCore

/// The repository's migrations directory, found from this file's location.
let migrationsDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("migrations").path

/// A clock the test moves by hand (unix milliseconds).
final class TestClock: Sendable {
    private let current: Atomic<Int64>

    init(_ start: Int64 = 1_800_000_000_000) {
        current = Atomic(start)
    }

    var now: Int64 { current.load(ordering: .relaxed) }

    func advance(milliseconds: Int64) {
        current.add(milliseconds, ordering: .relaxed)
    }

    func advance(seconds: Int64) {
        advance(milliseconds: seconds * 1000)
    }
}

/// One signing key for the whole test run: generating RSA keys is slow and the tests need not differ.
let sharedKeyRing: KeyRing = {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("chatcore-keys-\(UUID().uuidString)").path
    do {
        let keyRing = try KeyRing(directory: directory)
        // The keys are in memory now; the tests never rotate, so the files can go at once.
        try? FileManager.default.removeItem(atPath: directory)
        return keyRing
    } catch {
        fatalError("cannot create the test key ring: \(error)")
    }
}()

/// A service over a fresh migrated database in a temporary directory, with bcrypt cost 4, a two-thread
/// worker pool and a hand-moved clock.
final class AccountFixture: Sendable {
    let directory: String
    let writer: DatabaseWriter
    let readers: DatabaseReaderPool
    let workers: WorkerPool
    let clock: TestClock
    let service: AccountService
    let policy: AccountPolicy

    static let testPolicy = AccountPolicy(bcryptCost: 4)

    init(policy: AccountPolicy = AccountFixture.testPolicy) throws {
        directory =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("chatcore-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var configuration = DatabaseConfiguration(path: directory + "/chat.db")
        configuration.readers = 2
        writer = try DatabaseWriter(configuration: configuration)
        let migrator = try Migrator(directory: migrationsDirectory)
        try writer.writeWithoutTransactionSync { db in _ = try migrator.up(db) }
        readers = try DatabaseReaderPool(configuration: configuration)
        workers = try WorkerPool(threads: 2, name: "test-bcrypt")
        let clock = TestClock()
        self.clock = clock
        self.policy = policy
        service = AccountService(
            writer: writer, readers: readers, keyRing: sharedKeyRing, workers: workers, policy: policy,
            clock: { clock.now })
    }

    /// A second service on the same database, as another process (the CLI) would have: its own caches.
    func otherProcess(policy: AccountPolicy? = nil) -> AccountService {
        let clock = clock
        return AccountService(
            writer: writer, readers: readers, keyRing: sharedKeyRing, workers: workers, policy: policy ?? self.policy,
            clock: { clock.now })
    }

    func close() {
        readers.close()
        writer.close()
        workers.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    static let client = ClientInfo(ip: "192.0.2.1", device: "test-agent/1.0")

    /// Registers `name` with `<name>@example.com` and password `<name>-password`.
    @discardableResult
    func register(_ name: String, displayName: String? = nil) async throws -> AuthResult {
        try await service.register(
            username: name, email: "\(name)@example.com", password: "\(name)-password", displayName: displayName,
            client: Self.client)
    }

    func login(_ name: String) async throws -> AuthResult {
        try await service.login(login: name, password: "\(name)-password", client: Self.client)
    }

    func read<T: Sendable>(_ job: @escaping @Sendable (Database) throws -> T) throws -> T {
        try readers.readSync(job)
    }
}

/// Runs `body` with a fresh fixture, closed afterwards.
func withAccounts(
    policy: AccountPolicy = AccountFixture.testPolicy, _ body: (AccountFixture) async throws -> Void
) async throws {
    let fixture = try AccountFixture(policy: policy)
    defer { fixture.close() }
    try await body(fixture)
}

/// The error `body` throws, or nil if it returns.
func accountError<T>(_ body: () async throws -> T) async -> AccountError? {
    do {
        _ = try await body()
        return nil
    } catch let error as AccountError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

extension CachedAuthentication {
    var principal: Principal? {
        if case .valid(let principal) = self { return principal }
        return nil
    }

    var isInvalid: Bool {
        if case .invalid = self { return true }
        return false
    }
}
