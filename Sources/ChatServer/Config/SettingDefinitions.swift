import Blobs
import Logging

/// One setting as the config file, the environment and flags see it: its `section.key`, the command-line
/// flag that sets it (if any), and how a textual value is validated and stored.
struct SettingDefinition: Sendable {
    let key: String
    /// The long option, without dashes, that maps to this key (`listen` for `server.listen`).
    let flag: String?
    let apply: @Sendable (inout Settings, String) throws(SettingValueError) -> Void

    init(
        _ key: String, flag: String? = nil,
        _ apply: @escaping @Sendable (inout Settings, String) throws(SettingValueError) -> Void
    ) {
        self.key = key
        self.flag = flag
        self.apply = apply
    }

    var section: Substring { key.prefix { $0 != "." } }

    /// `CHAT_<SECTION>_<KEY>`, e.g. `CHAT_HTTP_MAX_BODY`.
    var environmentVariable: String {
        Settings.environmentPrefix + key.uppercased().map { $0 == "." ? "_" : $0 }
    }
}

extension Settings {
    static let environmentPrefix = "CHAT_"

    /// The table behind file keys, environment variables and flags. Keep `chat.conf.example` in step:
    /// a test checks that it lists every key here with its default.
    static let definitions: [SettingDefinition] = [
        SettingDefinition("server.listen", flag: "listen") { settings, text throws(SettingValueError) in
            settings.server.listen = try SettingValue.listenAddress(text)
        },
        SettingDefinition("server.loops", flag: "loops") { settings, text throws(SettingValueError) in
            settings.server.loops = try SettingValue.integer(text, in: 0...256)
        },
        SettingDefinition("server.data_dir", flag: "data-dir") { settings, text throws(SettingValueError) in
            settings.server.dataDir = try SettingValue.nonEmptyPath(text)
        },
        SettingDefinition("server.static_dir", flag: "static-dir") { settings, text throws(SettingValueError) in
            settings.server.staticDir = text.isEmpty ? nil : try SettingValue.nonEmptyPath(text)
        },
        SettingDefinition("server.max_connections") { settings, text throws(SettingValueError) in
            settings.server.maxConnections = try SettingValue.integer(text, in: 1...1_048_576)
        },
        SettingDefinition("server.workers") { settings, text throws(SettingValueError) in
            settings.server.workers = try SettingValue.integer(text, in: 0...1024)
        },
        SettingDefinition("server.shutdown_timeout") { settings, text throws(SettingValueError) in
            settings.server.shutdownTimeout = try SettingValue.duration(text)
        },

        SettingDefinition("http.max_body") { settings, text throws(SettingValueError) in
            settings.http.maxBody = try SettingValue.size(text, in: 0...(1 << 40))
        },
        SettingDefinition("http.max_request_line") { settings, text throws(SettingValueError) in
            settings.http.maxRequestLine = try SettingValue.size(text, in: 64...(1 << 20))
        },
        SettingDefinition("http.max_header_bytes") { settings, text throws(SettingValueError) in
            settings.http.maxHeaderBytes = try SettingValue.size(text, in: 256...(16 << 20))
        },
        SettingDefinition("http.max_headers") { settings, text throws(SettingValueError) in
            settings.http.maxHeaders = try SettingValue.integer(text, in: 1...10_000)
        },
        SettingDefinition("http.header_timeout") { settings, text throws(SettingValueError) in
            settings.http.headerTimeout = try SettingValue.duration(text, allowZero: false)
        },
        SettingDefinition("http.idle_timeout") { settings, text throws(SettingValueError) in
            settings.http.idleTimeout = try SettingValue.duration(text, allowZero: false)
        },
        SettingDefinition("http.response_timeout") { settings, text throws(SettingValueError) in
            settings.http.responseTimeout = try SettingValue.duration(text, allowZero: false)
        },
        SettingDefinition("http.request_id_header") { settings, text throws(SettingValueError) in
            settings.http.requestIDHeader = try SettingValue.headerName(text)
        },

        SettingDefinition("database.path") { settings, text throws(SettingValueError) in
            settings.database.path = text.isEmpty ? "" : try SettingValue.nonEmptyPath(text)
        },
        SettingDefinition("database.synchronous") { settings, text throws(SettingValueError) in
            settings.database.synchronous = try SettingValue.choice(
                text, Settings.Database.Synchronous.init(rawValue:),
                among: Settings.Database.Synchronous.allCases.map(\.rawValue))
        },
        SettingDefinition("database.busy_timeout") { settings, text throws(SettingValueError) in
            settings.database.busyTimeout = try SettingValue.duration(text, plainUnit: .milliseconds)
        },
        SettingDefinition("database.readers") { settings, text throws(SettingValueError) in
            settings.database.readers = try SettingValue.integer(text, in: 1...64)
        },
        SettingDefinition("database.batch_max") { settings, text throws(SettingValueError) in
            settings.database.batchMax = try SettingValue.integer(text, in: 1...65_536)
        },

        SettingDefinition("database.checkpoint_interval") { settings, text throws(SettingValueError) in
            settings.database.checkpointInterval = try SettingValue.duration(text)
        },
        SettingDefinition("log.level", flag: "log-level") { settings, text throws(SettingValueError) in
            // `warning` is accepted too, but the documented spellings are the four level names.
            settings.log.level = try SettingValue.choice(
                text, LogLevel.init, among: LogLevel.allCases.map(\.description))
        },
        SettingDefinition("log.format", flag: "log-format") { settings, text throws(SettingValueError) in
            settings.log.format = try SettingValue.choice(
                text, LogFormat.init(rawValue:), among: LogFormat.allCases.map(\.rawValue))
        },
        SettingDefinition("log.access") { settings, text throws(SettingValueError) in
            settings.log.access = try SettingValue.bool(text)
        },

        SettingDefinition("cors.allowed_origins") { settings, text throws(SettingValueError) in
            settings.cors.allowedOrigins = try SettingValue.origins(text)
        },

        SettingDefinition("auth.issuer") { settings, text throws(SettingValueError) in
            settings.auth.issuer = try SettingValue.name(text)
        },
        SettingDefinition("auth.audience") { settings, text throws(SettingValueError) in
            settings.auth.audience = try SettingValue.name(text)
        },
        SettingDefinition("auth.access_ttl") { settings, text throws(SettingValueError) in
            settings.auth.accessTTL = try SettingValue.duration(text, allowZero: false)
        },
        SettingDefinition("auth.refresh_ttl") { settings, text throws(SettingValueError) in
            settings.auth.refreshTTL = try SettingValue.duration(text, allowZero: false)
        },
        SettingDefinition("auth.bcrypt_cost") { settings, text throws(SettingValueError) in
            settings.auth.bcryptCost = try SettingValue.integer(text, in: 4...31)
        },
        SettingDefinition("auth.leeway") { settings, text throws(SettingValueError) in
            settings.auth.leeway = try SettingValue.duration(text)
        },
        SettingDefinition("auth.keys_dir") { settings, text throws(SettingValueError) in
            settings.auth.keysDir = text.isEmpty ? "" : try SettingValue.nonEmptyPath(text)
        },

        SettingDefinition("rate_limit.login_per_minute") { settings, text throws(SettingValueError) in
            settings.rateLimit.loginPerMinute = try SettingValue.integer(text, in: 1...1_000_000)
        },
        SettingDefinition("rate_limit.register_per_hour") { settings, text throws(SettingValueError) in
            settings.rateLimit.registerPerHour = try SettingValue.integer(text, in: 1...1_000_000)
        },
        SettingDefinition("rate_limit.api_per_minute") { settings, text throws(SettingValueError) in
            settings.rateLimit.apiPerMinute = try SettingValue.integer(text, in: 1...10_000_000)
        },
        SettingDefinition("rate_limit.max_entries") { settings, text throws(SettingValueError) in
            settings.rateLimit.maxEntries = try SettingValue.integer(text, in: 100...100_000_000)
        },

        SettingDefinition("security.trusted_proxies") { settings, text throws(SettingValueError) in
            settings.security.trustedProxies = try SettingValue.addressBlocks(text)
        },

        SettingDefinition("chat.dm_policy") { settings, text throws(SettingValueError) in
            settings.chat.dmPolicy = try SettingValue.choice(
                text, Settings.Chat.DMPolicy.init(rawValue:), among: Settings.Chat.DMPolicy.allCases.map(\.rawValue))
        },
        SettingDefinition("chat.max_room_members") { settings, text throws(SettingValueError) in
            settings.chat.maxRoomMembers = try SettingValue.integer(text, in: 2...1_000_000)
        },
        SettingDefinition("chat.max_message_bytes") { settings, text throws(SettingValueError) in
            settings.chat.maxMessageBytes = try SettingValue.size(text, in: 1...(1 << 20))
        },
        SettingDefinition("chat.history_page_max") { settings, text throws(SettingValueError) in
            settings.chat.historyPageMax = try SettingValue.integer(text, in: 1...10_000)
        },

        SettingDefinition("cache.users") { settings, text throws(SettingValueError) in
            settings.cache.users = try SettingValue.integer(text, in: 16...10_000_000)
        },

        SettingDefinition("blobs.cloud_name") { settings, text throws(SettingValueError) in
            guard BlobCredentials.isValidCloudName(text) else {
                throw SettingValueError(expected: "2 to 128 letters, digits or -, starting with a letter")
            }
            settings.blobs.cloudName = text
        },
        SettingDefinition("blobs.api_key") { settings, text throws(SettingValueError) in
            guard text.isEmpty || BlobCredentials.isValidKeyOrSecret(text) else {
                throw SettingValueError(expected: "letters, digits, - or _ (empty: generated)")
            }
            settings.blobs.apiKey = text
        },
        SettingDefinition("blobs.api_secret") { settings, text throws(SettingValueError) in
            guard text.isEmpty || BlobCredentials.isValidKeyOrSecret(text) else {
                throw SettingValueError(expected: "letters, digits, - or _ (empty: generated)")
            }
            settings.blobs.apiSecret = text
        },
        SettingDefinition("blobs.max_image_bytes") { settings, text throws(SettingValueError) in
            settings.blobs.maxImageBytes = try SettingValue.size(text, in: 1...(1 << 40))
        },
        SettingDefinition("blobs.max_video_bytes") { settings, text throws(SettingValueError) in
            settings.blobs.maxVideoBytes = try SettingValue.size(text, in: 1...(1 << 40))
        },
        SettingDefinition("blobs.max_raw_bytes") { settings, text throws(SettingValueError) in
            settings.blobs.maxRawBytes = try SettingValue.size(text, in: 1...(1 << 40))
        },
        SettingDefinition("blobs.presets") { settings, text throws(SettingValueError) in
            if case .failure(let error) = UploadPreset.parseList(text) {
                throw SettingValueError(expected: "presets like name:unsigned=true,folder=x;other:… (\(error))")
            }
            settings.blobs.presets = text
        },
        SettingDefinition("blobs.user_quota") { settings, text throws(SettingValueError) in
            settings.blobs.userQuota = try SettingValue.size(text, in: 0...(1 << 50))
        },
        SettingDefinition("blobs.chunk_expiry") { settings, text throws(SettingValueError) in
            settings.blobs.chunkExpiry = try SettingValue.duration(text, allowZero: false)
        },
        SettingDefinition("blobs.max_timestamp_age") { settings, text throws(SettingValueError) in
            settings.blobs.maxTimestampAge = try SettingValue.duration(text, allowZero: false)
        },
        SettingDefinition("blobs.attachment_url_ttl") { settings, text throws(SettingValueError) in
            settings.blobs.attachmentURLTTL = try SettingValue.duration(text, allowZero: false)
        },
        SettingDefinition("blobs.remote_fetch") { settings, text throws(SettingValueError) in
            settings.blobs.remoteFetch = try SettingValue.bool(text)
        },
        SettingDefinition("blobs.remote_fetch_allow") { settings, text throws(SettingValueError) in
            settings.blobs.remoteFetchAllow = try SettingValue.addressBlocks(text)
        },
        SettingDefinition("blobs.remote_fetch_timeout") { settings, text throws(SettingValueError) in
            let timeout = try SettingValue.duration(text, allowZero: false)
            guard timeout <= .seconds(3600) else { throw SettingValueError(expected: "a duration up to 1h") }
            settings.blobs.remoteFetchTimeout = timeout
        },
        SettingDefinition("blobs.remote_fetch_max_redirects") { settings, text throws(SettingValueError) in
            settings.blobs.remoteFetchMaxRedirects = try SettingValue.integer(text, in: 0...10)
        },
        SettingDefinition("blobs.remote_fetch_ca_file") { settings, text throws(SettingValueError) in
            settings.blobs.remoteFetchCAFile = text
        },
        SettingDefinition("blobs.remote_fetch_concurrency") { settings, text throws(SettingValueError) in
            settings.blobs.remoteFetchConcurrency = try SettingValue.integer(text, in: 1...64)
        },

        SettingDefinition("realtime.max_message_bytes") { settings, text throws(SettingValueError) in
            settings.realtime.maxMessageBytes = try SettingValue.size(text, in: 1024...(64 << 20))
        },
        SettingDefinition("realtime.max_outbound_bytes") { settings, text throws(SettingValueError) in
            settings.realtime.maxOutboundBytes = try SettingValue.size(text, in: 4096...(1 << 30))
        },
        SettingDefinition("realtime.ping_interval") { settings, text throws(SettingValueError) in
            settings.realtime.pingInterval = try SettingValue.duration(text, allowZero: false)
        },
        SettingDefinition("realtime.messages_per_second") { settings, text throws(SettingValueError) in
            settings.realtime.messagesPerSecond = try SettingValue.integer(text, in: 1...1_000_000)
        },
        SettingDefinition("realtime.messages_burst") { settings, text throws(SettingValueError) in
            settings.realtime.messagesBurst = try SettingValue.integer(text, in: 1...1_000_000)
        },
        SettingDefinition("realtime.presence_grace") { settings, text throws(SettingValueError) in
            settings.realtime.presenceGrace = try SettingValue.duration(text)
        },
        SettingDefinition("realtime.presence_room_limit") { settings, text throws(SettingValueError) in
            settings.realtime.presenceRoomLimit = try SettingValue.integer(text, in: 0...1_000_000)
        },
        SettingDefinition("realtime.typing_timeout") { settings, text throws(SettingValueError) in
            settings.realtime.typingTimeout = try SettingValue.duration(text, allowZero: false)
        },
        SettingDefinition("realtime.resume_max") { settings, text throws(SettingValueError) in
            settings.realtime.resumeMax = try SettingValue.integer(text, in: 1...100_000)
        },
        SettingDefinition("realtime.ticket_ttl") { settings, text throws(SettingValueError) in
            settings.realtime.ticketTTL = try SettingValue.duration(text, allowZero: false)
        },
        SettingDefinition("realtime.auth_grace") { settings, text throws(SettingValueError) in
            settings.realtime.authGrace = try SettingValue.duration(text)
        },

        SettingDefinition("docs.swagger_ui_url") { settings, text throws(SettingValueError) in
            settings.docs.swaggerUIURL = try SettingValue.assetBaseURL(text)
        },
        SettingDefinition("docs.swagger_ui_dir") { settings, text throws(SettingValueError) in
            settings.docs.swaggerUIDir = text.isEmpty ? nil : try SettingValue.nonEmptyPath(text)
        },
    ]

    static let definitionsByKey: [String: SettingDefinition] = Dictionary(
        definitions.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })

    static let sections: Set<String> = Set(definitions.map { String($0.section) })

    /// Every setting key (`section.key`) in documentation order.
    public static var keys: [String] { definitions.map(\.key) }

    /// The setting a command-line flag (without dashes) maps to, e.g. `listen` → `server.listen`.
    public static func key(forFlag flag: String) -> String? {
        definitions.first { $0.flag == flag }?.key
    }

    /// The environment variable for a setting key: `http.max_body` → `CHAT_HTTP_MAX_BODY`.
    public static func environmentVariable(for key: String) -> String? {
        definitionsByKey[key]?.environmentVariable
    }
}
