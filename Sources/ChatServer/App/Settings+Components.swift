import Blobs
import ChatCore
import HTTPServer
import RemoteFetch
import Storage
import SystemSupport

extension Settings {
    /// The storage layer's view of the `[database]` section.
    var databaseConfiguration: DatabaseConfiguration {
        var configuration = DatabaseConfiguration(path: databasePath)
        configuration.synchronous =
            DatabaseConfiguration.SynchronousMode(rawValue: database.synchronous.rawValue) ?? .normal
        configuration.busyTimeout = Int(database.busyTimeout.milliseconds)
        configuration.readers = database.readers
        if database.checkpointInterval > .zero {
            // The background checkpointer keeps the WAL short; SQLite's own checkpoint is only a safety net for
            // a WAL it cannot keep short (80 MiB).
            configuration.walAutocheckpointPages = 20_000
        }
        return configuration
    }

    /// The HTTP layer's view of `[server]` and `[http]`.
    var httpServerConfiguration: HTTPServerConfiguration {
        var configuration = HTTPServerConfiguration(
            address: SocketAddress(
                host: server.listen.host, port: Int(server.listen.port), family: server.listen.isIPv6 ? .v6 : .v4),
            loops: server.eventLoopCount,
            limits: HTTPLimits(
                maxRequestLineBytes: http.maxRequestLine, maxHeaderBytes: http.maxHeaderBytes,
                maxHeaderCount: http.maxHeaders, maxBodyBytes: http.maxBody),
            maxConnections: server.maxConnections,
            headerTimeout: http.headerTimeout.milliseconds,
            idleTimeout: http.idleTimeout.milliseconds,
            responseTimeout: http.responseTimeout.milliseconds,
            shutdownTimeout: server.shutdownTimeout.milliseconds)
        configuration.webSocketPingInterval = realtime.pingInterval.milliseconds
        return configuration
    }
}

extension Settings {
    /// The account service's view of `[auth]` and `[cache]`.
    var accountPolicy: AccountPolicy {
        AccountPolicy(
            issuer: auth.issuer, audience: auth.audience, accessTokenLifetime: auth.accessTTL,
            refreshTokenLifetime: auth.refreshTTL, bcryptCost: auth.bcryptCost, leeway: auth.leeway,
            userCacheCapacity: cache.users)
    }
}

extension Settings {
    /// The blob store's view of `[blobs]` (presets were validated when the settings loaded).
    var blobPolicy: BlobPolicy {
        var policy = BlobPolicy()
        policy.maxImageBytes = Int64(blobs.maxImageBytes)
        policy.maxVideoBytes = Int64(blobs.maxVideoBytes)
        policy.maxRawBytes = Int64(blobs.maxRawBytes)
        policy.userQuota = Int64(blobs.userQuota)
        policy.maxTimestampAge = blobs.maxTimestampAge.milliseconds / 1000
        policy.chunkExpiry = blobs.chunkExpiry.milliseconds / 1000
        policy.presets = (try? UploadPreset.parseList(blobs.presets).get()) ?? [:]
        return policy
    }

    /// The threads and fetcher for `file=<URL>` uploads, or nil when `[blobs] remote_fetch` is off. Throws when
    /// the CA file cannot be read: better at start than at the first upload.
    func remoteFetchPool() throws -> RemoteFetchPool? {
        guard blobs.remoteFetch else { return nil }
        var configuration = RemoteFetcher.Configuration()
        configuration.policy = AddressPolicy(allowed: blobs.remoteFetchAllow.compactMap(AddressBlock.init))
        configuration.timeout = blobs.remoteFetchTimeout
        configuration.maxRedirects = blobs.remoteFetchMaxRedirects
        configuration.caFile = blobs.remoteFetchCAFile.isEmpty ? nil : blobs.remoteFetchCAFile
        let fetcher: RemoteFetcher
        do {
            fetcher = try RemoteFetcher(configuration: configuration)
        } catch {
            throw UnusableSetting(key: "blobs.remote_fetch_ca_file", problem: error.message)
        }
        return try RemoteFetchPool(fetcher: fetcher, threads: blobs.remoteFetchConcurrency)
    }

    /// The blob directory: `<data_dir>/blobs`.
    var blobsDirectory: String {
        server.dataDir.hasSuffix("/") ? server.dataDir + "blobs" : server.dataDir + "/blobs"
    }
}

extension Settings {
    /// The chat services' view of `[chat]`.
    var chatPolicy: ChatPolicy {
        ChatPolicy(
            dmPolicy: chat.dmPolicy == .anyone ? .anyone : .friends, maxRoomMembers: chat.maxRoomMembers,
            maxMessageBytes: chat.maxMessageBytes, historyPageMax: chat.historyPageMax)
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// A setting that parsed but cannot be used on this machine (a file it names is unreadable, say).
struct UnusableSetting: Error, CustomStringConvertible {
    let key: String
    let problem: String

    var description: String { "\(key): \(problem)" }
}
