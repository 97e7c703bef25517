import Glibc
import Testing

@testable import HTTPServer

/// A throwaway directory tree for the static file tests:
///
///     <base>/outside/secret.txt             target of a link that escapes the root
///     <base>/root/alphabet.txt              "abcdefghijklmnopqrstuvwxyz"
///     <base>/root/index.html, style.css, app.js, data.json, image.png, README, empty.txt, café.txt
///     <base>/root/back\slash.txt          exists, yet must not be reachable through %5C
///     <base>/root/docs/index.html           a directory with an index
///     <base>/root/empty-dir/                a directory without one
///     <base>/root/.secret, .hidden/file.txt hidden names
///     <base>/root/escape.txt -> ../outside/secret.txt
///     <base>/root/inside.txt -> alphabet.txt
///     <base>/root/to-hidden.txt -> .secret
///     <base>/root/pipe                      a FIFO
///
/// Every file's mtime is `StaticFileFixture.mtime`, so validators are known in advance.
final class StaticFileFixture {
    /// Sun, 06 Nov 1994 08:49:37 GMT.
    static let mtime = 784_111_777
    static let alphabet = "abcdefghijklmnopqrstuvwxyz"
    static let alphabetETag = "\"2ebc98a1-1a\""
    static let lastModified = "Sun, 06 Nov 1994 08:49:37 GMT"

    let base: String
    let root: String
    private var created: [(path: String, isDirectory: Bool)] = []

    init() {
        var template = Array("/tmp/static-file-tests-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }
        }
        #expect(made != nil, "mkdtemp failed: errno \(errno)")
        base = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        root = base + "/root"
        created.append((base, true))

        directory("outside")
        file("outside/secret.txt", "top secret")
        directory("root")
        file("root/alphabet.txt", Self.alphabet)
        file("root/index.html", "<h1>home</h1>")
        file("root/style.css", "body{}")
        file("root/app.js", "let x = 1")
        file("root/data.json", "{}")
        file("root/image.png", "\u{89}PNG")
        file("root/README", "readme")
        file("root/empty.txt", "")
        file("root/café.txt", "accent")
        file("root/back\\slash.txt", "a backslash is an ordinary byte in Linux names")
        directory("root/docs")
        file("root/docs/index.html", "<h1>docs</h1>")
        directory("root/empty-dir")
        file("root/.secret", "hidden")
        directory("root/.hidden")
        file("root/.hidden/file.txt", "hidden too")
        link("root/escape.txt", to: "../outside/secret.txt")
        link("root/inside.txt", to: "alphabet.txt")
        link("root/to-hidden.txt", to: ".secret")
        let pipe = base + "/root/pipe"
        #expect(mkfifo(pipe, 0o600) == 0, "mkfifo failed: errno \(errno)")
        created.append((pipe, false))
    }

    deinit {
        for entry in created.reversed() {
            if entry.isDirectory { rmdir(entry.path) } else { unlink(entry.path) }
        }
    }

    /// The response of `handler` (by default one serving `root`) to a request for `path`. A method, so the fixture
    /// and its files are alive for the whole call: a temporary fixture could be freed before `respond` runs, and
    /// every request would then get a meaningless 404.
    func get(
        _ path: String, method: HTTPMethod = .GET, query: String? = nil, headers: HTTPHeaders = HTTPHeaders(),
        handler: StaticFileHandler? = nil, now: Int? = nil
    ) -> HTTPResponse {
        let handler = handler ?? StaticFileHandler(root: root)
        let request = staticRequest(path, method: method, query: query, headers: headers)
        guard let now else { return handler.respond(to: request) }
        return handler.respond(to: request, now: now)
    }

    /// Whether `alphabet.txt` is served: the control that proves a 404 elsewhere came from the handler's
    /// decision, not from a missing fixture.
    func servesAlphabet() -> Bool {
        consumeFileBody(get("/alphabet.txt")) == Self.alphabet
    }

    func directory(_ relative: String) {
        let path = base + "/" + relative
        #expect(mkdir(path, 0o755) == 0, "mkdir \(relative) failed: errno \(errno)")
        created.append((path, true))
    }

