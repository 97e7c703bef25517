import Blobs
import RemoteFetch
import SystemSupport

/// Fetches for uploads whose `file` is an http(s) URL (`[blobs] remote_fetch`), each on a thread of a small pool
/// of its own: a fetch may wait seconds on a slow remote, which must hold neither an event loop nor the worker
/// pool that file and database work share. More fetches than threads wait their turn.
struct RemoteFetchPool: Sendable {
    let fetcher: RemoteFetcher
    let threads: WorkerPool

    /// Fetches `url` into `sink`, mapping failures to Cloudinary's answers (all 400, as its API does).
    func fetch(_ url: String, limit: Int64, into sink: any UploadSink) async throws {
        let fetcher = self.fetcher
        do {
            _ = try await threads.run { try fetcher.fetch(url, limit: limit) { try sink.append($0) } }
        } catch let error as FetchError {
            switch error {
            case .tooLarge: throw BlobError.tooLarge(error.message)
            case _ where error.isAboutTheURL: throw BlobError.badRequest(error.message)
            default: throw BlobError.badRequest("Error in loading \(url.prefix(1024)) - \(error.message)")
            }
        } catch BlobStoreError.tooLarge {
            throw BlobError.tooLarge("File size too large. Maximum is \(limit) bytes")
        }
    }
}
