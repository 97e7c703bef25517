import Glibc
import HTTPServer
import Logging
import Storage
import SystemSupport

/// The running server: database (one writer, a pool of readers), worker pool, routes and the HTTP server,
/// wired from `Settings`. The executable only parses arguments and calls this.
public final class ChatApplication: Sendable {
    public let settings: Settings
    let writer: DatabaseWriter
    let readers: DatabaseReaderPool
    let workers: WorkerPool
    let server: HTTPServer
    private let logger = Logger("chat")

    /// Opens (and unless `migrate` is false, migrates) the database and builds the server. Nothing listens
    /// until `start`.
    public init(settings: Settings, migrate: Bool = true) throws {
        self.settings = settings
        try DataDirectory.create(settings.server.dataDir)
        let database = settings.databaseConfiguration
        writer = try DatabaseWriter(configuration: database, maximumBatchSize: settings.database.batchMax)
        if migrate {
            let applied = try MigrationCatalog.migrateUp(writer)
            for migration in applied {
                logger.info("migration applied", ["version": String(migration.version), "name": migration.name])
            }
        }
        readers = try DatabaseReaderPool(configuration: database)
        workers = try WorkerPool(threads: settings.server.workerCount)
        server = HTTPServer(
            configuration: settings.httpServerConfiguration,
            responder: Self.responder(settings: settings, writer: writer, workers: workers))
    }

    private static func responder(settings: Settings, writer: DatabaseWriter, workers: WorkerPool) -> any Responder {
        var router = Router()
        HealthRoutes(writer: writer).register(in: &router)
        if let directory = settings.server.staticDir, !directory.isEmpty {
            StaticRoutes(handler: StaticFileHandler(root: directory), workers: workers).register(in: &router)
        }
        var middleware: [any Middleware] = [RequestIDMiddleware(headerName: settings.http.requestIDHeader)]
        if settings.log.access { middleware.append(AccessLogMiddleware()) }
        if !settings.cors.allowedOrigins.isEmpty {
            middleware.append(CORSMiddleware(allowedOrigins: settings.cors.allowedOrigins))
        }
        return MiddlewareChain(middleware, responder: router)
    }

    /// Binds the listening sockets and starts the event loops.
    public func start() throws {
        try server.start()
        logger.info(
            "listening",
            [
                "address": server.localAddress?.description ?? "?", "loops": String(server.configuration.loops),
                "workers": String(workers.size), "database": settings.databasePath,
            ])
    }

    /// The bound address (with the real port when listening on port 0).
    public var localAddress: String? { server.localAddress?.description }

    /// Begins a graceful shutdown; `waitUntilStopped` returns when it is complete.
    public func shutdown() {
        logger.info("shutting down", ["timeout_ms": String(server.configuration.shutdownTimeout)])
        server.shutdown()
    }

    /// Waits for the HTTP server to stop, then drains the worker pool and closes the database (pending writes
    /// are committed first).
    public func waitUntilStopped() {
        server.waitUntilStopped()
        workers.shutdown()
        readers.close()
        writer.close()
        logger.info("stopped")
        LogSystem.flush()
    }
}
