import Testing

@testable import HTTPServer

@Suite struct StaticFileMIMETypesTests {
    @Test(arguments: [
        ("html", "text/html; charset=utf-8"),
        ("htm", "text/html; charset=utf-8"),
        ("css", "text/css; charset=utf-8"),
        ("js", "text/javascript; charset=utf-8"),
        ("mjs", "text/javascript; charset=utf-8"),
        ("json", "application/json"),
        ("map", "application/json"),
        ("svg", "image/svg+xml"),
        ("png", "image/png"),
        ("jpg", "image/jpeg"),
        ("jpeg", "image/jpeg"),
        ("gif", "image/gif"),
        ("webp", "image/webp"),
        ("avif", "image/avif"),
        ("ico", "image/x-icon"),
        ("txt", "text/plain; charset=utf-8"),
        ("md", "text/markdown; charset=utf-8"),
        ("wasm", "application/wasm"),
        ("woff", "font/woff"),
        ("woff2", "font/woff2"),
        ("ttf", "font/ttf"),
        ("otf", "font/otf"),
        ("mp4", "video/mp4"),
        ("webm", "video/webm"),
        ("mp3", "audio/mpeg"),
        ("ogg", "audio/ogg"),
        ("wav", "audio/wav"),
        ("pdf", "application/pdf"),
        ("xml", "application/xml"),
        ("zip", "application/zip"),
        ("csv", "text/csv; charset=utf-8"),
        ("HTML", "text/html; charset=utf-8"),
        ("Png", "image/png"),
        ("exe", "application/octet-stream"),
        ("", "application/octet-stream"),
    ])
    func contentTypeForExtension(fileExtension: String, contentType: String) {
        #expect(MIMETypes.contentType(forExtension: fileExtension) == contentType)
    }

    @Test(arguments: [
        ("index.html", "text/html; charset=utf-8"),
        ("/assets/app.min.js", "text/javascript; charset=utf-8"),
        ("/assets.v2/README", "application/octet-stream"),
        ("/archive.tar.gz", "application/gzip"),
        ("/file.", "application/octet-stream"),
        ("/.css", "application/octet-stream"),
        ("/dir/", "application/octet-stream"),
        ("", "application/octet-stream"),
    ])
    func contentTypeForPath(path: String, contentType: String) {
        #expect(MIMETypes.contentType(forPath: path) == contentType)
    }
}
