import Blobs
import ChatCore
import Glibc
import HTTPServer
import Logging
import Security
import Storage
import SystemSupport

/// The running server: database (one writer, a pool of readers), worker pool, routes and the HTTP server,
/// wired from `Settings`. The executable only parses arguments and calls this.
public final class ChatApplication: Sendable {
    public let settings: Settings
    let writer: DatabaseWriter
    let readers: DatabaseReaderPool
    let workers: WorkerPool
    let checkpointer: WALCheckpointer?
    let server: HTTPServer
    /// Every registered route (method and pattern), for the API documentation and its drift test.
    public let routes: [Router.Route]
    let accounts: AccountService
    /// Realtime: committed changes travel from the services through `events` to the hub, which fans them out
    /// to WebSocket connections; presence follows the hub's connections.
    let events: any PubSub
    let hub: RealtimeHub
    let presence: PresenceService
    let blobs: BlobService
    /// Threads for `file=<URL>` uploads; nil when `[blobs] remote_fetch` is off.
    let remoteFetch: RemoteFetchPool?
    private let maintenance: Task<Void, Never>
    private let watcher: Task<Void, Never>
    private let logger = Logger("chat")

    /// Opens (and unless `migrate` is false, migrates) the database and builds the server. Nothing listens
    /// until `start`.
    public init(settings: Settings, migrate: Bool = true, webSocketEchoPath: String? = nil) throws {
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
        checkpointer =
            settings.database.checkpointInterval > .zero
            ? try WALCheckpointer(configuration: database, interval: settings.database.checkpointInterval) : nil
        workers = try WorkerPool(threads: settings.server.workerCount)
        let keyRing = try KeyRing(directory: settings.keysDirectory)
        let accounts = AccountService(
            writer: writer, readers: readers, keyRing: keyRing, workers: workers, policy: settings.accountPolicy)
        // Tokens revoked before a restart must stay revoked from the first request on. Without the schema
        // (`--no-migrate` on a new database) there is nothing to load; /readyz reports that state.
        do {
            try runBlocking { try await accounts.loadRevocations() }
        } catch {
            Logger("chat").warn("revoked tokens not loaded", ["error": String(describing: error)])
        }
        self.accounts = accounts
        let events = LocalPubSub()
        let tracker = PresenceTracker(grace: settings.realtime.presenceGrace)
        presence = PresenceService(
            tracker: tracker, writer: writer, readers: readers, events: events,
            audienceRoomLimit: settings.realtime.presenceRoomLimit)
        hub = RealtimeHub(
            events: events, encoder: RealtimeFrameEncoder(), presence: tracker,
            typingTimeout: settings.realtime.typingTimeout)
        hub.start()
        self.events = events
        accounts.onAccessEnded { userID, sessionIDs in
            events.publish(.accessEnded(userID: userID, sessionIDs: sessionIDs))
        }
        let blobFiles = try BlobFileStore(root: settings.blobsDirectory)
        // Temp files of uploads cut off by a crash or a stop; chunked uploads resume from their rows' offsets,
        // so only files older than their expiry go.
        _ = try? blobFiles.sweepTemporaryFiles(
            olderThan: settings.blobs.chunkExpiry.milliseconds / 1000, now: AccountService.systemClock() / 1000)
        let credentials = try BlobCredentials.loadOrCreate(
            blobsDirectory: settings.blobsDirectory, cloudName: settings.blobs.cloudName,
            apiKey: settings.blobs.apiKey.isEmpty ? nil : settings.blobs.apiKey,
            apiSecret: settings.blobs.apiSecret.isEmpty ? nil : settings.blobs.apiSecret)
        blobs = BlobService(
            credentials: credentials, policy: settings.blobPolicy, files: blobFiles, writer: writer, readers: readers,
            clock: AccountService.systemClock)
        // Chunked uploads abandoned while the server was down: their rows and partial files go before any
        // chunk can arrive for them.
        let blobs = self.blobs
        do {
            _ = try runBlocking { try await blobs.expireChunkedUploads() }
        } catch {
            logger.warn("expired chunked uploads not removed", ["error": String(describing: error)])
        }
        remoteFetch = try settings.remoteFetchPool()
        var httpConfiguration = settings.httpServerConfiguration
        let policy = settings.blobPolicy
        httpConfiguration.streamedBodies = { CloudinaryRoutes.streamedBodyLimit($0, policy: policy) }
        let (responder, routes) = Self.responder(
            settings: settings, writer: writer, readers: readers, workers: workers, accounts: accounts,
            realtime: (events, hub, presence), blobs: blobs, remoteFetch: remoteFetch,
            webSocketEchoPath: webSocketEchoPath)
        self.routes = routes
        server = HTTPServer(configuration: httpConfiguration, responder: responder)
        maintenance = Self.startMaintenance(accounts: accounts, blobs: blobs)
        watcher = Self.watchOtherProcesses(keyRing, accounts: accounts, workers: workers)
    }

