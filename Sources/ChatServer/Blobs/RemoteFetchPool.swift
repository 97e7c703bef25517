import Blobs
import Logging
import RemoteFetch
import Synchronization
import SystemSupport

/// Fetches for uploads whose `file` is an http(s) URL (`[blobs] remote_fetch`), each on a thread of a small pool
/// of its own: a fetch may wait seconds on a slow remote, which must hold neither an event loop nor the worker
/// pool that file and database work share. Up to `queueLimit` more wait their turn (their wait counts against
/// the timeout); past that, 420 as Cloudinary answers an overloaded client.
final class RemoteFetchPool: Sendable {
    let fetcher: RemoteFetcher
    let threads: WorkerPool
    private let queueLimit: Int
    private let inFlight = Atomic<Int>(0)
    private let logger = Logger("blobs")

    init(fetcher: RemoteFetcher, threads: Int) throws {
        self.fetcher = fetcher
        self.threads = try WorkerPool(threads: threads, name: "fetch")
        queueLimit = threads * 4
    }

    /// Fetches `url` into `sink`, mapping failures to Cloudinary's answers (400, as its API does; 420 when busy).
    func fetch(_ url: String, limit: Int64, into sink: any UploadSink) async throws {
        guard inFlight.wrappingAdd(1, ordering: .relaxed).newValue <= threads.size + queueLimit else {
            inFlight.wrappingSubtract(1, ordering: .relaxed)
            throw BlobError.rateLimited("Too many remote fetches in progress; try again later")
        }
        defer { inFlight.wrappingSubtract(1, ordering: .relaxed) }
        let fetcher = self.fetcher
        let asked = RemoteFetcher.now()
        do {
            _ = try await threads.run { try fetcher.fetch(url, limit: limit, since: asked) { try sink.append($0) } }
        } catch let error as FetchError {
            switch error {
            case .tooLarge: throw BlobError.tooLarge(error.message)
            case .refusedAddress(let host, let address):
                logger.warn("remote fetch refused", ["host": host, "address": address])
                throw BlobError.badRequest(error.message)
            case _ where error.isAboutTheURL: throw BlobError.badRequest(error.message)
            default: throw BlobError.badRequest("Error in loading \(url.prefix(1024)) - \(error.message)")
            }
        } catch BlobStoreError.tooLarge {
            throw BlobError.tooLarge("File size too large. Maximum is \(limit) bytes")
        }
    }
}