    func file(_ relative: String, _ contents: String, mtime: Int = StaticFileFixture.mtime) {
        let path = base + "/" + relative
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        #expect(descriptor >= 0, "open \(relative) failed: errno \(errno)")
        guard descriptor >= 0 else { return }
        created.append((path, false))
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        #expect(written == bytes.count)
        let time = timespec(tv_sec: mtime, tv_nsec: 0)
        let times = [time, time]
        #expect(futimens(descriptor, times) == 0)
        close(descriptor)
    }

    func link(_ relative: String, to target: String) {
        let path = base + "/" + relative
        #expect(symlink(target, path) == 0, "symlink \(relative) failed: errno \(errno)")
        created.append((path, false))
    }
}

/// A GET (or other method) of `path`, which must already be percent-encoded as it would arrive.
func staticRequest(
    _ path: String, method: HTTPMethod = .GET, query: String? = nil, headers: HTTPHeaders = HTTPHeaders()
) -> HTTPRequest {
    HTTPRequest(
        method: method, target: path + (query.map { "?" + $0 } ?? ""), path: path, query: query,
        version: .http1_1, headers: headers)
}

/// The file region of a response, if it has one.
func fileRegion(_ response: HTTPResponse) -> FileRegion? {
    if case .file(let region) = response.body { return region }
    return nil
}

/// Reads the bytes a `.file` body would send, then closes its descriptor as the connection would; nil for any
/// other body.
func consumeFileBody(_ response: HTTPResponse) -> String? {
    guard let region = fileRegion(response) else { return nil }
    defer { close(region.descriptor) }
    var buffer = [UInt8](repeating: 0, count: region.length)
    let count = buffer.withUnsafeMutableBytes { pread(region.descriptor, $0.baseAddress, region.length, region.offset) }
    guard count == region.length else { return nil }
    return String(decoding: buffer, as: UTF8.self)
}

/// The `code` of a JSON error body, e.g. `"not_found"`.
func errorCode(_ response: HTTPResponse) -> String? {
    guard case .bytes(let bytes) = response.body else { return nil }
    let text = String(decoding: bytes, as: UTF8.self)
    let prefix = #"{"error":{"code":""#
    guard text.hasPrefix(prefix) else { return nil }
    return String(text.dropFirst(prefix.count).prefix { $0 != "\"" })
}

@Suite struct StaticFileHandlerTests {
    @Test func servesAFileWithValidatorsAndHeaders() {
        let fixture = StaticFileFixture()
        let response = fixture.get("/alphabet.txt")
        #expect(response.status == .ok)
        #expect(response.headers["Content-Type"] == "text/plain; charset=utf-8")
        #expect(response.headers["ETag"] == StaticFileFixture.alphabetETag)
        #expect(response.headers["Last-Modified"] == StaticFileFixture.lastModified)
        #expect(response.headers["Accept-Ranges"] == "bytes")
        #expect(response.headers["Cache-Control"] == "public, max-age=3600")
        #expect(response.headers["X-Content-Type-Options"] == "nosniff")
        #expect(response.headers["Content-Range"] == nil)
        #expect(fileRegion(response)?.offset == 0)
        #expect(fileRegion(response)?.length == 26)
        #expect(response.body.knownLength == 26)
        #expect(consumeFileBody(response) == StaticFileFixture.alphabet)
    }

    @Test(arguments: [
        ("/style.css", "text/css; charset=utf-8"),
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/data.json", "application/json"),
        ("/image.png", "image/png"),
        ("/README", "application/octet-stream"),
        ("/index.html", "text/html; charset=utf-8"),
    ])
    func contentTypeFollowsTheExtension(path: String, contentType: String) {
        let fixture = StaticFileFixture()
        let response = fixture.get(path)
        #expect(response.status == .ok)
        #expect(response.headers["Content-Type"] == contentType)
        #expect(consumeFileBody(response) != nil)
    }

