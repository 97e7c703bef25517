import ChatCore
import Security
import Storage
import SystemSupport

/// What the account commands need, opened on the data directory like `serve` does (pending migrations are
/// applied first), and closed in the right order afterwards.
final class AccountsEnvironment {
    let writer: DatabaseWriter
    let readers: DatabaseReaderPool
    let workers: WorkerPool
    let service: AccountService

    init(settings: Settings) throws {
        try DataDirectory.create(settings.server.dataDir)
        writer = try DatabaseWriter(configuration: settings.databaseConfiguration)
        _ = try MigrationCatalog.migrateUp(writer)
        readers = try DatabaseReaderPool(configuration: settings.databaseConfiguration)
        workers = try WorkerPool(threads: 1, name: "cli-worker")
        let keyRing = try KeyRing(directory: settings.keysDirectory)
        service = AccountService(
            writer: writer, readers: readers, keyRing: keyRing, workers: workers, policy: settings.accountPolicy)
    }

    func close() {
        workers.shutdown()
        readers.close()
        writer.close()
    }
}