    private static func responder(
        settings: Settings, writer: DatabaseWriter, readers: DatabaseReaderPool, workers: WorkerPool,
        accounts: AccountService, realtime: (events: any PubSub, hub: RealtimeHub, presence: PresenceService),
        blobs: BlobService, remoteFetch: RemoteFetchPool?, webSocketEchoPath: String?
    ) -> (any Responder, [Router.Route]) {
        var router = Router()
        if let path = webSocketEchoPath, !path.isEmpty {
            WebSocketEchoRoute(path: path).register(in: &router)
        }
        HealthRoutes(writer: writer).register(in: &router)
        DocsRoutes(settings: settings.docs, workers: workers).register(in: &router)
        let limits = settings.rateLimit
        let auth = BearerAuthentication(
            service: accounts,
            apiBudget: RateLimiter(
                capacity: limits.apiPerMinute, refillPerSecond: Double(limits.apiPerMinute) / 60,
                maxEntries: limits.maxEntries))
        let access = RoomAccess(readers: readers, capacity: settings.cache.users)
        let policy = settings.chatPolicy
        let events = realtime.events
        let rooms = RoomService(writer: writer, readers: readers, access: access, policy: policy, events: events)
        let urls = DeliveryURLs(
            service: blobs, attachmentTTL: max(settings.blobs.attachmentURLTTL.milliseconds / 1000, 1))
        let messages = MessageService(
            writer: writer, readers: readers, access: access, policy: policy, events: events,
            links: AttachmentLinks { urls.path(of: $0) })
        AccountRoutes(
            service: accounts,
            rooms: rooms,
            auth: auth,
            loginLimiter: RateLimiter(
                capacity: limits.loginPerMinute, refillPerSecond: Double(limits.loginPerMinute) / 60,
                maxEntries: limits.maxEntries),
            registerLimiter: RateLimiter(
                capacity: limits.registerPerHour, refillPerSecond: Double(limits.registerPerHour) / 3600,
                maxEntries: limits.maxEntries),
            avatarPath: { publicID, userID in
                let owned = try await blobs.ownedAssets(publicIDs: [publicID], ownerUserID: userID)
                guard let asset = owned[publicID], asset.resourceType == .image else {
                    throw HTTPError(
                        .unprocessableEntity, code: "validation_failed", message: "Some fields are invalid.",
                        fields: ["avatar_public_id": "must be one of your image uploads"])
                }
                // An avatar is public (`type=upload`): profiles are shown to anyone who can see the user.
                return DeliveryURLs(service: blobs).path(of: try await blobs.makePublic(asset))
            }
        ).register(in: &router)
        SocialRoutes(
            social: SocialService(writer: writer, readers: readers, access: access, events: events), auth: auth
        ).register(in: &router)
        RoomRoutes(rooms: rooms, messages: messages, auth: auth).register(in: &router)
        RealtimeRoutes(
            context: RealtimeContext(
                hub: realtime.hub, messages: messages, rooms: rooms, accounts: accounts, settings: settings.realtime),
            tickets: WebSocketTickets(ttl: settings.realtime.ticketTTL.milliseconds),
            presence: realtime.presence, auth: auth, allowedOrigins: settings.cors.allowedOrigins
        ).register(in: &router)
        var staticFallback: Handler?
        if let directory = settings.server.staticDir, !directory.isEmpty {
            let handler = StaticFileHandler(root: directory)
            StaticRoutes(handler: handler, workers: workers).register(in: &router)
            staticFallback = { request, _ in .blocking(on: workers) { handler.respond(to: request) } }
        }
        let cloudinary = CloudinaryRoutes(
            service: blobs, workers: workers,
            limiter: RateLimiter(
                capacity: limits.apiPerMinute, refillPerSecond: Double(limits.apiPerMinute) / 60,
                maxEntries: limits.maxEntries),
            fallback: staticFallback, remoteFetch: remoteFetch)
        cloudinary.register(in: &router)
        UploadRoutes(cloudinary: cloudinary, auth: auth).register(in: &router)
        let proxies = settings.security.trustedProxies.compactMap(AddressBlock.init)
        var middleware: [any Middleware] = [
            ClientAddressMiddleware(trustedProxies: proxies),
            RequestIDMiddleware(headerName: settings.http.requestIDHeader),
        ]
        if settings.log.access { middleware.append(AccessLogMiddleware()) }
        middleware.append(SecurityHeadersMiddleware())
        if !settings.cors.allowedOrigins.isEmpty {
            middleware.append(CORSMiddleware(allowedOrigins: settings.cors.allowedOrigins))
        }
        return (MiddlewareChain(middleware, responder: router), router.routes)
    }

