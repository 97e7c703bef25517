import Blobs
import Foundation
import HTTPServer
import RemoteFetch
import SystemSupport

/// Reads a `multipart/form-data` upload as it streams in: the text fields, and the `file`, which is either a
/// file part (its bytes go straight to a temp file through a ``BlobWriter`` on the worker pool, never into
/// memory), a text field holding a `data:` URI, or a text field holding an http(s) URL fetched through
/// `remoteFetch` when the server allows it.
struct UploadReader {
    let service: BlobService
    let workers: WorkerPool
    /// nil: remote fetch is off (`[blobs] remote_fetch`), and a URL in `file` is refused.
    var remoteFetch: RemoteFetchPool?

    struct Upload {
        var fields: [(name: String, value: String)]
        /// The file, staged (a whole upload).
        var staged: StagedBlob?
        /// Bytes of the file written (a chunk).
        var fileBytes: Int64 = 0
        var filename: String?
    }

    /// Where the file's bytes go: a new blob, or the chunk of a chunked upload at its offset.
    enum Target {
        case blob
        case chunk(uploadID: String, offset: Int64)
    }

    /// Where the file's bytes come from, for the checks that run before any is stored (or fetched).
    enum FileSource {
        /// A file part: fields sent after it are not in yet.
        case part
        /// A `data:` URI in the `file` field: every field is in.
        case dataURI
        /// A URL in the `file` field, to fetch: every field is in.
        case url
    }

    /// Largest text field; a data URI in `file` may be as large as the byte limit allows.
    static let maxFieldBytes = 64 * 1024

    /// - Parameters:
    ///   - limit: most bytes the file may have (a larger one fails with ``BlobError/tooLarge(_:)``).
    ///   - beforeFile: called with the fields read so far when the file's bytes are about to be stored (or
    ///     fetched), to refuse (throw) before that; for a URL it may return a lower byte limit (a preset's) that
    ///     stops the download early.
    func read(
        _ request: HTTPRequest, limit: Int64, target: Target = .blob,
        beforeFile: (_ fields: [(name: String, value: String)], _ source: FileSource) throws -> Int64?
    ) async throws -> Upload {
        guard let body = request.bodyStream,
            let boundary = request.headers["Content-Type"].flatMap(MultipartParser.boundary(fromContentType:))
        else { throw BlobError.badRequest("Send the upload as multipart/form-data") }
        var parser = MultipartParser(boundary: boundary)
        var upload = Upload(fields: [])
        var writer: (any UploadSink)?
        var part: (name: String, isFile: Bool)?
        var text: [UInt8] = []
        let maxDataURI = Int(min(limit, Int64(Int.max / 2))) * 4 / 3 + 256
        do {
            for try await chunk in body {
                for event in try parser.feed(chunk) {
                    switch event {
                    case .partStart(let headers):
                        text = []
                        if headers.name == "file", let filename = headers.filename {
                            guard writer == nil else { throw BlobError.badRequest("Only one file per upload") }
                            _ = try beforeFile(upload.fields, .part)
                            upload.filename = filename
                            writer = try await makeSink(target, limit: limit)
                            part = (headers.name, true)
                        } else {
                            part = (headers.name, false)
                        }
                    case .partData(let bytes):
                        guard let current = part else { continue }
                        if current.isFile, let writer {
                            try await write(bytes, to: writer, limit: limit)
                        } else {
                            text.append(contentsOf: bytes)
                            let cap = current.name == "file" ? maxDataURI : Self.maxFieldBytes
                            guard text.count <= cap else {
                                throw BlobError.badRequest("The field \(current.name.prefix(64)) is too long")
                            }
                        }
                    case .partEnd:
                        if let current = part, !current.isFile {
                            upload.fields.append((current.name, String(decoding: text, as: UTF8.self)))
                        }
                        part = nil
                    case .end:
                        break
                    }
                }
            }
            try parser.finish()
            if writer == nil, let value = upload.fields.last(where: { $0.name == "file" })?.value {
                upload.fields.removeAll { $0.name == "file" }
                if FetchURL.looksLikeURL(value) {
                    guard case .blob = target else { throw BlobError.badRequest("A chunk cannot be a URL") }
                    guard let remoteFetch else {
                        throw BlobError.badRequest(
                            "Remote fetch is disabled on this server: upload the file itself "
                                + "(an operator can enable it with [blobs] remote_fetch)")
                    }
                    let url: FetchURL
                    do throws(FetchError) {
                        url = try FetchURL(value)
                    } catch {
                        throw BlobError.badRequest(error.message)
                    }
                    let fetchLimit = min(limit, try beforeFile(upload.fields, .url) ?? limit)
                    let sink = try await makeSink(target, limit: fetchLimit)
                    writer = sink
                    upload.filename = url.lastPathSegment
                    try await remoteFetch.fetch(value, limit: fetchLimit, into: sink)
                } else {
                    let bytes = try Self.decodeFileField(value)
                    _ = try beforeFile(upload.fields, .dataURI)
                    let dataWriter = try await makeSink(target, limit: limit)
                    writer = dataWriter
                    try await write(bytes, to: dataWriter, limit: limit)
                }
            }
            switch writer {
            case let blob as BlobWriter: upload.staged = try await workers.run { try blob.finish() }
            case let chunk as ChunkWriter: upload.fileBytes = try await workers.run { try chunk.finish() }
            default: break
            }
            return upload
        } catch {
            if let writer { await abort(writer) }
            throw error
        }
    }

    private func makeSink(_ target: Target, limit: Int64) async throws -> any UploadSink {
        let service = self.service
        switch target {
        case .blob:
            return try await workers.run { try service.makeWriter(limit: limit) }
        case .chunk(let uploadID, let offset):
            return try await workers.run {
                try service.files.openChunk(uploadID: uploadID, offset: offset, limit: limit)
            }
        }
    }

    private func write(_ bytes: [UInt8], to writer: any UploadSink, limit: Int64) async throws {
        do {
            try await workers.run { try writer.append(bytes) }
        } catch BlobStoreError.tooLarge {
            throw BlobError.tooLarge("File size too large. Maximum is \(limit) bytes")
        }
    }

    private func abort(_ writer: any UploadSink) async {
        _ = try? await workers.run { writer.abort() }
    }

    /// A `file` text field holding a `data:<mime>;base64,<data>` URI.
    static func decodeFileField(_ value: String) throws(BlobError) -> [UInt8] {
        guard value.hasPrefix("data:"), let comma = value.firstIndex(of: ","),
            value[..<comma].hasSuffix(";base64")
        else { throw .badRequest("Invalid file: send a file part or a data:<mime>;base64,<data> URI") }
        guard let data = Data(base64Encoded: String(value[value.index(after: comma)...])) else {
            throw .badRequest("Invalid file: the data URI is not valid base64")
        }
        return [UInt8](data)
    }
}

/// A file being written by an upload (blocking: used on the worker pool only).
protocol UploadSink: Sendable {
    func append(_ bytes: [UInt8]) throws
    func abort()
}

extension BlobWriter: UploadSink {
    func append(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }
}

extension ChunkWriter: UploadSink {
    func append(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }
}
