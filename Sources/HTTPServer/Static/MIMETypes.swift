/// Maps file extensions to `Content-Type` values for the web assets the server hosts.
///
/// Text types carry `charset=utf-8` so browsers never guess an encoding; unknown extensions get
/// `application/octet-stream`, which (with `X-Content-Type-Options: nosniff`) browsers download rather than render.
public enum MIMETypes {
    public static let defaultType = "application/octet-stream"

    /// The content type for an extension without its dot, matched case-insensitively (`"CSS"` is `"css"`).
    public static func contentType(forExtension fileExtension: some StringProtocol) -> String {
        switch fileExtension.lowercased() {
        case "html", "htm": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js", "mjs", "cjs": "text/javascript; charset=utf-8"  // RFC 9239 §6
        case "json", "map": "application/json"  // RFC 8259 §11: no charset parameter
        case "webmanifest": "application/manifest+json"
        case "txt": "text/plain; charset=utf-8"
        case "md", "markdown": "text/markdown; charset=utf-8"
        case "csv": "text/csv; charset=utf-8"
        case "xml": "application/xml"
        case "ics": "text/calendar; charset=utf-8"
        case "vtt": "text/vtt; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "gif": "image/gif"
        case "webp": "image/webp"
        case "avif": "image/avif"
        case "ico": "image/x-icon"
        case "bmp": "image/bmp"
        case "wasm": "application/wasm"
        case "woff": "font/woff"
        case "woff2": "font/woff2"
        case "ttf": "font/ttf"
        case "otf": "font/otf"
        case "mp4", "m4v": "video/mp4"
        case "webm": "video/webm"
        case "ogv": "video/ogg"
        case "mp3": "audio/mpeg"
        case "m4a": "audio/mp4"
        case "ogg", "oga", "opus": "audio/ogg"
        case "wav": "audio/wav"
        case "flac": "audio/flac"
        case "pdf": "application/pdf"
        case "zip": "application/zip"
        case "gz": "application/gzip"
        default: defaultType
        }
    }

    /// The content type for the last component of a `/`-separated path, by the text after its last dot.
    /// Names without an extension, ending in a dot, or starting with their only dot get the default.
    public static func contentType(forPath path: some StringProtocol) -> String {
        let whole = Substring(path)
        let name = whole.lastIndex(of: "/").map { whole[whole.index(after: $0)...] } ?? whole
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return defaultType }
        return contentType(forExtension: name[name.index(after: dot)...])
    }
}
