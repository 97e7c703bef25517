import Foundation
import Logging
import Testing

@testable import ChatServer

/// Writes `contents` to a new file in a fresh temporary directory and returns its path.
func makeConfigTestFile(_ contents: String, name: String = "chat.conf") throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("config-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let url = directory.appendingPathComponent(name)
    try Data(contents.utf8).write(to: url)
    return url.path
}

private func load(
    file: String? = nil, environment: [String: String] = [:], overrides: [String: String] = [:]
) throws -> Settings {
    let path = try file.map { try makeConfigTestFile($0) }
    return try Settings.load(
        configPath: path, environment: environment, overrides: overrides,
        defaultConfigPath: "/nonexistent/chat.conf")
}

/// The error text with the temporary directory replaced by `chat.conf`, so tests can compare it whole.
private func loadError(
    file: String? = nil, environment: [String: String] = [:], overrides: [String: String] = [:]
) -> String? {
    do {
        let path = try file.map { try makeConfigTestFile($0) }
        do {
            _ = try Settings.load(
                configPath: path, environment: environment, overrides: overrides,
                defaultConfigPath: "/nonexistent/chat.conf")
            return nil
        } catch {
            return path.map { error.description.replacingOccurrences(of: $0, with: "chat.conf") }
                ?? error.description
        }
    } catch {
        return "could not write the test file: \(error)"
    }
}

@Suite struct ConfigLoadTests {
    @Test func defaultsWithoutAnySource() throws {
        let settings = try load()
        #expect(settings == Settings())
        #expect(settings.server.listen.description == "127.0.0.1:8080")
        #expect(settings.server.loops == 0)
        #expect(settings.server.dataDir == "./data")
        #expect(settings.server.staticDir == "static")
        #expect(settings.server.maxConnections == 10_000)
        #expect(settings.server.workers == 0)
        #expect(settings.server.shutdownTimeout == .seconds(10))
        #expect(settings.http.maxBody == 1_048_576)
        #expect(settings.http.maxRequestLine == 8192)
        #expect(settings.http.maxHeaderBytes == 32_768)
        #expect(settings.http.maxHeaders == 100)
        #expect(settings.http.headerTimeout == .seconds(10))
        #expect(settings.http.idleTimeout == .seconds(60))
        #expect(settings.http.requestIDHeader == "X-Request-Id")
        #expect(settings.database.path == "")
        #expect(settings.database.synchronous == .normal)
        #expect(settings.database.busyTimeout == .milliseconds(5000))
        #expect(settings.database.readers == 4)
        #expect(settings.database.batchMax == 512)
        #expect(settings.log.level == .info)
        #expect(settings.log.format == .logfmt)
        #expect(settings.log.access == true)
        #expect(settings.cors.allowedOrigins == [])
        #expect(settings.databasePath == "./data/chat.db")
    }

    @Test func readsEveryKeyFromAFile() throws {
        let settings = try load(
            file: """
                [server]
                listen = [::1]:9000
                loops = 3
                data_dir = /var/lib/chat
                static_dir = ""
                max_connections = 500
                workers = 8
                shutdown_timeout = 1500ms

                [http]
                max_body = 10MiB
                max_request_line = 4k
                max_header_bytes = 64k
                max_headers = 50
                header_timeout = 5s
                idle_timeout = 2m
                request_id_header = X-Trace-Id

                [database]
                path = /tmp/other.db
                synchronous = FULL
                busy_timeout = 250
                readers = 2
                batch_max = 64

                [log]
                level = warning
                format = json
                access = off

                [cors]
                allowed_origins = "https://a.example, http://localhost:3000"
                """)
        var expected = Settings()
        expected.server.listen = ListenAddress(host: "::1", port: 9000)
        expected.server.loops = 3
        expected.server.dataDir = "/var/lib/chat"
        expected.server.staticDir = nil
        expected.server.maxConnections = 500
        expected.server.workers = 8
        expected.server.shutdownTimeout = .milliseconds(1500)
        expected.http.maxBody = 10 << 20
        expected.http.maxRequestLine = 4096
        expected.http.maxHeaderBytes = 65_536
        expected.http.maxHeaders = 50
        expected.http.headerTimeout = .seconds(5)
        expected.http.idleTimeout = .seconds(120)
        expected.http.requestIDHeader = "X-Trace-Id"
        expected.database.path = "/tmp/other.db"
        expected.database.synchronous = .full
        expected.database.busyTimeout = .milliseconds(250)
        expected.database.readers = 2
        expected.database.batchMax = 64
        expected.log.level = .warn
        expected.log.format = .json
        expected.log.access = false
        expected.cors.allowedOrigins = ["https://a.example", "http://localhost:3000"]
        #expect(settings == expected)
        #expect(settings.databasePath == "/tmp/other.db")
    }

