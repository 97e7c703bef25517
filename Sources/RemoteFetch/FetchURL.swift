import Foundation
import SystemSupport

/// An absolute `http` or `https` URL split into what a fetch needs (RFC 3986 §3), strict about what it accepts:
/// no user information (credentials in a URL leak into logs and confuse parsers), no fragment sent, a host that
/// is a name, an IPv4 address or a bracketed IPv6 address.
public struct FetchURL: Sendable, Equatable, CustomStringConvertible {
    public enum Scheme: String, Sendable { case http, https }

    public let scheme: Scheme
    /// The host without brackets, lowercased.
    public let host: String
    public let port: Int
    /// Path and query, as sent in the request line (at least `/`).
    public let target: String

    /// Whether `text` is meant as a URL (`scheme://…`), as opposed to a `data:` URI or garbage.
    public static func looksLikeURL(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://") else { return false }
        let scheme = text[..<colon]
        guard let first = scheme.first, first.isASCII, first.isLetter else { return false }
        return scheme.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }
    }

    public init(_ text: String) throws(FetchError) {
        guard text.utf8.count <= 8192 else { throw .invalidURL("The URL is longer than 8192 bytes") }
        guard !text.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 >= 0x80 }) else {
            throw .invalidURL("The URL contains spaces, control or non-ASCII characters; percent-encode them")
        }
        guard let schemeEnd = text.range(of: "://") else { throw .invalidURL("Not an absolute URL") }
        guard let scheme = Scheme(rawValue: text[..<schemeEnd.lowerBound].lowercased()) else {
            throw .unsupportedScheme
        }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard !authority.contains("@") else { throw .credentialsInURL }
        var target = String(rest[authorityEnd...])
        if let hash = target.firstIndex(of: "#") { target = String(target[..<hash]) }
        if target.isEmpty || target.hasPrefix("?") { target = "/" + target }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidURL("Unclosed [ in the host") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidURL("Unexpected characters after the host") }
                portText = after.dropFirst()
            }
            guard host.contains(":"), IPAddress(String(host)) != nil else {
                throw .invalidURL("Not an IPv6 address between [ ]")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw .invalidURL("The URL has no host") }
        guard authority.hasPrefix("[") || host.allSatisfy({ $0.isLetter || $0.isNumber || "-._".contains($0) }) else {
            throw .invalidURL("The host contains characters a host name cannot have")
        }
        var port = scheme == .https ? 443 : 80
        if let portText, !portText.isEmpty {
            guard portText.count <= 5, portText.allSatisfy(\.isNumber), let parsed = Int(portText),
                (1...65535).contains(parsed)
            else { throw .invalidURL("Invalid port \(portText.prefix(16))") }
            port = parsed
        }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port
        self.target = target
    }

    /// The `Host` header (RFC 9110 §7.2): the port only when not the scheme's default.
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        let defaultPort = scheme == .https ? 443 : 80
        return port == defaultPort ? name : "\(name):\(port)"
    }

    /// The path's last segment, percent-decoded (`pic.png` for `/img/pic.png?x=1`); nil when there is none.
    public var lastPathSegment: String? {
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard let last = path.split(separator: "/").last else { return nil }
        // Control characters would reach stored metadata and a Content-Disposition header.
        let decoded = (last.removingPercentEncoding ?? String(last)).filter { character in
            !character.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
        }
        return decoded.isEmpty || decoded.contains("/") ? nil : decoded
    }

    /// Resolves a `Location` header against this URL (RFC 9110 §10.2.2, RFC 3986 §5.2 for the forms servers send:
    /// absolute, scheme-relative, absolute path, relative path).
    public func resolving(_ location: String) throws(FetchError) -> FetchURL {
        guard !location.isEmpty else { throw .invalidURL("An empty Location") }
        if Self.looksLikeURL(location) { return try FetchURL(location) }
        if location.hasPrefix("//") { return try FetchURL(scheme.rawValue + ":" + location) }
        let base = scheme.rawValue + "://" + hostHeader
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        if location.hasPrefix("?") { return try FetchURL(base + path + location) }
        if location.hasPrefix("#") { return self }
        let merged =
            location.hasPrefix("/") ? location : path[...(path.lastIndex(of: "/") ?? path.startIndex)] + location
        return try FetchURL(base + Self.removingDotSegments(merged))
    }

    /// RFC 3986 §5.2.4 on a path (the query, after `?`, is kept as it is).
    static func removingDotSegments(_ reference: String) -> String {
        let parts = reference.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var output: [Substring] = []
        let segments = parts[0].split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            switch segment {
            case ".":
                if isLast { output.append("") }
            case "..":
                if !output.isEmpty { output.removeLast() }
                if isLast { output.append("") }
            default: output.append(segment)
            }
        }
        let path = "/" + output.joined(separator: "/")
        return parts.count > 1 ? path + "?" + parts[1] : path
    }

    public var description: String { scheme.rawValue + "://" + hostHeader + target }
}