    @Test func cacheControlDependsOnHTMLAndIsConfigurable() {
        let fixture = StaticFileFixture()
        let page = fixture.get("/index.html")
        #expect(page.headers["Cache-Control"] == "no-cache")
        #expect(consumeFileBody(page) == "<h1>home</h1>")

        let custom = StaticFileHandler(
            root: fixture.root, htmlCacheControl: "no-store", assetCacheControl: "max-age=60")
        let customPage = fixture.get("/index.html", handler: custom)
        let customAsset = fixture.get("/style.css", handler: custom)
        #expect(customPage.headers["Cache-Control"] == "no-store")
        #expect(customAsset.headers["Cache-Control"] == "max-age=60")
        #expect(consumeFileBody(customPage) != nil)
        #expect(consumeFileBody(customAsset) != nil)
    }

    @Test func rootServesItsIndex() {
        let fixture = StaticFileFixture()
        let response = fixture.get("/")
        #expect(response.status == .ok)
        #expect(response.headers["Content-Type"] == "text/html; charset=utf-8")
        #expect(response.headers["Cache-Control"] == "no-cache")
        #expect(consumeFileBody(response) == "<h1>home</h1>")
    }

    @Test func directoryWithSlashServesItsIndex() {
        let fixture = StaticFileFixture()
        let response = fixture.get("/docs/")
        #expect(response.status == .ok)
        #expect(response.headers["Content-Type"] == "text/html; charset=utf-8")
        #expect(consumeFileBody(response) == "<h1>docs</h1>")
    }

    @Test func customIndexFileName() {
        let fixture = StaticFileFixture()
        let handler = StaticFileHandler(root: fixture.root, indexFile: "alphabet.txt")
        let response = fixture.get("/", handler: handler)
        #expect(response.headers["Content-Type"] == "text/plain; charset=utf-8")
        #expect(consumeFileBody(response) == StaticFileFixture.alphabet)
    }

    @Test func directoryWithoutSlashRedirectsKeepingTheQuery() {
        let fixture = StaticFileFixture()
        let plain = fixture.get("/docs")
        #expect(plain.status == .movedPermanently)
        #expect(plain.headers["Location"] == "/docs/")
        #expect(consumeFileBody(plain) == nil)

        let withQuery = fixture.get("/docs", query: "page=2&q=a%20b")
        #expect(withQuery.headers["Location"] == "/docs/?page=2&q=a%20b")
    }

    @Test func redirectNeverStartsWithTwoSlashes() {
        // `//docs/` in a Location would be a protocol-relative URL to a host named "docs": an open redirect.
        let fixture = StaticFileFixture()
        let response = fixture.get("//docs")
        #expect(response.status == .movedPermanently)
        #expect(response.headers["Location"] == "/docs/")
    }

    @Test func emptySegmentsAreSkipped() {
        let fixture = StaticFileFixture()
        let response = fixture.get("//alphabet.txt")
        #expect(response.status == .ok)
        #expect(consumeFileBody(response) == StaticFileFixture.alphabet)
    }

    @Test(arguments: ["/empty-dir", "/empty-dir/"])
    func directoryWithoutIndexIsNotFound(path: String) {
        let fixture = StaticFileFixture()
        let response = fixture.get(path)
        #expect(response.status == .notFound)
        #expect(errorCode(response) == "not_found")
        #expect(fixture.servesAlphabet())
    }

    @Test(arguments: [
        "/../etc/passwd",
        "/../outside/secret.txt",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/%2E%2E/outside/secret.txt",
        "/a/%2F..%2F",
        "/docs/%2F..%2Falphabet.txt",
        "/docs/../alphabet.txt",
        "/./alphabet.txt",
        "/%2e/alphabet.txt",
        "/alphabet.txt%00.png",
        "/%00",
        "/..%5c..%5cetc%5cpasswd",
        "/docs%5c..%5calphabet.txt",
        "/back%5Cslash.txt",
        "/%c0%ae%c0%ae/outside/secret.txt",
        "/caf%E9.txt",
        "/%zz",
        "/alphabet.txt%",
        "alphabet.txt",
        "/alphabet.txt/",
        "/missing.txt",
    ])
    func unsafeOrMissingPathsAreNotFound(path: String) {
        let fixture = StaticFileFixture()
        let response = fixture.get(path)
        #expect(response.status == .notFound)
        #expect(errorCode(response) == "not_found")
        #expect(consumeFileBody(response) == nil)
        #expect(fixture.servesAlphabet())
    }

