import HTTPServer
import SystemSupport

/// Serves the files of `static_dir` for any GET/HEAD no API route claimed. File system calls run on the
/// worker pool; the event loop only sends the open file with sendfile(2).
struct StaticRoutes {
    let handler: StaticFileHandler
    let workers: WorkerPool

    func register(in router: inout Router) {
        let handler = self.handler
        let workers = self.workers
        router.notFound = { request, _ in
            guard request.method == .GET || request.method == .HEAD,
                !request.path.hasPrefix("/api/")
            else { throw HTTPError.notFound() }
            return .blocking(on: workers) { handler.respond(to: request) }
        }
    }
}