    @Test func laterSourcesWin() throws {
        let file = """
            [server]
            listen = 127.0.0.1:1000
            loops = 1
            data_dir = /from/file
            [http]
            max_body = 1k
            """
        let environment = [
            "CHAT_SERVER_LISTEN": "127.0.0.1:2000",
            "CHAT_SERVER_LOOPS": "2",
            "CHAT_LOG_LEVEL": "debug",
        ]
        let overrides = ["server.listen": "127.0.0.1:3000", "log.format": "json"]

        let fileOnly = try load(file: file)
        #expect(fileOnly.server.listen.port == 1000 && fileOnly.server.loops == 1)

        let withEnvironment = try load(file: file, environment: environment)
        #expect(withEnvironment.server.listen.port == 2000)
        #expect(withEnvironment.server.loops == 2)
        #expect(withEnvironment.log.level == .debug)
        #expect(withEnvironment.server.dataDir == "/from/file")

        let all = try load(file: file, environment: environment, overrides: overrides)
        #expect(all.server.listen.port == 3000)
        #expect(all.server.loops == 2)
        #expect(all.server.dataDir == "/from/file")
        #expect(all.http.maxBody == 1024)
        #expect(all.log.level == .debug)
        #expect(all.log.format == .json)
    }

    @Test func everyKeyHasAnEnvironmentVariable() throws {
        #expect(Settings.environmentVariable(for: "http.max_body") == "CHAT_HTTP_MAX_BODY")
        #expect(Settings.environmentVariable(for: "server.listen") == "CHAT_SERVER_LISTEN")
        #expect(Settings.environmentVariable(for: "cors.allowed_origins") == "CHAT_CORS_ALLOWED_ORIGINS")
        #expect(Settings.environmentVariable(for: "nope") == nil)
        let settings = try load(environment: ["CHAT_HTTP_MAX_BODY": "2m", "CHAT_SERVER_STATIC_DIR": ""])
        #expect(settings.http.maxBody == 2 << 20)
        #expect(settings.server.staticDir == nil)
    }

    @Test func emptyDatabasePathFollowsTheDataDirectory() throws {
        #expect(try load(overrides: ["server.data_dir": "/srv/chat/"]).databasePath == "/srv/chat/chat.db")
        #expect(try load(overrides: ["server.data_dir": "d"]).databasePath == "d/chat.db")
    }

