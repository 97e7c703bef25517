import Blobs
import ChatCore
import Foundation
import HTTPServer
import Storage
import SystemSupport

/// Cloudinary's Upload API and delivery URLs on local disk (docs/blobs.md): `POST /v1_1/:cloud/:resource_type/upload`
/// (streamed multipart, chunked with `Content-Range`), `POST /v1_1/:cloud/:resource_type/destroy`, and
/// `GET /:cloud/:resource_type/:type/…`.
struct CloudinaryRoutes: Sendable {
    let service: BlobService
    let workers: WorkerPool
    /// Upload API requests per client address (`rate_limit.api_per_minute`); past it 420, as Cloudinary answers.
    let limiter: RateLimiter
    /// Serves what is not a blob under the same shape of path (the web client's files), if configured.
    let fallback: Handler?
    /// Fetches `file=<URL>` uploads; nil when `[blobs] remote_fetch` is off.
    let remoteFetch: RemoteFetchPool?

    static let resourceTypes: Set<String> = ["image", "video", "raw", "auto"]

    /// Which requests stream their body: uploads, with the largest limit any upload may reach.
    static func streamedBodyLimit(_ request: HTTPRequest, policy: BlobPolicy) -> Int? {
        guard request.method == .POST else { return nil }
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: false)
        let isUpload =
            (parts.count == 5 && parts[1] == "v1_1" && parts[4] == "upload") || request.path == "/api/v1/uploads"
        guard isUpload else { return nil }
        // The multipart framing and text fields around the file.
        return Int(clamping: max(policy.maxImageBytes, policy.maxVideoBytes, policy.maxRawBytes)) + (1 << 20)
    }

    func register(in router: inout Router) {
        router.post("/v1_1/:cloud/:resource_type/upload") { request, context in
            let cloud = request.pathParameters["cloud"] ?? ""
            let resourceType = request.pathParameters["resource_type"] ?? ""
            if let refused = limit(context) { return .now(refused) }
            return CloudinaryJSON.reply {
                try checkCloud(cloud, resourceType: resourceType)
                if let range = request.headers["Content-Range"] {
                    return try await uploadChunk(request, resourceType: resourceType, rangeHeader: range)
                }
                return try await upload(request, resourceType: resourceType, owner: nil)
            }
        }
        router.post("/v1_1/:cloud/:resource_type/destroy") { request, context in
            let cloud = request.pathParameters["cloud"] ?? ""
            let resourceType = request.pathParameters["resource_type"] ?? ""
            if let refused = limit(context) { return .now(refused) }
            return CloudinaryJSON.reply {
                try checkCloud(cloud, resourceType: resourceType)
                return try await destroy(request, resourceType: resourceType)
            }
        }
        router.get("/:cloud/:resource_type/:type/*rest") { request, context in
            guard request.pathParameters["cloud"] == service.credentials.cloudName else {
                if let fallback { return try fallback(request, context) }
                throw HTTPError.notFound()
            }
            return CloudinaryJSON.reply { try await deliver(request, clientIP: context.clientIP) }
        }
    }

    /// The 420 answer (with `Retry-After`) when the client spent its budget, else nil.
    private func limit(_ context: RequestContext) -> HTTPResponse? {
        let now = Double(MonotonicClock.nanoseconds()) / 1e9
        guard case .limited(let retryAfter) = limiter.take("blobs:" + context.clientIP, now: now) else { return nil }
        var response = CloudinaryJSON.error(.rateLimited("Rate Limit Exceeded; try again in \(retryAfter) s"))
        response.headers.set("Retry-After", String(retryAfter))
        return response
    }

    private func checkCloud(_ cloud: String, resourceType: String) throws(BlobError) {
        guard cloud == service.credentials.cloudName else { throw .notFound("Unknown cloud name \(cloud.prefix(64))") }
        guard Self.resourceTypes.contains(resourceType) else {
            throw .badRequest("Invalid resource type \(resourceType.prefix(32))")
        }
    }

    // MARK: Upload

    /// A whole upload (or the chat API's, with `owner`): read, authorize, store, answer.
    func upload(_ request: HTTPRequest, resourceType: String, owner: Int64?) async throws -> HTTPResponse {
        let reader = UploadReader(service: service, workers: workers, remoteFetch: remoteFetch)
        let limit = service.byteLimit(resourceType: resourceType, preset: nil)
        var preset: UploadPreset?
        let upload = try await reader.read(request, limit: limit) { fields, source in
            // Refused before any byte of the file is stored (or fetched) when the credentials came first (the
            // SDKs send the file last) or every field is in; otherwise checked once all fields are in, the
            // staged file then discarded.
            let signed =
                Self.basicCredentials(request) != nil || fields.contains { $0.name == "signature" }
            if owner == nil, signed || source != .part || fields.contains(where: { $0.name == "upload_preset" }) {
                preset = try service.authorize(fields: fields, basic: Self.basicCredentials(request))
            }
            guard source == .url else { return nil }
            // A fetch goes out with the server's address: only for the API key's holder, never for a chat user
            // or the anonymous client of an unsigned preset.
            guard owner == nil else {
                throw BlobError.badRequest("Upload the file itself: URLs are fetched only through the Upload API")
            }
            guard signed else {
                throw BlobError.badRequest("Remote fetch needs a signed request: unsigned presets cannot fetch URLs")
            }
            return service.byteLimit(resourceType: resourceType, preset: preset)
        }
        if owner == nil {
            do {
                preset = try service.authorize(fields: upload.fields, basic: Self.basicCredentials(request))
            } catch {
                if let staged = upload.staged { service.files.discard(staged) }
                throw error
            }
        }
        guard let staged = upload.staged else { throw BlobError.badRequest("Missing required parameter - file") }
        var options = try Self.options(upload.fields, resourceType: resourceType, preset: preset)
        options.filename = upload.filename
        if let owner {
            options.ownerUserID = owner
            options.type = .authenticated
        }
        let stored = try await service.store(staged, options: options, preset: preset)
        return .json(
            UploadResponseJSON(
                asset: stored.asset, stored: stored, host: DeliveryURLs.host(of: request),
                urls: DeliveryURLs(service: service)))
    }

    /// One chunk of an `upload_large`: appended to the upload's partial file in order; the last one stores it.
    private func uploadChunk(_ request: HTTPRequest, resourceType: String, rangeHeader: String) async throws
        -> HTTPResponse
    {
        guard let range = ContentRange(header: rangeHeader) else {
            throw BlobError.badRequest(ChunkedUploadError.invalidContentRange.description)
        }
        guard let uploadID = request.headers["X-Unique-Upload-Id"], ChunkedUpload.isValidUploadID(uploadID) else {
            throw BlobError.badRequest(ChunkedUploadError.invalidUploadID.description)
        }
        let limit = service.byteLimit(resourceType: resourceType, preset: nil)
        let chunks = ChunkStore(service: service, workers: workers)
        let basic = Self.basicCredentials(request)
        let outcome = try await chunks.append(
            request, range: range, uploadID: uploadID, limit: limit,
            authorize: { fields in _ = try service.authorize(fields: fields, basic: basic) },
            publicID: { upload in
                // The id the whole upload will have, fixed by its first chunk (as Cloudinary answers it).
                let options = try Self.options(upload.fields, resourceType: resourceType, preset: nil)
                let type: ResourceType = resourceType == "image" ? .image : resourceType == "video" ? .video : .raw
                do throws(PublicIDError) {
                    return try PublicID.make(
                        publicID: options.publicID, folder: options.folder, useFilename: options.useFilename,
                        uniqueFilename: options.uniqueFilename, filename: upload.filename, resourceType: type)
                } catch {
                    throw BlobError.badRequest(error.description)
                }
            })
        guard case .complete(let staged, let upload, let publicID) = outcome else {
            guard case .partial(let received, let upload, let publicID) = outcome else {
                throw BlobError.unavailable("chunk")
            }
            _ = try service.authorize(fields: upload.fields, basic: basic)
            return .json(
                ChunkProgressJSON(
                    done: false, bytes: received, public_id: publicID,
                    resource_type: resourceType == "auto" ? "raw" : resourceType))
        }
        let preset = try service.authorize(fields: upload.fields, basic: Self.basicCredentials(request))
        var options = try Self.options(upload.fields, resourceType: resourceType, preset: preset)
        options.filename = upload.filename
        // The id fixed by the first chunk already includes the folder.
        options.publicID = publicID
        options.folder = nil
        let stored = try await service.store(staged, options: options, preset: preset)
        return .json(
            UploadResponseJSON(
                asset: stored.asset, stored: stored, host: DeliveryURLs.host(of: request),
                urls: DeliveryURLs(service: service)))
    }

    /// The upload options from the request's parameters (Cloudinary's names) and its preset's defaults.
    static func options(_ fields: [(name: String, value: String)], resourceType: String, preset: UploadPreset?)
        throws(BlobError) -> UploadOptions
    {
        var values: [String: String] = [:]
        var tags: [String] = []
        for (name, value) in fields {
            if name == "tags[]" {
                tags.append(value)
            } else {
                values[name] = value
            }
        }
        if let joined = values["tags"] { tags += joined.split(separator: ",").map(String.init) }
        var options = UploadOptions(resourceType: resourceType)
        options.publicID = values["public_id"].flatMap { $0.isEmpty ? nil : $0 }
        options.folder = values["folder"].flatMap { $0.isEmpty ? nil : $0 }
        options.useFilename = Self.flag(values["use_filename"]) ?? false
        options.uniqueFilename = Self.flag(values["unique_filename"]) ?? true
        options.overwrite = Self.flag(values["overwrite"]) ?? true
        options.tags = tags.map { $0.trimmingSpaces }.filter { !$0.isEmpty }.map(String.init)
        options.format = values["format"].flatMap { $0.isEmpty ? nil : $0 }
        switch values["type"] ?? preset?.type ?? "upload" {
        case "", "upload": options.type = .upload
        case "authenticated": options.type = .authenticated
        case let other: throw .badRequest("Invalid type \(other.prefix(32)): upload or authenticated")
        }
        if let context = values["context"], !context.isEmpty {
            for pair in context.split(separator: "|") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                options.context[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
        }
        return options
    }

    private static func flag(_ value: String?) -> Bool? {
        switch value?.lowercased() {
        case "true", "1": true
        case "false", "0": false
        default: nil
        }
    }

    /// `Authorization: Basic base64(api_key:api_secret)` (RFC 7617), if sent.
    static func basicCredentials(_ request: HTTPRequest) -> (key: String, secret: String)? {
        guard let value = request.headers["Authorization"] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, HTTPHeaders.namesEqual(parts[0], "Basic"),
            let decoded = Data(base64Encoded: String(parts[1].trimmingSpaces)),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    // MARK: Destroy

    private func destroy(_ request: HTTPRequest, resourceType: String) async throws -> HTTPResponse {
        let fields = try Self.formFields(request)
        _ = try service.authorize(fields: fields, basic: Self.basicCredentials(request))
        let values = Dictionary(fields.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
        guard let publicID = values["public_id"], !publicID.isEmpty else {
            throw BlobError.badRequest("Missing required parameter - public_id")
        }
        guard
            let type = AssetRecord.DeliveryType(rawValue: values["type"].flatMap { $0.isEmpty ? nil : $0 } ?? "upload"),
            let resource = AssetRecord.ResourceType(rawValue: resourceType == "auto" ? "image" : resourceType)
        else { throw BlobError.badRequest("Invalid type or resource type") }
        let deleted = try await service.destroy(resourceType: resource, type: type, publicID: publicID)
        return .json(["result": deleted ? "ok" : "not found"])
    }

    /// The fields of a small buffered form: multipart (the SDKs), URL-encoded, or JSON.
    static func formFields(_ request: HTTPRequest) throws -> [(name: String, value: String)] {
        let contentType = request.headers["Content-Type"] ?? ""
        if let boundary = MultipartParser.boundary(fromContentType: contentType) {
            return try MultipartFieldCollector.fields(in: request.body, boundary: boundary)
        }
        if contentType.lowercased().hasPrefix("application/json") {
            let object = try request.decodeJSON([String: JSONScalar].self)
            return object.map { ($0.key, $0.value.text) }
        }
        return PercentDecoding.queryItems(String(decoding: request.body, as: UTF8.self))
    }

    // MARK: Delivery

    /// The value of `__cld_token__` in a query, as sent: its ACL holds percent-escapes that are part of it. A
    /// value whose `=` signs arrive escaped (`%3D`, as `URLSearchParams` writes them) is decoded once.
    static func authToken(in query: String?) -> String? {
        let prefix = CloudinaryAuthToken.queryName + "="
        guard let raw = query?.split(separator: "&").first(where: { $0.hasPrefix(prefix) })?.dropFirst(prefix.count)
        else { return nil }
        if raw.contains("=") { return String(raw) }  // every token has `exp=`: this one is as sent
        return PercentDecoding.decode(String(raw)) ?? String(raw)
    }

    private func deliver(_ request: HTTPRequest, clientIP: String) async throws -> HTTPResponse {
        // The raw (still percent-encoded) components after /cloud/resource_type/type/, as the signature covers them.
        var components = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst(4).map { $0 }
        guard let resourceType = request.pathParameters["resource_type"].flatMap(AssetRecord.ResourceType.init),
            let type = request.pathParameters["type"].flatMap(AssetRecord.DeliveryType.init), !components.isEmpty
        else { throw BlobError.notFound("Resource not found") }
        var signed = false
        if let first = components.first, first.hasPrefix("s--"), first.hasSuffix("--") {
            guard
                CloudinarySignature.isValidDelivery(
                    signatureComponent: first, pathAfterSignature: Array(components.dropFirst()),
                    secret: service.credentials.apiSecret)
            else { throw BlobError.unauthorized("Invalid signature") }
            signed = true
            components.removeFirst()
        }
        // Public (`upload`) assets need no token: one there, even a bad one, changes nothing.
        if !signed, type == .authenticated, let token = Self.authToken(in: request.query) {
            do throws(CloudinaryAuthToken.Failure) {
                try CloudinaryAuthToken.verify(
                    token, path: request.path, clientIP: clientIP, now: service.clock() / 1000,
                    key: service.credentials.authTokenKey)
            } catch {
                throw BlobError.unauthorized(error.description)
            }
            signed = true
        }
        if type == .authenticated && !signed {
            throw BlobError.unauthorized("This resource is only delivered with a signed URL or a token")
        }
        var version: Int64?
        if let index = components.firstIndex(where: CloudinarySignature.isVersionComponent) {
            if index > 0 {
                throw BlobError.badRequest(
                    "Transformations are not supported: \(components[..<index].joined(separator: "/").prefix(100))")
            }
            version = Int64(components[index].dropFirst())
            components.remove(at: index)
        } else if components.count > 1, Self.looksLikeTransformation(components[0]) {
            throw BlobError.badRequest("Transformations are not supported: \(components[0].prefix(100))")
        }
        guard let file = PercentDecoding.decode(components.joined(separator: "/")) else {
            throw BlobError.notFound("Resource not found")
        }
        var publicID = file
        var requestedFormat: String?
        if resourceType != .raw, let dot = file.lastIndex(of: "."), !file[file.index(after: dot)...].contains("/") {
            publicID = String(file[..<dot])
            requestedFormat = String(file[file.index(after: dot)...]).lowercased()
        }
        // A versioned URL is served as immutable: it only ever names the bytes of that version.
        guard let asset = try await service.asset(resourceType: resourceType, type: type, publicID: publicID),
            version == nil || version == asset.version, let path = service.path(of: asset)
        else { throw BlobError.notFound("Resource not found") }
        let versioned = version != nil
        if let requestedFormat, requestedFormat != asset.format, !(requestedFormat == "jpeg" && asset.format == "jpg") {
            throw BlobError.badRequest(
                "Format conversion (\(asset.format) to \(requestedFormat.prefix(16))) is not supported")
        }
        var headers = HTTPHeaders()
        let contentType = Self.contentType(of: asset)
        if contentType == "application/octet-stream" {
            // Stored files never render on our origin: no stored-HTML XSS.
            let name = (asset.originalFilename ?? "file").filter { character in
                character != "\"" && character != "\\"
                    && !character.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
            }
            headers.add("Content-Disposition", "attachment; filename=\"\(name)\"")
        }
        let scope = asset.type == .authenticated ? "private" : "public"
        let cacheControl = versioned ? "\(scope), max-age=31536000, immutable" : "\(scope), max-age=3600"
        let etag = "\"" + asset.etag + "\""
        let extra = headers
        return try await workers.run {
            StaticFileHandler.respond(
                to: request, fileAtPath: path, contentType: contentType, etag: etag, cacheControl: cacheControl,
                headers: extra)
        }
    }

    /// A path component like `w_100,h_100,c_fill` (Cloudinary's transformation parameters).
    static func looksLikeTransformation(_ component: Substring) -> Bool {
        component.split(separator: ",").allSatisfy { parameter in
            guard let underscore = parameter.firstIndex(of: "_") else { return false }
            let key = parameter[..<underscore]
            return (1...3).contains(key.count) && key.allSatisfy { $0.isLetter && $0.isLowercase }
        }
    }

    static func contentType(of asset: AssetRecord) -> String {
        switch (asset.resourceType, asset.format) {
        case (.image, "png"): "image/png"
        case (.image, "jpg"): "image/jpeg"
        case (.image, "gif"): "image/gif"
        case (.image, "webp"): "image/webp"
        case (.image, "pdf"): "application/pdf"
        case (.video, "mp4"), (.video, "m4a"): "video/mp4"
        case (.video, "mov"): "video/quicktime"
        case (.video, "webm"): "video/webm"
        case (.video, "mkv"): "video/x-matroska"
        default: "application/octet-stream"
        }
    }
}

/// `{"done": false, "bytes": N, "public_id": …, "resource_type": …}`: a chunk of `upload_large` was stored.
struct ChunkProgressJSON: Encodable {
    let done: Bool
    let bytes: Int64
    let public_id: String?
    let resource_type: String
}

/// A JSON value of a flat object body (destroy sent as JSON).
enum JSONScalar: Decodable {
    case text(String)
    case number(Double)
    case flag(Bool)
    case null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text(text)
        } else if let flag = try? container.decode(Bool.self) {
            self = .flag(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else {
            self = .null
        }
    }

    var text: String {
        switch self {
        case .text(let text): text
        case .number(let number): number == number.rounded() ? String(Int64(number)) : String(number)
        case .flag(let flag): flag ? "true" : "false"
        case .null: ""
        }
    }
}
