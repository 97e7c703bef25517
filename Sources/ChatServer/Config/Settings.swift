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

    /// The database file: `database.path`, or `chat.db` inside `server.data_dir` when that is empty.
    public var databasePath: String {
        guard database.path.isEmpty else { return database.path }
        return server.dataDir.hasSuffix("/") ? server.dataDir + "chat.db" : server.dataDir + "/chat.db"
    }

    static var processorCount: Int {
        max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }
}