    /// Every five seconds, what the `chat` command line changed in another process:
    /// - signing keys from `chat keys rotate` or `prune` (a small file read on the worker pool when nothing
    ///   changed), so a rotation takes effect without a restart;
    /// - sessions revoked and accounts disabled or deleted (two indexed reads), so their WebSockets close as
    ///   those ended here do. The window overlaps the last by ten seconds: a change committed a little after
    ///   the time it carries is still seen, and nothing is reported twice.
    private static func watchOtherProcesses(
        _ keyRing: KeyRing, accounts: AccountService, workers: WorkerPool
    ) -> Task<Void, Never> {
        Task.detached {
            let logger = Logger("auth")
            var since = AccountService.systemClock() - 10_000
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: .seconds(5))
                    if try await workers.run({ try keyRing.reloadIfChanged() }) {
                        logger.info("signing keys reloaded", ["active_kid": keyRing.active.kid])
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.warn("signing keys not reloaded", ["error": String(describing: error)])
                }
                let now = AccountService.systemClock()
                do {
                    try await accounts.publishAccessEnded(since: since)
                    since = now - 10_000
                } catch {
                    logger.warn("ended sessions not checked", ["error": String(describing: error)])
                }
            }
        }
    }

    /// Every ten minutes: forget expired refresh tokens and revoked token ids, and remove abandoned chunked uploads.
    private static func startMaintenance(accounts: AccountService, blobs: BlobService) -> Task<Void, Never> {
        Task.detached {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: .seconds(600))
                    _ = try await accounts.pruneExpired()
                    try await blobs.expireChunkedUploads()
                } catch is CancellationError {
                    return
                } catch {
                    Logger("chat").warn("pruning expired tokens failed", ["error": String(describing: error)])
                }
            }
        }
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
        // Users still online are "last seen" now: after a restart, presence starts from there.
        let presence = self.presence
        try? runBlocking { await presence.stampOnlineUsers(at: AccountService.systemClock()) }
        presence.stop()
        maintenance.cancel()
        watcher.cancel()
        workers.shutdown()
        remoteFetch?.threads.shutdown()
        checkpointer?.close()
        readers.close()
        writer.close()
        logger.info("stopped")
        LogSystem.flush()
    }
}
