import HTTPServer
import SystemSupport

/// The API documentation: `GET /openapi.json` (OpenAPI 3.1, every REST route), `GET /asyncapi.json` (AsyncAPI
/// 3.0, the `/ws` protocol) and Swagger UI at `GET /swagger/index.html` (`/swagger` redirects there).
///
/// Swagger UI's files are not shipped: the page loads `swagger-ui-bundle.js` and `swagger-ui.css` from
/// `docs.swagger_ui_url` (a CDN by default), or, when `docs.swagger_ui_dir` names a local copy, from
/// `/swagger/assets/`, served from that directory on the worker pool. The page has no inline script (its start-up
/// code is `/swagger/swagger-init.js`) and its own Content-Security-Policy, which allows scripts and styles from
/// this server and the asset origin only.
struct DocsRoutes: Sendable {
    let settings: Settings.Docs
    let workers: WorkerPool

    init(settings: Settings.Docs, workers: WorkerPool) {
        self.settings = settings
        self.workers = workers
    }

    /// Where the page loads Swagger UI from: `/swagger/assets` for a local copy, else the configured URL.
    var assetBaseURL: String {
        settings.swaggerUIDir == nil ? settings.swaggerUIURL : "/swagger/assets"
    }

    /// The scheme://host[:port] the assets come from, or nil when they are on this server.
    var assetOrigin: String? {
        guard settings.swaggerUIDir == nil else { return nil }
        return Self.origin(of: settings.swaggerUIURL)
    }

    func register(in router: inout Router) {
        let openAPI = Self.document(OpenAPIDocument.json)
        let asyncAPI = Self.document(AsyncAPIDocument.json)
        router.get("/openapi.json") { _, _ in .now(openAPI) }
        router.get("/asyncapi.json") { _, _ in .now(asyncAPI) }
        let page = pageResponse
        router.get("/swagger/index.html") { _, _ in .now(page) }
        router.get("/swagger") { _, _ in
            .now(HTTPResponse(status: .found, headers: ["Location": "/swagger/index.html", "Content-Length": "0"]))
        }
        let script = HTTPResponse(
            status: .ok,
            headers: ["Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache"],
            body: .bytes(Array(Self.initScript.utf8)))
        router.get("/swagger/swagger-init.js") { _, _ in .now(script) }
        // Always registered (so the route table, and the document, do not depend on the setting): without a
        // local copy there is nothing here.
        let handler = settings.swaggerUIDir.map { StaticFileHandler(root: $0) }
        let workers = self.workers
        router.get("/swagger/assets/*rest") { request, _ in
            guard let handler else {
                throw HTTPError.notFound("Swagger UI is not served from a local directory (docs.swagger_ui_dir).")
            }
            var file = request
            file.path = "/" + (request.pathParameters["rest"] ?? "")
            let inner = file
            return .blocking(on: workers) { handler.respond(to: inner) }
        }
    }

    // MARK: Responses

    private static func document(_ json: String) -> HTTPResponse {
        HTTPResponse(
            status: .ok, headers: ["Content-Type": "application/json", "Cache-Control": "no-cache"],
            body: .bytes(Array(json.utf8)))
    }

    /// The Swagger UI page's Content-Security-Policy: scripts and styles from this server and the asset origin,
    /// the API on this origin, nothing inline.
    var contentSecurityPolicy: String {
        let assets = assetOrigin.map { " " + $0 } ?? ""
        return "default-src 'self'; script-src 'self'\(assets); style-src 'self'\(assets); "
            + "img-src 'self' data:\(assets); font-src 'self'\(assets); connect-src 'self'; object-src 'none'; "
            + "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    }

    var pageResponse: HTTPResponse {
        HTTPResponse(
            status: .ok,
            headers: [
                "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache",
                "Content-Security-Policy": contentSecurityPolicy,
            ],
            body: .bytes(Array(page.utf8)))
    }

    /// The HTML page; `assetBaseURL` is validated by the settings (no quotes, no markup).
    var page: String {
        let base = Self.escapeHTML(assetBaseURL)
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>chat API: Swagger UI</title>
            <link rel="stylesheet" href="\(base)/swagger-ui.css">
            </head>
            <body>
            <div id="swagger-ui"></div>
            <script src="\(base)/swagger-ui-bundle.js"></script>
            <script src="/swagger/swagger-init.js"></script>
            </body>
            </html>

            """
    }

    /// Renders `/openapi.json` with "Try it out"; requests go to this origin with the token given in "Authorize".
    static let initScript = """
        "use strict";
        window.addEventListener("load", function () {
          window.ui = SwaggerUIBundle({
            url: "/openapi.json",
            dom_id: "#swagger-ui",
            deepLinking: true,
            tryItOutEnabled: true,
            persistAuthorization: true,
            displayRequestDuration: true,
            validatorUrl: null,
            presets: [SwaggerUIBundle.presets.apis],
            layout: "BaseLayout"
          });
        });

        """

    // MARK: Helpers

    /// `https://cdn.example.com` of `https://cdn.example.com/npm/x@5`; nil for a path on this server.
    static func origin(of url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let afterScheme = url[schemeEnd.upperBound...]
        let host = afterScheme.prefix { $0 != "/" }
        return String(url[..<schemeEnd.upperBound]) + host
    }

    static func escapeHTML(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}

extension SettingValue {
    /// `docs.swagger_ui_url`: an http(s) URL (`https://host[:port][/path]`) or a path on this server (`/path`),
    /// without a query, fragment, quotes, spaces or markup (it goes into an HTML attribute and a CSP header);
    /// a trailing `/` is dropped.
    static func assetBaseURL(_ text: String) throws(SettingValueError) -> String {
        var url = String(ConfigText.trimmed(text))
        while url.count > 1, url.hasSuffix("/") { url.removeLast() }
        let lowered = url.lowercased()
        let rest: Substring
        if lowered.hasPrefix("https://") {
            rest = url.dropFirst(8)
        } else if lowered.hasPrefix("http://") {
            rest = url.dropFirst(7)
        } else if url.count > 1, url.hasPrefix("/"), !url.hasPrefix("//") {
            rest = "relative" + url
        } else {
            rest = ""
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/@%+,!$*()[]=")
        let host = rest.prefix { $0 != "/" }
        guard !host.isEmpty, !host.hasPrefix(":"), !host.contains("@"), rest.allSatisfy({ allowed.contains($0) })
        else {
            throw SettingValueError(
                expected: "the base URL of Swagger UI's files, like https://cdn.jsdelivr.net/npm/swagger-ui-dist@5 "
                    + "(http(s)://host[:port][/path], or /path on this server; no query, quotes or spaces)")
        }
        return url
    }
}
