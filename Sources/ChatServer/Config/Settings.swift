import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Every runtime setting, with its default. Build one with ``load(configPath:environment:overrides:)``,
/// which layers defaults < config file < `CHAT_*` environment variables < command-line flags.
///
/// Each property corresponds to the `section.key` named in its comment; `chat.conf.example` documents them all.
public struct Settings: Sendable, Equatable {
    public var server = Server()
    public var http = HTTP()
    public var database = Database()
    public var log = Log()
    public var cors = CORS()
    public var auth = Auth()
    public var rateLimit = RateLimit()
    public var security = Security()
    public var chat = Chat()
    public var cache = Cache()
    public var realtime = Realtime()
    public var blobs = Blobs()
    public var docs = Docs()

    public init() {}

    /// `[server]`
    public struct Server: Sendable, Equatable {
        /// `server.listen`
        public var listen = ListenAddress(host: "127.0.0.1", port: 8080)
        /// `server.loops`: event-loop threads; 0 means one per core (see ``eventLoopCount``).
        public var loops = 0
        /// `server.data_dir`
        public var dataDir = "./data"
        /// `server.static_dir`: nil when set to the empty string, meaning no static files are served.
        public var staticDir: String? = "static"
        /// `server.max_connections`
        public var maxConnections = 10_000
        /// `server.workers`: worker-pool threads; 0 means one per core (see ``workerCount``).
        public var workers = 0
        /// `server.shutdown_timeout`: how long a graceful shutdown waits for in-flight requests.
        public var shutdownTimeout: Duration = .seconds(10)

        public init() {}

        /// `loops`, or the number of online processors when it is 0.
        public var eventLoopCount: Int { loops > 0 ? loops : Settings.processorCount }
        /// `workers`, or the number of online processors when it is 0.
        public var workerCount: Int { workers > 0 ? workers : Settings.processorCount }
    }

    /// `[http]`
    public struct HTTP: Sendable, Equatable {
        /// `http.max_body`, in bytes.
        public var maxBody = 1_048_576
        /// `http.max_request_line`, in bytes.
        public var maxRequestLine = 8192
        /// `http.max_header_bytes`: all header lines together, in bytes.
        public var maxHeaderBytes = 32_768
        /// `http.max_headers`: number of header fields.
        public var maxHeaders = 100
        /// `http.header_timeout`: time allowed to receive a request's head (guards against slowloris).
        public var headerTimeout: Duration = .seconds(10)
        /// `http.idle_timeout`: how long an idle keep-alive connection is kept open.
        public var idleTimeout: Duration = .seconds(60)
        /// `http.response_timeout`: a handler that has not answered by then gets a 503.
        public var responseTimeout: Duration = .seconds(30)
        /// `http.request_id_header`: the header that carries the request id.
        public var requestIDHeader = "X-Request-Id"

        public init() {}
    }

    /// `[database]`
    public struct Database: Sendable, Equatable {
        /// SQLite's `PRAGMA synchronous` levels.
        public enum Synchronous: String, Sendable, CaseIterable {
            case off, normal, full, extra
        }

        /// `database.path`: empty means `<data_dir>/chat.db` (see ``Settings/databasePath``).
        public var path = ""
        /// `database.synchronous`
        public var synchronous = Synchronous.normal
        /// `database.busy_timeout`: how long SQLite retries a locked database.
        public var busyTimeout: Duration = .milliseconds(5000)
        /// `database.readers`: read-only connections.
        public var readers = 4
        /// `database.batch_max`: most writes the writer commits in one transaction (group commit).
        public var batchMax = 512
        /// `database.checkpoint_interval`: how often a background thread checkpoints the WAL; zero leaves it to
        /// SQLite inside the writer's commits.
        public var checkpointInterval: Duration = .seconds(1)

        public init() {}
    }

    /// `[log]`
    public struct Log: Sendable, Equatable {
        /// `log.level`
        public var level = LogLevel.info
        /// `log.format`
        public var format = LogFormat.logfmt
        /// `log.access`: one line per HTTP request.
        public var access = true

