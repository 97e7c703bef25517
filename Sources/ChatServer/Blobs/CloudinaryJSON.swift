import Blobs
import Foundation
import HTTPServer
import Storage

/// The JSON answers of the Cloudinary-compatible routes, shaped as Cloudinary's (the SDKs read them).
enum CloudinaryJSON {
    /// `{"error":{"message":…}}` with Cloudinary's status for each failure (the SDKs map statuses to their
    /// exception classes: 400 BadRequest, 401 AuthorizationRequired, 403 NotAllowed, 404 NotFound, 409
    /// AlreadyExists, 420 RateLimited).
    static func error(_ error: BlobError) -> HTTPResponse {
        let status: HTTPStatus =
            switch error {
            case .badRequest: .badRequest
            case .unauthorized: .unauthorized
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .conflict: .conflict
            case .tooLarge: .badRequest
            case .rateLimited: HTTPStatus(code: 420, reason: "Enhance Your Calm")
            case .unavailable: .internalServerError
            }
        var body = #"{"error":{"message":"#
        JSONText.appendString(error.message, to: &body)
        body += "}}"
        return HTTPResponse(
            status: status, headers: ["Content-Type": "application/json"], body: .bytes(Array(body.utf8)))
    }

    /// Runs an async Cloudinary handler: blob errors become their answers; others the usual error shape.
    static func reply(_ body: @escaping @Sendable () async throws -> HTTPResponse) -> Reply {
        .async {
            do {
                return try await body()
            } catch let error as BlobError {
                return Self.error(error)
            }
        }
    }
}

/// Where an asset is delivered: `http(s)://<host>/<cloud>/<resource_type>/<type>/[s--SIG--/]v<version>/<id>[.<format>]`.
struct DeliveryURLs: Sendable {
    let service: BlobService
    /// How long an attachment's URL stays valid (`blobs.attachment_url_ttl`), in seconds.
    var attachmentTTL: Int64 = 3600

    /// The path after the host; signed for `authenticated` assets (as the SDK's `sign_url=True`).
    func path(of asset: AssetRecord) -> String {
        path(
            cloudName: asset.cloudName, resourceType: asset.resourceType.rawValue, type: asset.type.rawValue,
            publicID: asset.publicID, format: asset.format, version: asset.version)
    }

    /// The delivery path of a message attachment. A private (`authenticated`) one carries a token that expires
    /// between `attachmentTTL` and 7/6 of it from now: the expiry is rounded up to a sixth of the TTL, so that
    /// the same attachment keeps one URL (one browser cache entry) for a while instead of a new one per read.
    func path(of attachment: AttachmentRecord) -> String {
        let authenticated = attachment.type == AssetRecord.DeliveryType.authenticated.rawValue
        let path = path(
            cloudName: attachment.cloudName, resourceType: attachment.resourceType, type: attachment.type,
            publicID: attachment.publicID, format: attachment.format, version: attachment.version,
            signed: false)
        guard authenticated else { return path }
        let step = max(attachmentTTL / 6, 1)
        let earliest = service.clock() / 1000 + attachmentTTL
        let expiration = (earliest + step - 1) / step * step
        return path + "?"
            + CloudinaryAuthToken.make(path: path, expiration: expiration, key: service.credentials.authTokenKey)
    }

    private func path(
        cloudName: String, resourceType: String, type: String, publicID: String, format: String, version: Int64,
        signed: Bool = true
    ) -> String {
        let escaped = CloudinarySignature.smartEscape(publicID)
        let file = resourceType == "raw" || format.isEmpty ? escaped : escaped + "." + format
        var path = "/\(cloudName)/\(resourceType)/\(type)/"
        if signed, type == AssetRecord.DeliveryType.authenticated.rawValue {
            path += CloudinarySignature.deliverySignature(toSign: file, secret: service.credentials.apiSecret) + "/"
        }
        return path + "v\(version)/" + file
    }

    /// The host to put in URLs: the request's `Host`, else the listening address.
    static func host(of request: HTTPRequest) -> String {
        request.headers["Host"] ?? "127.0.0.1"
    }
}

/// An upload answer (Cloudinary's upload response fields).
struct UploadResponseJSON: Encodable {
    let asset: AssetRecord
    let stored: StoredAsset
    let host: String
    let urls: DeliveryURLs

    enum CodingKeys: String, CodingKey {
        case asset_id, public_id, version, version_id, signature, width, height, format, resource_type, created_at
        case tags, bytes, type, etag, placeholder, url, secure_url, folder, original_filename, api_key, existing
        case overwritten, context
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        let secret = urls.service.credentials.apiSecret
        try container.encode(asset.assetID, forKey: .asset_id)
        try container.encode(asset.publicID, forKey: .public_id)
        try container.encode(asset.version, forKey: .version)
        try container.encode(asset.versionID, forKey: .version_id)
        try container.encode(
            CloudinarySignature.responseSignature(publicID: asset.publicID, version: asset.version, secret: secret),
            forKey: .signature)
        try container.encodeIfPresent(asset.width, forKey: .width)
        try container.encodeIfPresent(asset.height, forKey: .height)
        if asset.resourceType != .raw { try container.encode(asset.format, forKey: .format) }
        try container.encode(asset.resourceType.rawValue, forKey: .resource_type)
        try container.encode(KeysCommand.date(Int(asset.createdAt / 1000)), forKey: .created_at)
        try container.encode(asset.tags, forKey: .tags)
        try container.encode(asset.bytes, forKey: .bytes)
        try container.encode(asset.type.rawValue, forKey: .type)
        try container.encode(asset.etag, forKey: .etag)
        try container.encode(false, forKey: .placeholder)
        let path = urls.path(of: asset)
        try container.encode("http://" + host + path, forKey: .url)
        try container.encode("https://" + host + path, forKey: .secure_url)
        try container.encode(asset.folder, forKey: .folder)
        try container.encodeIfPresent(asset.originalFilename, forKey: .original_filename)
        try container.encode(urls.service.credentials.apiKey, forKey: .api_key)
        if !asset.context.isEmpty { try container.encode(["custom": asset.context], forKey: .context) }
        if stored.existing { try container.encode(true, forKey: .existing) }
        if stored.overwritten { try container.encode(true, forKey: .overwritten) }
    }
}
