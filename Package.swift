// swift-tools-version:6.0
// House rule 1: no Swift package dependencies. Only the toolchain and system C libraries.
import PackageDescription

let package = Package(
    name: "chat",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "chat", targets: ["chat"])
    ],
    targets: [
        // System C libraries (Debian -dev packages, installed by `make deps`).
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCrypt", pkgConfig: "libcrypt", providers: [.apt(["libcrypt-dev"])]),
        // epoll, eventfd, timerfd and accept4: Glibc does not export them to Swift, and accept4 needs _GNU_SOURCE.
        .target(name: "CLinux"),

        // Plain POSIX threads (event loops, worker pool, database threads) and errno errors, shared by both.
        .target(name: "SystemSupport", dependencies: ["CLinux"]),
        .target(name: "Logging", dependencies: ["SystemSupport"]),
        .target(name: "HTTPServer", dependencies: ["CLinux", "Logging", "SystemSupport"]),
        .target(name: "Storage", dependencies: ["CSQLite", "SystemSupport"]),
        .target(name: "Security", dependencies: ["COpenSSL", "CCrypt"]),
        .target(name: "ChatCore", dependencies: ["Storage", "Security", "SystemSupport", "Logging"]),
        // Local-disk blobs behind Cloudinary's Upload API: signatures, format sniffing, content-addressed files.
        .target(name: "Blobs", dependencies: ["Storage", "Security", "SystemSupport", "Logging", "COpenSSL"]),
        // Fetching an upload's `file=<URL>` (off by default): an HTTP/1.1 client with TLS and SSRF guards.
        .target(name: "RemoteFetch", dependencies: ["COpenSSL", "SystemSupport"]),
        .target(
            name: "ChatServer",
            dependencies: ["HTTPServer", "Storage", "Security", "ChatCore", "Blobs", "RemoteFetch", "Logging"],
            plugins: ["EmbedMigrations"]),
        .executableTarget(name: "chat", dependencies: ["ChatServer"]),
        // `make bench`: in-process measurements that need no server.
        .executableTarget(name: "chat-bench", dependencies: ["Security", "SystemSupport"]),
        // `make bench`: the WebSocket load generator (fan-out, latency, idle memory) against a running server.
        .executableTarget(name: "chat-wsbench", dependencies: ["CLinux", "SystemSupport"]),

        // Build tooling: compiles migrations/*.sql into the binary.
        .executableTarget(name: "embed-migrations", path: "Tools/embed-migrations"),
        .plugin(name: "EmbedMigrations", capability: .buildTool(), dependencies: ["embed-migrations"]),

        .testTarget(name: "LoggingTests", dependencies: ["Logging"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "SystemSupport"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage"]),
        .testTarget(name: "SecurityTests", dependencies: ["Security"]),
        .testTarget(name: "ChatCoreTests", dependencies: ["ChatCore"]),
        .testTarget(name: "BlobsTests", dependencies: ["Blobs"]),
        .testTarget(name: "RemoteFetchTests", dependencies: ["RemoteFetch"]),
        .testTarget(name: "ChatServerTests", dependencies: ["ChatServer", "Storage"]),
    ],
    swiftLanguageModes: [.v6]
)