        public init() {}
    }

    /// `[cors]`
    public struct CORS: Sendable, Equatable {
        /// `cors.allowed_origins`: origins allowed cross-origin access, or `["*"]`; empty disables CORS.
        public var allowedOrigins: [String] = []

        public init() {}
    }

    /// `[auth]`
    public struct Auth: Sendable, Equatable {
        /// `auth.issuer`: the `iss` claim of access tokens.
        public var issuer = "chat"
        /// `auth.audience`: the `aud` claim of access tokens.
        public var audience = "chat"
        /// `auth.access_ttl`: lifetime of an access token (JWT).
        public var accessTTL: Duration = .seconds(15 * 60)
        /// `auth.refresh_ttl`: lifetime of a refresh token (and of an idle session).
        public var refreshTTL: Duration = .seconds(30 * 86_400)
        /// `auth.bcrypt_cost`: work factor of new password hashes (lower ones are re-hashed at login).
        public var bcryptCost = 12
        /// `auth.leeway`: clock skew tolerated on `exp` and `nbf`.
        public var leeway: Duration = .seconds(30)
        /// `auth.keys_dir`: signing keys; empty means `<data_dir>/keys`.
        public var keysDir = ""

        public init() {}
    }

    /// `[rate_limit]`
    public struct RateLimit: Sendable, Equatable {
        /// `rate_limit.login_per_minute`: login attempts per client IP and, separately, per login name.
        public var loginPerMinute = 10
        /// `rate_limit.register_per_hour`: registrations per client IP.
        public var registerPerHour = 20
        /// `rate_limit.api_per_minute`: authenticated requests per user.
        public var apiPerMinute = 600
        /// `rate_limit.max_entries`: most keys each limiter remembers (least recently used are forgotten).
        public var maxEntries = 100_000

        public init() {}
    }

    /// `[security]`
    public struct Security: Sendable, Equatable {
        /// `security.trusted_proxies`: peers whose `X-Forwarded-For` is believed.
        public var trustedProxies: [String] = []

        public init() {}
    }

    /// `[chat]`
    public struct Chat: Sendable, Equatable {
        public enum DMPolicy: String, Sendable, CaseIterable {
            case friends, anyone
        }

        /// `chat.dm_policy`: who may open a direct room with whom.
        public var dmPolicy = DMPolicy.friends
        /// `chat.max_room_members`: largest group room.
        public var maxRoomMembers = 10_000
        /// `chat.max_message_bytes`: longest message content, in UTF-8 bytes.
        public var maxMessageBytes = 16_384
        /// `chat.history_page_max`: most messages one history page returns.
        public var historyPageMax = 200

        public init() {}
    }

    /// `[cache]`
    public struct Cache: Sendable, Equatable {
        /// `cache.users`: entries in the in-process cache of users and sessions.
        public var users = 10_000

        public init() {}
    }

    /// `[realtime]`: the WebSocket endpoint `/ws` and its protocol (docs/realtime-protocol.md).
    public struct Realtime: Sendable, Equatable {
        /// `realtime.max_message_bytes`: largest client message; larger ones close the connection with 1009.
        public var maxMessageBytes = 65_536
        /// `realtime.max_outbound_bytes`: bytes waiting to be sent before a slow consumer is closed with 1013.
        public var maxOutboundBytes = 1_048_576
        /// `realtime.ping_interval`: a quiet connection is pinged this often, and closed after two silent ones.
        public var pingInterval: Duration = .seconds(30)
        /// `realtime.messages_per_second`: client messages per connection, sustained.
        public var messagesPerSecond = 20
        /// `realtime.messages_burst`: client messages per connection in a burst.
        public var messagesBurst = 40
        /// `realtime.presence_grace`: how long a user stays online after their last connection closed.
        public var presenceGrace: Duration = .seconds(10)
        /// `realtime.presence_room_limit`: co-members of rooms up to this size are told of presence changes.
        public var presenceRoomLimit = 100
        /// `realtime.typing_timeout`: how long `is_typing: true` lasts without a refresh.
        public var typingTimeout: Duration = .seconds(6)
        /// `realtime.resume_max`: most messages replayed per room by RESUME.
        public var resumeMax = 500
        /// `realtime.ticket_ttl`: how long a WebSocket ticket stays valid.
        public var ticketTTL: Duration = .seconds(30)
        /// `realtime.auth_grace`: after the access token expired, how long the connection waits for AUTH.
        public var authGrace: Duration = .seconds(10)

