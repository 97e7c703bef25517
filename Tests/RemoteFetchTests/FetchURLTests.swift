import Testing

@testable import RemoteFetch

@Suite struct FetchURLTests {
    @Test func partsOfAbsoluteURLs() throws {
        let plain = try FetchURL("http://Example.COM/img/pic.png?size=2#top")
        #expect(plain.scheme == .http)
        #expect(plain.host == "example.com")
        #expect(plain.port == 80)
        #expect(plain.target == "/img/pic.png?size=2")
        #expect(plain.hostHeader == "example.com")
        #expect(plain.lastPathSegment == "pic.png")

        let secure = try FetchURL("HTTPS://cdn.example.com:8443")
        #expect(secure.scheme == .https)
        #expect(secure.port == 8443)
        #expect(secure.target == "/")
        #expect(secure.hostHeader == "cdn.example.com:8443")
        #expect(secure.lastPathSegment == nil)

        let v6 = try FetchURL("http://[2001:db8::1]:8080?q")
        #expect(v6.host == "2001:db8::1")
        #expect(v6.target == "/?q")
        #expect(v6.hostHeader == "[2001:db8::1]:8080")

        #expect(try FetchURL("https://x.test/a%20b.jpg").lastPathSegment == "a b.jpg")
        #expect(try FetchURL("https://x.test/a%00b%09%1b%5b31m.dat").lastPathSegment == "ab[31m.dat")
    }

    @Test(arguments: [
        ("ftp://example.com/x", FetchError.unsupportedScheme),
        ("file:///etc/passwd", FetchError.unsupportedScheme),
        ("http://user:pass@example.com/", FetchError.credentialsInURL),
        ("http://@example.com/", FetchError.credentialsInURL),
    ])
    func refusedURLs(text: String, error: FetchError) {
        #expect(throws: error) { try FetchURL(text) }
    }

    @Test(arguments: [
        "http://", "http:///path", "http://exa mple.com/", "http://example.com:0/", "http://example.com:65536/",
        "http://example.com:8o/", "http://[::1/", "http://[example.com]/", "http://[::1]x/", "http://a:b:80/",
        "http://ex\u{e4}mple.com/", "http://example.com/\u{7f}", "example.com/x", "http://exa_mple.com%2f/",
    ])
    func malformedURLsAreInvalid(text: String) {
        #expect {
            try FetchURL(text)
        } throws: { error in
            if case .invalidURL = error as? FetchError { true } else { false }
        }
    }

    @Test func looksLikeURLTellsURLsFromDataURIs() {
        #expect(FetchURL.looksLikeURL("https://example.com/x"))
        #expect(FetchURL.looksLikeURL("ftp://example.com/x"))
        #expect(!FetchURL.looksLikeURL("data:image/png;base64,AAAA"))
        #expect(!FetchURL.looksLikeURL("://x"))
        #expect(!FetchURL.looksLikeURL("1http://x"))
    }

    @Test func locationsResolveAgainstTheURL() throws {
        let base = try FetchURL("https://a.test:8443/dir/file.png?x=1")
        #expect(try base.resolving("http://b.test/y").description == "http://b.test/y")
        #expect(try base.resolving("//c.test/z").description == "https://c.test/z")
        #expect(try base.resolving("/root.png").description == "https://a.test:8443/root.png")
        #expect(try base.resolving("other.png?v=2").description == "https://a.test:8443/dir/other.png?v=2")
        #expect(throws: FetchError.unsupportedScheme) { try base.resolving("gopher://a.test/") }
        #expect(try base.resolving("?y=2").description == "https://a.test:8443/dir/file.png?y=2")
        #expect(try base.resolving("../up.png").description == "https://a.test:8443/up.png")
        #expect(try base.resolving("./a/../b/./c.png").description == "https://a.test:8443/dir/b/c.png")
        #expect(try base.resolving("/x/../../y").description == "https://a.test:8443/y")
        #expect(throws: FetchError.invalidURL("An empty Location")) { try base.resolving("") }
    }
}
