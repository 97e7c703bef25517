import Glibc

/// Serves the files under a root directory to GET and HEAD, with validators, conditional requests
/// (RFC 9110 §13) and single byte ranges (RFC 9110 §14).
///
/// `respond(to:)` does blocking file-system I/O (realpath, open, fstat): call it on a worker thread, never on an
/// event loop. A file is answered with a `.file` body whose descriptor the connection sends with sendfile(2) and
/// then closes.
///
/// Path safety: every segment of the still-encoded request path is percent-decoded on its own, and a segment
/// that decodes to `.`/`..`, any name starting with `.` (hidden files), or one containing `/`, `\` or NUL, or
/// invalid UTF-8, is refused. The joined path is then resolved with realpath(3) and must stay inside the resolved
/// root, so symbolic links cannot lead out of it. Every refusal is a 404, never a 403, so the response does not
/// reveal what exists.
public struct StaticFileHandler: Sendable {
    /// The directory served; resolved with realpath(3) on every request, so a deploy that swaps a symbolic link
    /// to a new release directory takes effect at once.
    public let root: String
    /// The file served for a directory (its name inside it), e.g. `index.html`.
    public let indexFile: String
    /// `Cache-Control` for HTML: `no-cache` makes browsers revalidate pages, which then pick up new asset URLs.
    public let htmlCacheControl: String
    /// `Cache-Control` for every other file.
    public let assetCacheControl: String

    public init(
        root: String, indexFile: String = "index.html", htmlCacheControl: String = "no-cache",
        assetCacheControl: String = "public, max-age=3600"
    ) {
        self.root = root
        self.indexFile = indexFile
        self.htmlCacheControl = htmlCacheControl
        self.assetCacheControl = assetCacheControl
    }