        public init() {}
    }

    /// `[blobs]`: the Cloudinary-compatible blob store (docs/blobs.md).
    public struct Blobs: Sendable, Equatable {
        /// `blobs.cloud_name`
        public var cloudName = "local"
        /// `blobs.api_key`, `blobs.api_secret`: empty means generated once and kept in the data directory.
        public var apiKey = ""
        public var apiSecret = ""
        /// `blobs.max_image_bytes`, `blobs.max_video_bytes`, `blobs.max_raw_bytes`
        public var maxImageBytes = 20 << 20
        public var maxVideoBytes = 1 << 30
        public var maxRawBytes = 1 << 30
        /// `blobs.presets`: `name:key=value,…;name2:…` (see docs/blobs.md), kept as written and parsed on load.
        public var presets = ""
        /// `blobs.user_quota`: bytes one user may store through the chat API.
        public var userQuota = 1 << 30
        /// `blobs.chunk_expiry`: partial chunked uploads untouched this long are removed.
        public var chunkExpiry: Duration = .seconds(86_400)
        /// `blobs.max_timestamp_age`: signed requests with an older timestamp are refused.
        public var maxTimestampAge: Duration = .seconds(3600)
        /// `blobs.attachment_url_ttl`: how long the token in a private attachment's URL stays valid.
        public var attachmentURLTTL: Duration = .seconds(3600)
        /// `blobs.remote_fetch`: whether an upload's `file` may be an http(s) URL that the server fetches.
        public var remoteFetch = false
        /// `blobs.remote_fetch_allow`: address blocks a fetch may reach although they are private, loopback,
        /// link-local or reserved (CIDR, as written).
        public var remoteFetchAllow: [String] = []
        /// `blobs.remote_fetch_timeout`: the time one fetch may take, redirects included.
        public var remoteFetchTimeout: Duration = .seconds(10)
        /// `blobs.remote_fetch_max_redirects`
        public var remoteFetchMaxRedirects = 3
        /// `blobs.remote_fetch_ca_file`: a PEM CA bundle trusted for https instead of the system's; empty: the system's.
        public var remoteFetchCAFile = ""
        /// `blobs.remote_fetch_concurrency`: fetches at once (each holds a thread); more wait their turn.
        public var remoteFetchConcurrency = 4

        public init() {}
    }

    /// `[docs]`: the API documentation (`/openapi.json`, `/asyncapi.json`, Swagger UI at `/swagger/index.html`).
    public struct Docs: Sendable, Equatable {
        /// `docs.swagger_ui_url`: where Swagger UI's `swagger-ui-bundle.js` and `swagger-ui.css` are loaded from
        /// (no trailing slash), when `swaggerUIDir` is not set.
        public var swaggerUIURL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
        /// `docs.swagger_ui_dir`: a local copy of Swagger UI's files, served under `/swagger/assets/`; nil when
        /// set to the empty string (the assets then come from `swaggerUIURL`).
        public var swaggerUIDir: String?

        public init() {}
    }

    /// The signing-key directory: `auth.keys_dir`, or `keys` inside `server.data_dir`.
    public var keysDirectory: String {
        guard auth.keysDir.isEmpty else { return auth.keysDir }
        return server.dataDir.hasSuffix("/") ? server.dataDir + "keys" : server.dataDir + "/keys"
    }

    /// The database file: `database.path`, or `chat.db` inside `server.data_dir` when that is empty.
    public var databasePath: String {
        guard database.path.isEmpty else { return database.path }
        return server.dataDir.hasSuffix("/") ? server.dataDir + "chat.db" : server.dataDir + "/chat.db"
    }

    static var processorCount: Int {
        max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }
}