    @Test(arguments: ["/.secret", "/%2esecret", "/.hidden/file.txt", "/.hidden/", "/to-hidden.txt"])
    func hiddenNamesAreNotFound(path: String) {
        let fixture = StaticFileFixture()
        let response = fixture.get(path)
        #expect(response.status == .notFound)
        #expect(fixture.servesAlphabet())
    }

    @Test func symbolicLinkOutOfTheRootIsNotFound() {
        let fixture = StaticFileFixture()
        let response = fixture.get("/escape.txt")
        #expect(response.status == .notFound)
        #expect(consumeFileBody(response) == nil)
        #expect(fixture.servesAlphabet())
    }

    @Test func symbolicLinkInsideTheRootIsServed() {
        let fixture = StaticFileFixture()
        let response = fixture.get("/inside.txt")
        #expect(response.status == .ok)
        #expect(consumeFileBody(response) == StaticFileFixture.alphabet)
    }

    @Test func rootReachedThroughASymbolicLinkStillWorks() {
        let fixture = StaticFileFixture()
        fixture.link("current", to: "root")
        let handler = StaticFileHandler(root: fixture.base + "/current")
        let response = fixture.get("/alphabet.txt", handler: handler)
        #expect(response.status == .ok)
        #expect(consumeFileBody(response) == StaticFileFixture.alphabet)
        #expect(fixture.get("/escape.txt", handler: handler).status == .notFound)
    }

    @Test func percentEncodedUTF8NameIsServed() {
        let fixture = StaticFileFixture()
        let response = fixture.get("/caf%C3%A9.txt")
        #expect(response.status == .ok)
        #expect(consumeFileBody(response) == "accent")
    }

    @Test func fifoIsNotFoundWithoutBlocking() {
        let fixture = StaticFileFixture()
        #expect(fixture.get("/pipe").status == .notFound)
        #expect(fixture.servesAlphabet())
    }

    @Test func missingRootIsNotFound() {
        let handler = StaticFileHandler(root: "/nonexistent-static-root-for-tests")
        #expect(handler.respond(to: staticRequest("/index.html")).status == .notFound)
    }

    @Test func headReturnsTheFullRegionForTheConnectionToClose() {
        let fixture = StaticFileFixture()
        let response = fixture.get("/alphabet.txt", method: .HEAD)
        #expect(response.status == .ok)
        #expect(response.headers["ETag"] == StaticFileFixture.alphabetETag)
        #expect(response.headers["Content-Type"] == "text/plain; charset=utf-8")
        #expect(fileRegion(response)?.length == 26)
        #expect(consumeFileBody(response) == StaticFileFixture.alphabet)
    }

    @Test(arguments: [HTTPMethod.POST, .PUT, .PATCH, .DELETE, .OPTIONS])
    func otherMethodsAreNotAllowed(method: HTTPMethod) {
        let fixture = StaticFileFixture()
        let response = fixture.get("/alphabet.txt", method: method)
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers["Allow"] == "GET, HEAD")
        #expect(errorCode(response) == "method_not_allowed")
    }

    @Test func emptyFileIsServedWithZeroLength() {
        let fixture = StaticFileFixture()
        let response = fixture.get("/empty.txt")
        #expect(response.status == .ok)
        #expect(fileRegion(response)?.length == 0)
        #expect(response.headers["ETag"] == "\"2ebc98a1-0\"")
        #expect(consumeFileBody(response) == "")
    }

    @Test func futureModificationTimeIsClampedToNow() {
        let fixture = StaticFileFixture()
        fixture.file("root/future.txt", "later", mtime: 2_000_000_000)
        let now = StaticFileFixture.mtime
        let response = fixture.get("/future.txt", now: now)
        #expect(response.headers["Last-Modified"] == StaticFileFixture.lastModified)
        // The ETag still reflects the real mtime, so it changes if the file does.
        #expect(response.headers["ETag"] == "\"77359400-5\"")
        #expect(consumeFileBody(response) == "later")
    }
}
