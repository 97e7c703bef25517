import Blobs
import HTTPServer
import SystemSupport

/// One chunk of an `upload_large` (Cloudinary's chunked upload: `Content-Range: bytes a-b/total` and one
/// `X-Unique-Upload-Id` per upload): checked against the upload's state, its bytes appended to the upload's
/// partial file at their offset, and, for the last chunk, the whole file staged for storing.
struct ChunkStore {
    let service: BlobService
    let workers: WorkerPool

    enum Outcome {
        /// Stored; `received` bytes of the upload are in.
        case partial(received: Int64, upload: UploadReader.Upload, publicID: String)
        /// The last chunk: the complete file, ready for ``BlobService/store(_:options:preset:)``.
        case complete(StagedBlob, UploadReader.Upload, publicID: String)
    }

    /// - Parameters:
    ///   - authorize: checks the chunk's fields (each chunk is signed) before its bytes are written.
    ///   - publicID: the public id this chunk's fields name or imply (used if it is the first).
    func append(
        _ request: HTTPRequest, range: ContentRange, uploadID: String, limit: Int64,
        authorize: @escaping ([(name: String, value: String)]) throws -> Void,
        publicID: @escaping (UploadReader.Upload) throws -> String
    ) async throws -> Outcome {
        let outcome = try await service.beginChunk(
            uploadID: uploadID, range: range, resourceType: request.pathParameters["resource_type"] ?? "auto",
            limit: limit)
        let reader = UploadReader(service: service, workers: workers)
        let upload = try await reader.read(
            request, limit: range.length, target: .chunk(uploadID: uploadID, offset: range.first),
            beforeFile: { fields, _ in
                try authorize(fields)
                return nil
            })
        do throws(ChunkedUploadError) {
            try ChunkedUpload.checkLength(range, bodyBytes: upload.fileBytes)
        } catch {
            throw BlobError.badRequest(error.description)
        }
        guard let id = try await service.endChunk(uploadID: uploadID, range: range, publicID: try publicID(upload))
        else {
            throw BlobError.badRequest("Chunk \(range) was already stored by another request")
        }
        guard case .complete(let total) = outcome else {
            return .partial(received: range.last + 1, upload: upload, publicID: id)
        }
        let files = service.files
        do {
            let staged = try await workers.run { try files.stagePartial(uploadID: uploadID, expectedBytes: total) }
            return .complete(staged, upload, publicID: id)
        } catch {
            files.removePartial(uploadID: uploadID)
            throw BlobError.badRequest("The chunks do not add up to \(total) bytes")
        }
    }
}
