import HTTPServer
import SystemSupport

/// Serves the files of `static_dir` for any GET/HEAD no API route claimed. File system calls run on the
/// worker pool; the event loop only sends the open file with sendfile(2).
struct StaticRoutes {
    let handler: StaticFileHandler
    let workers: WorkerPool

    /// The web client's Content-Security-Policy: its own scripts, styles and images only (no inline script,
    /// no eval), images also from blobs and data/blob URLs for previews, the API and the WebSocket on this origin.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        + "media-src 'self' blob:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; "
        + "frame-ancestors 'none'; form-action 'self'"

    /// Adds the policy to HTML pages (where it takes effect).
    static func withPolicy(_ response: HTTPResponse) -> HTTPResponse {
        guard response.headers["Content-Type"]?.hasPrefix("text/html") == true else { return response }
        var response = response
        response.headers.set("Content-Security-Policy", contentSecurityPolicy)
        return response
    }

    func register(in router: inout Router) {
        let handler = self.handler
        let workers = self.workers
        router.notFound = { request, _ in
            guard request.method == .GET || request.method == .HEAD,
                !request.path.hasPrefix("/api/")
            else { throw HTTPError.notFound() }
            return .blocking(on: workers) { Self.withPolicy(handler.respond(to: request)) }
        }
    }
}
