import Testing

@testable import HTTPServer

@Test(
    arguments: [
        ("/plain/path", "/plain/path"),
        ("/a%20b", "/a b"),
        ("/a+b", "/a+b"),
        ("/%2Fslash%2f", "//slash/"),
        ("/caf%C3%A9", "/café"),
        ("/%e2%9c%93", "/✓"),
        ("%00", "\0"),
        ("", ""),
    ] as [(String, String)])
func decodesPercentEscapes(encoded: String, decoded: String) {
    #expect(PercentDecoding.decode(encoded) == decoded)
}

@Test(arguments: [
    "/a%zz",
    "/a%2",
    "/a%",
    "%g0",
    "/%FF",  // not UTF-8
    "/%C3",  // truncated sequence
    "/%C0%AF",  // overlong "/"
    "/%ED%A0%80",  // UTF-16 surrogate
    "/%F4%90%80%80",  // beyond U+10FFFF
])
func rejectsInvalidEscapesAndInvalidUTF8(encoded: String) {
    #expect(PercentDecoding.decode(encoded) == nil)
}

@Test(
    arguments: [
        ("a=1&b=2", [("a", "1"), ("b", "2")]),
        ("a=1&&b=2&", [("a", "1"), ("b", "2")]),
        ("flag", [("flag", "")]),
        ("a=", [("a", "")]),
        ("=x", [("", "x")]),
        ("a=b=c", [("a", "b=c")]),
        ("q=hello+world", [("q", "hello world")]),
        ("q=1%2B1", [("q", "1+1")]),
        ("na%20me=v%26w", [("na me", "v&w")]),
        ("q=%zz&r=%", [("q", "%zz"), ("r", "%")]),
        ("q=%4", [("q", "%4")]),
        ("q=%E9", [("q", "\u{FFFD}")]),
        ("q=caf%C3%A9", [("q", "café")]),
        ("a=1&a=2", [("a", "1"), ("a", "2")]),
        ("", []),
        ("&&", []),
    ] as [(String, [(String, String)])])
func splitsQueryIntoDecodedItems(query: String, expected: [(String, String)]) {
    let items = PercentDecoding.queryItems(query)
    #expect(items.map(\.name) == expected.map(\.0))
    #expect(items.map(\.value) == expected.map(\.1))
}

@Test func requestDecodesPathAndQueryThroughPercentDecoding() {
    let request = HTTPRequest(
        method: .GET, target: "/rooms/caf%C3%A9?q=a+b&n=%31", path: "/rooms/caf%C3%A9", query: "q=a+b&n=%31",
        version: .http1_1, headers: ["Host": "h"])
    #expect(request.decodedPath == "/rooms/café")
    #expect(request.queryValue("q") == "a b")
    #expect(request.queryValue("n") == "1")
    #expect(request.queryValue("missing") == nil)
}