    /// The response to a GET or HEAD of `request.path`. Blocking: see the type's documentation.
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        respond(to: request, now: HTTPDate.currentEpochSeconds())
    }

    /// `respond(to:)` at a given current time (seconds since the epoch), which bounds `Last-Modified`.
    func respond(to request: HTTPRequest, now: Int) -> HTTPResponse {
        guard request.method == .GET || request.method == .HEAD else {
            // The router only sends GET and HEAD here; answer anything else correctly all the same (§15.5.6).
            return HTTPError(
                .methodNotAllowed, code: "method_not_allowed", message: "Only GET and HEAD are allowed here.",
                headers: ["Allow": "GET, HEAD"]
            ).response
        }
        guard let target = RequestPath(request.path) else { return HTTPError.notFound().response }
        guard let rootPath = Self.resolve(root) else { return HTTPError.notFound().response }

        var file: OpenFile
        switch Self.open(target.segments, inside: rootPath) {
        case .found(let found): file = found
        case .failed(let error): return error.response
        }
        var name = target.segments.last ?? ""
        if file.isDirectory {
            file.close()
            switch Self.open(target.segments + [indexFile], inside: rootPath) {
            case .found(let index): file = index
            case .failed(let error): return error.response
            }
            guard file.isRegular else {
                file.close()
                return HTTPError.notFound().response
            }
            if !target.hasTrailingSlash {
                // Relative URLs in the index page resolve against the directory only with the slash (RFC 3986 §5.2).
                file.close()
                var location = "/" + target.encodedSegments.joined(separator: "/") + "/"
                if let query = request.query { location += "?" + query }
                return HTTPResponse(status: .movedPermanently, headers: ["Location": location])
            }
            name = indexFile
        } else if !file.isRegular || target.hasTrailingSlash {
            file.close()
            return HTTPError.notFound().response
        }
        return respond(to: request, with: file, contentType: MIMETypes.contentType(forPath: name), now: now)
    }

    /// Serves one regular file the caller located itself (a content-addressed blob, never a path built from the
    /// request) with validators, conditional requests and ranges as for the root's files, but the caller's content
    /// type, entity tag (quoted), `Cache-Control` and extra headers. 404 when there is no such regular file.
    /// Blocking: see the type's documentation.
    public static func respond(
        to request: HTTPRequest, fileAtPath path: String, contentType: String, etag: String, cacheControl: String,
        headers extra: HTTPHeaders = HTTPHeaders()
    ) -> HTTPResponse {
        var descriptor: Int32
        repeat {
            descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else { return lookupError(errno).response }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            _ = Glibc.close(descriptor)
            return HTTPError.notFound().response
        }
        let file = OpenFile(
            descriptor: descriptor, isRegular: true, isDirectory: false, size: Int(info.st_size),
            modificationTime: Int(info.st_mtim.tv_sec))
        return serve(
            request, file: file, contentType: contentType, etag: etag, cacheControl: cacheControl, extra: extra,
            now: HTTPDate.currentEpochSeconds())
    }

    // MARK: - Validators, conditions and ranges

    private func respond(to request: HTTPRequest, with file: OpenFile, contentType: String, now: Int) -> HTTPResponse {
        // nginx's format: mtime and size in hex. Not a content hash, but it changes whenever either does, and
        // clients only ever compare it for equality.
        let etag = "\"" + String(file.modificationTime, radix: 16) + "-" + String(file.size, radix: 16) + "\""
        return Self.serve(
            request, file: file, contentType: contentType, etag: etag,
            cacheControl: contentType.hasPrefix("text/html") ? htmlCacheControl : assetCacheControl,
            extra: HTTPHeaders(), now: now)
    }

    private static func serve(
        _ request: HTTPRequest, file: OpenFile, contentType: String, etag: String, cacheControl: String,
        extra: HTTPHeaders, now: Int
    ) -> HTTPResponse {
        // A Last-Modified later than the response's Date is not allowed (§8.8.2.1): clamp a future mtime to now.
        let lastModified = min(file.modificationTime, now)
        var headers = HTTPHeaders()
        headers.add("ETag", etag)
        headers.add("Last-Modified", HTTPDate.format(epochSeconds: lastModified))
        headers.add("Cache-Control", cacheControl)
        for field in extra { headers.add(field.name, field.value) }

        switch evaluatePreconditions(request.headers, etag: etag, lastModified: lastModified, now: now) {
        case .proceed:
            break
        case .notModified:
            // §15.4.5: a 304 repeats the validators and Cache-Control a 200 would carry, and has no body.
            file.close()
            return HTTPResponse(status: .notModified, headers: headers)
        case .preconditionFailed:
            file.close()
            return HTTPError(
                .preconditionFailed, code: "precondition_failed", message: "The file does not match the precondition."
            ).response
        }

        headers.add("Content-Type", contentType)
        headers.add("Accept-Ranges", "bytes")
        headers.add("X-Content-Type-Options", "nosniff")

        var selection = RangeSelection.full
        // Range is defined for GET only (§14.2); a HEAD gets the full 200 head.
        let ranges = request.headers.values("Range")
        if request.method == .GET, ranges.count == 1,
            rangeCondition(request.headers, etag: etag, lastModified: lastModified, now: now)
        {
            selection = RangeSelection(header: ranges[0], completeLength: file.size)
        }

        switch selection {
        case .full:
            let region = FileRegion(descriptor: file.descriptor, offset: 0, length: file.size)
            return HTTPResponse(status: .ok, headers: headers, body: .file(region))
        case .partial(let range):
            headers.add("Content-Range", range.contentRange(completeLength: file.size))
            let region = FileRegion(descriptor: file.descriptor, offset: range.offset, length: range.length)
            return HTTPResponse(status: .partialContent, headers: headers, body: .file(region))
        case .unsatisfiable:
            file.close()
            return HTTPError(
                .rangeNotSatisfiable, code: "range_not_satisfiable", message: "The range is outside the file.",
                headers: ["Content-Range": ByteRange.unsatisfiedContentRange(completeLength: file.size)]
            ).response
        }
    }

    private enum Precondition {
        case proceed, notModified, preconditionFailed
    }

    /// Steps 1–4 of the evaluation order in RFC 9110 §13.2.2, for a representation that exists and a GET or HEAD.
    private static func evaluatePreconditions(_ headers: HTTPHeaders, etag: String, lastModified: Int, now: Int)
        -> Precondition
    {
        let ifMatch = headers.values("If-Match")
        if !ifMatch.isEmpty {
            // §13.1.1: strong comparison.
            if !EntityTag.listMatches(ifMatch, current: etag, weakComparison: false) { return .preconditionFailed }
        } else if let date = singleDate(headers, "If-Unmodified-Since", now: now), lastModified > date {
            return .preconditionFailed
        }
        let ifNoneMatch = headers.values("If-None-Match")
        if !ifNoneMatch.isEmpty {
            // §13.1.2: weak comparison; If-Modified-Since is then ignored.
            if EntityTag.listMatches(ifNoneMatch, current: etag, weakComparison: true) { return .notModified }
        } else if let date = singleDate(headers, "If-Modified-Since", now: now), lastModified <= date {
            return .notModified
        }
        return .proceed
    }

    /// Step 5 of §13.2.2: whether `Range` applies. It does without `If-Range`; with it, only when the client's
    /// validator still matches (§13.1.5), so a client never splices bytes of two versions of the file.
    private static func rangeCondition(_ headers: HTTPHeaders, etag: String, lastModified: Int, now: Int) -> Bool {
        let values = headers.values("If-Range")
        if values.isEmpty { return true }
        guard values.count == 1 else { return false }
        let value = values[0].trimmingSpaces
        if EntityTag.looksLikeEntityTag(value) { return EntityTag.strongMatch(value, current: etag) }
        // A date validator must be strong (§8.8.2.2): a Last-Modified in the current second could still describe
        // two versions of the file, so it never satisfies If-Range.
        guard let date = HTTPDate.parse(value, now: now) else { return false }
        return date == lastModified && lastModified < now
    }

    /// The date of a date-valued precondition field, or nil when it is absent, repeated, or not an HTTP-date, all
    /// of which §13.1.3 and §13.1.4 say to ignore.
    private static func singleDate(_ headers: HTTPHeaders, _ name: String, now: Int) -> Int? {
        let values = headers.values(name)
        guard values.count == 1 else { return nil }
        return HTTPDate.parse(values[0], now: now)
    }

    // MARK: - File system

    /// An open descriptor with what fstat(2) said about it.
    private struct OpenFile {
        let descriptor: Int32
        let isRegular: Bool
        let isDirectory: Bool
        let size: Int
        let modificationTime: Int

        func close() {
            // Not retried on EINTR: on Linux the descriptor is released even then, and a retry could close a
            // descriptor another thread has just been given.
            _ = Glibc.close(descriptor)
        }
    }

    private enum Lookup {
        case found(OpenFile)
        case failed(HTTPError)
    }

    /// Resolves `segments` under `rootPath` (already resolved), checks the result stays inside it without passing
    /// through a hidden name, and opens it.
    private static func open(_ segments: [String], inside rootPath: String) -> Lookup {
        var path = rootPath
        for segment in segments {
            if path.utf8.last != UInt8(ascii: "/") { path += "/" }
            path += segment
        }
        guard let resolved = resolve(path) else { return .failed(lookupError(errno)) }
        guard let relative = relativePath(of: resolved, inside: rootPath),
            !relative.split(separator: UInt8(ascii: "/")).contains(where: { $0.first == UInt8(ascii: ".") })
        else { return .failed(.notFound()) }

        // O_NOFOLLOW: realpath returned a path free of links, so a link here was put there since; refuse it.
        // O_NONBLOCK: opening a FIFO would otherwise block this thread until some writer appeared.
        var descriptor: Int32
        repeat {
            descriptor = Glibc.open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else { return .failed(lookupError(errno)) }

        // fstat the descriptor itself, so what is checked is what gets sent (no stat-then-open race).
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            _ = Glibc.close(descriptor)
            return .failed(.internalError())
        }
        let type = info.st_mode & S_IFMT
        if type == S_IFREG {
            // Regular-file reads ignore O_NONBLOCK today; clear it anyway so sendfile never sees EAGAIN from the
            // file side.
            let flags = fcntl(descriptor, F_GETFL)
            if flags < 0 || fcntl(descriptor, F_SETFL, flags & ~O_NONBLOCK) < 0 {
                _ = Glibc.close(descriptor)
                return .failed(.internalError())
            }
        }
        return .found(
            OpenFile(
                descriptor: descriptor, isRegular: type == S_IFREG, isDirectory: type == S_IFDIR,
                size: Int(info.st_size), modificationTime: Int(info.st_mtim.tv_sec)))
    }

    /// The part of `resolved` after `rootPath`, as bytes: empty for the root itself, nil when outside it.
    /// Compares bytes, not `String`s, because String equality is Unicode-canonical and the file system's is not.
    private static func relativePath(of resolved: String, inside rootPath: String) -> ArraySlice<UInt8>? {
        let path = Array(resolved.utf8)
        let root = Array(rootPath.utf8)
        if root == [UInt8(ascii: "/")] { return path[1...] }
        guard path.starts(with: root) else { return nil }
        if path.count == root.count { return [] }
        guard path[root.count] == UInt8(ascii: "/") else { return nil }
        return path[(root.count + 1)...]
    }

    /// realpath(3), or nil (with `errno` set) when the path does not resolve or is not UTF-8.
    private static func resolve(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        guard let resolved = String(validatingCString: pointer) else {
            errno = ENOENT
            return nil
        }
        return resolved
    }

    /// 404 for anything that means "not there for you"; 503 when the server is out of descriptors or memory, so a
    /// transient shortage is not cached as a missing file; 500 for the rest (EIO and the like).
    private static func lookupError(_ code: Int32) -> HTTPError {
        switch code {
        case ENOENT, ENOTDIR, EACCES, EPERM, ELOOP, ENAMETOOLONG, ENXIO, ENODEV:
            .notFound()
        case EMFILE, ENFILE, ENOMEM:
            HTTPError(.serviceUnavailable, code: "unavailable", message: "The server is busy; try again shortly.")
        default:
            .internalError()
        }
    }
}

/// The request path split into checked, decoded segments.
private struct RequestPath {
    /// Decoded segments, safe to join under the root.
    var segments: [String] = []
    /// The same segments still percent-encoded, to build a redirect that names exactly what was asked for.
    var encodedSegments: [Substring] = []
    var hasTrailingSlash: Bool

    /// nil when the path is not absolute or any segment is unsafe (see `StaticFileHandler`). Empty segments
    /// (`//`) are skipped: they name nothing on a file system.
    init?(_ path: String) {
        guard path.utf8.first == UInt8(ascii: "/") else { return nil }
        hasTrailingSlash = path.utf8.last == UInt8(ascii: "/")
        // Split on the byte, not the Character: a combining mark after `/` would otherwise hide the separator.
        for bytes in path.utf8.split(separator: UInt8(ascii: "/")) {
            let encoded = Substring(bytes)
            // Decoding a segment at a time keeps an encoded `%2F` from ever acting as a separator.
            guard let segment = PercentDecoding.decode(String(encoded)), segment.utf8.first != UInt8(ascii: "."),
                !segment.utf8.contains(where: { $0 == 0 || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "\\") })
            else { return nil }
            segments.append(segment)
            encodedSegments.append(encoded)
        }
    }
}