    @Test func fileErrorsNameTheLineKeyAndValue() {
        #expect(
            loadError(file: "[server]\nlisten = 1.2.3.4:5\n\n[http]\nmax_bdy = 1\n")
                == #"chat.conf:5: unknown key "http.max_bdy"; did you mean "http.max_body"?"#)
        #expect(
            loadError(file: "\n\n\n\n\n\n[http]\nmax_body = abc")
                == #"chat.conf:8: invalid value "abc" for http.max_body: expected a size like 1048576 or 1m (suffixes k, m, g, KiB, MiB, GiB)"#
        )
        #expect(
            loadError(file: "listen = 1.2.3.4:5")
                == #"chat.conf:1: unknown key "listen"; keys belong in a section: did you mean "listen" under [server]?"#
        )
        #expect(
            loadError(file: "[log]\nlevel = loud")
                == #"chat.conf:2: invalid value "loud" for log.level: expected one of debug, info, warn, error"#)
        #expect(
            loadError(file: "[http]\nheader_timeout = 0")
                == #"chat.conf:2: invalid value "0" for http.header_timeout: expected a duration like 10 (seconds), 500ms, 10s, 2m, 1h or 30d, greater than 0"#
        )
        #expect(
            loadError(file: "[cors]\nallowed_origins = https://a.example/")?.hasPrefix(
                #"chat.conf:2: invalid value "https://a.example/" for cors.allowed_origins: expected comma-separated origins"#
            ) == true)
        #expect(
            loadError(file: "[server]\nloops = 1000")
                == #"chat.conf:2: invalid value "1000" for server.loops: expected a whole number from 0 to 256"#)
        #expect(
            loadError(file: "[server]\nlisten = localhost:80")
                == #"chat.conf:2: invalid value "localhost:80" for server.listen: expected a numeric host:port like 127.0.0.1:8080, 0.0.0.0:80 or [::1]:8080"#
        )
        #expect(
            loadError(file: "[database]\nsynchronous = sometimes")
                == #"chat.conf:2: invalid value "sometimes" for database.synchronous: expected one of off, normal, full, extra"#
        )
        #expect(
            loadError(file: "[log]\naccess = maybe")
                == #"chat.conf:2: invalid value "maybe" for log.access: expected true or false (or yes/no, on/off, 1/0)"#
        )
        #expect(
            loadError(file: "[server]\ndata_dir =")
                == #"chat.conf:2: invalid value "" for server.data_dir: expected a directory path"#)
    }

    @Test func aFileValueIsCheckedEvenWhenOverriddenLater() {
        #expect(
            loadError(file: "[server]\nloops = x", overrides: ["server.loops": "2"])
                == #"chat.conf:2: invalid value "x" for server.loops: expected a whole number from 0 to 256"#)
    }

    @Test func environmentErrorsNameTheVariable() {
        #expect(
            loadError(environment: ["CHAT_HTTP_MAX_BODY": "lots"])
                == #"environment CHAT_HTTP_MAX_BODY: invalid value "lots" for http.max_body: expected a size like 1048576 or 1m (suffixes k, m, g, KiB, MiB, GiB)"#
        )
    }

    @Test func flagErrorsNameTheFlag() {
        #expect(
            loadError(overrides: ["server.listen": "nowhere"])
                == #"flag --listen: invalid value "nowhere" for server.listen: expected a numeric host:port like 127.0.0.1:8080, 0.0.0.0:80 or [::1]:8080"#
        )
        #expect(
            loadError(overrides: ["log.level": "verbose"])
                == #"flag --log-level: invalid value "verbose" for log.level: expected one of debug, info, warn, error"#
        )
        #expect(
            loadError(overrides: ["http.max_body": "x"])?.hasPrefix(#"override http.max_body: invalid value "x""#)
                == true)
        #expect(loadError(overrides: ["http.nope": "1"]) == #"override http.nope: unknown key "http.nope""#)
    }

    @Test func errorsCarryAStructuredSource() throws {
        let error = #expect(throws: ConfigError.self) {
            try load(overrides: ["server.loops": "many"])
        }
        #expect(error?.source == .flag("--loops"))
        #expect(error?.message == #"invalid value "many" for server.loops: expected a whole number from 0 to 256"#)
        #expect(ConfigError(.file(path: "a.conf", line: nil), "gone").description == "a.conf: gone")
        #expect(ConfigError(.file(path: "a.conf", line: 3), "bad").description == "a.conf:3: bad")
    }

    @Test func anExplicitMissingFileIsAnError() {
        let error = #expect(throws: ConfigError.self) {
            try Settings.load(configPath: "/nonexistent/dir/chat.conf", environment: [:], overrides: [:])
        }
        #expect(error?.source == .file(path: "/nonexistent/dir/chat.conf", line: nil))
        #expect(
            error?.description
                == "/nonexistent/dir/chat.conf: cannot open the configuration file: No such file or directory")
    }

    @Test func aDirectoryIsNotAConfigFile() throws {
        let directory = FileManager.default.temporaryDirectory.path
        let error = #expect(throws: ConfigError.self) {
            try Settings.load(configPath: directory, environment: [:], overrides: [:])
        }
        #expect(error?.description.hasPrefix("\(directory): cannot read the configuration file:") == true)
    }

    @Test func invalidUTF8IsRejected() throws {
        let url = URL(fileURLWithPath: try makeConfigTestFile(""))
        try Data([0x5B, 0x6C, 0x6F, 0x67, 0x5D, 0x0A, 0xFF, 0xFE]).write(to: url)
        let error = #expect(throws: ConfigError.self) {
            try Settings.load(configPath: url.path, environment: [:], overrides: [:])
        }
        #expect(error?.description == "\(url.path): file is not valid UTF-8")
    }

    @Test func theDefaultFileIsUsedOnlyWhenPresent() throws {
        let path = try makeConfigTestFile("[server]\nloops = 7\n")
        let withDefault = try Settings.load(
            configPath: nil, environment: [:], overrides: [:], defaultConfigPath: path)
        #expect(withDefault.server.loops == 7)
        let withoutDefault = try Settings.load(
            configPath: nil, environment: [:], overrides: [:], defaultConfigPath: path + ".missing")
        #expect(withoutDefault == Settings())
        let explicitlyNone = try Settings.load(
            configPath: "", environment: [:], overrides: [:], defaultConfigPath: path)
        #expect(explicitlyNone == Settings())
        #expect(Settings.defaultConfigPath == "chat.conf")
    }

    @Test func unknownEnvironmentVariablesAreWarningsNotErrors() throws {
        let environment = [
            "CHAT_HTTP_MAX_BDY": "1m",
            "CHAT_SERVER_LISTEN": "127.0.0.1:1",
            "CHAT_DATABASE_FOO": "x",
            "CHAT_TOKEN": "unrelated",
            "HOME": "/root",
        ]
        #expect(try load(environment: environment).server.listen.port == 1)
        #expect(
            Settings.environmentWarnings(environment) == [
                "ignoring environment variable CHAT_DATABASE_FOO: no such setting",
                "ignoring environment variable CHAT_HTTP_MAX_BDY: no such setting; did you mean CHAT_HTTP_MAX_BODY?",
            ])
    }

    @Test func keysAreListedInDocumentationOrder() {
        #expect(
            Settings.keys == [
                "server.listen", "server.loops", "server.data_dir", "server.static_dir", "server.max_connections",
                "server.workers", "server.shutdown_timeout",
                "http.max_body", "http.max_request_line", "http.max_header_bytes", "http.max_headers",
                "http.header_timeout", "http.idle_timeout", "http.response_timeout", "http.request_id_header",
                "database.path", "database.synchronous", "database.busy_timeout", "database.readers",
                "database.batch_max", "database.checkpoint_interval",
                "log.level", "log.format", "log.access",
                "cors.allowed_origins",
                "auth.issuer", "auth.audience", "auth.access_ttl", "auth.refresh_ttl", "auth.bcrypt_cost",
                "auth.leeway", "auth.keys_dir",
                "rate_limit.login_per_minute", "rate_limit.register_per_hour", "rate_limit.api_per_minute",
                "rate_limit.max_entries",
                "security.trusted_proxies",
                "chat.dm_policy", "chat.max_room_members", "chat.max_message_bytes", "chat.history_page_max",
                "cache.users",
                "blobs.cloud_name", "blobs.api_key", "blobs.api_secret", "blobs.max_image_bytes",
                "blobs.max_video_bytes", "blobs.max_raw_bytes", "blobs.presets", "blobs.user_quota",
                "blobs.chunk_expiry", "blobs.max_timestamp_age", "blobs.attachment_url_ttl", "blobs.remote_fetch",
                "blobs.remote_fetch_allow",
                "blobs.remote_fetch_timeout", "blobs.remote_fetch_max_redirects", "blobs.remote_fetch_ca_file",
                "blobs.remote_fetch_concurrency",
                "realtime.max_message_bytes", "realtime.max_outbound_bytes", "realtime.ping_interval",
                "realtime.messages_per_second", "realtime.messages_burst", "realtime.presence_grace",
                "realtime.presence_room_limit",
                "realtime.typing_timeout", "realtime.resume_max", "realtime.ticket_ttl", "realtime.auth_grace",
                "docs.swagger_ui_url", "docs.swagger_ui_dir",
            ])
        #expect(Set(Settings.keys).count == Settings.keys.count)
        #expect(Settings.key(forFlag: "listen") == "server.listen")
        #expect(Settings.key(forFlag: "data-dir") == "server.data_dir")
        #expect(Settings.key(forFlag: "max-body") == nil)
    }

    @Test func processorCountsResolveZero() {
        var settings = Settings()
        #expect(settings.server.eventLoopCount >= 1)
        #expect(settings.server.workerCount == settings.server.eventLoopCount)
        settings.server.loops = 3
        settings.server.workers = 5
        #expect(settings.server.eventLoopCount == 3)
        #expect(settings.server.workerCount == 5)
    }
}
