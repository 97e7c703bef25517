import Glibc
import Testing

@testable import HTTPServer

/// Conditional requests (RFC 9110 §13) and ranges (§14) through `StaticFileHandler`, on `alphabet.txt`
/// (26 bytes, mtime `StaticFileFixture.mtime`).
@Suite struct StaticFileConditionalTests {
    private let etag = StaticFileFixture.alphabetETag

    /// The response to `/alphabet.txt` in a fresh fixture. Its body stays readable after the fixture is removed,
    /// since an open descriptor keeps an unlinked file.
    private func get(_ headers: HTTPHeaders, method: HTTPMethod = .GET) -> HTTPResponse {
        StaticFileFixture().get("/alphabet.txt", method: method, headers: headers)
    }

    // MARK: If-None-Match / If-Modified-Since

    @Test func ifNoneMatchWithTheCurrentTagIsNotModified() {
        let response = get(["If-None-Match": etag])
        #expect(response.status == .notModified)
        #expect(response.headers["ETag"] == etag)
        #expect(response.headers["Last-Modified"] == StaticFileFixture.lastModified)
        #expect(response.headers["Cache-Control"] == "public, max-age=3600")
        #expect(response.headers["Content-Type"] == nil)
        #expect(response.body.knownLength == 0)
        #expect(consumeFileBody(response) == nil)
    }

    @Test(arguments: [
        #""2ebc98a1-1a""#,
        #"W/"2ebc98a1-1a""#,
        #""other", "2ebc98a1-1a""#,
        #""a,b",W/"2ebc98a1-1a""#,
        "*",
        #" , "x" ,, "2ebc98a1-1a" "#,
    ])
    func ifNoneMatchUsesWeakComparisonOverTheList(value: String) {
        let response = get(["If-None-Match": value])
        #expect(response.status == .notModified)
    }

    @Test(arguments: [#""other""#, #""2ebc98a1-1b""#, "2ebc98a1-1a", #""2ebc98a1-1a"x"#, #""unterminated"#, ""])
    func ifNoneMatchMismatchOrGarbageServesTheFile(value: String) {
        let response = get(["If-None-Match": value])
        #expect(response.status == .ok)
        #expect(consumeFileBody(response) == StaticFileFixture.alphabet)
    }

    @Test func ifNoneMatchAcrossRepeatedFields() {
        let response = get(HTTPHeaders([("If-None-Match", #""x""#), ("If-None-Match", etag)]))
        #expect(response.status == .notModified)
    }

    @Test func headIsNotModifiedToo() {
        let response = get(["If-None-Match": etag], method: .HEAD)
        #expect(response.status == .notModified)
        #expect(consumeFileBody(response) == nil)
    }

    @Test(arguments: [
        StaticFileFixture.lastModified,
        "Sun, 06 Nov 1994 08:49:38 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "Mon, 01 Jan 2001 00:00:00 GMT",
    ])
    func ifModifiedSinceAtOrAfterTheMtimeIsNotModified(value: String) {
        let response = get(["If-Modified-Since": value])
        #expect(response.status == .notModified)
        #expect(response.headers["ETag"] == etag)
    }

    @Test(arguments: ["Sun, 06 Nov 1994 08:49:36 GMT", "yesterday", "", "Sun, 06 Nov 1994 08:49:37 GMT, x"])
    func ifModifiedSinceEarlierOrInvalidServesTheFile(value: String) {
        let response = get(["If-Modified-Since": value])
        #expect(response.status == .ok)
        #expect(consumeFileBody(response) == StaticFileFixture.alphabet)
    }

    @Test func ifModifiedSinceIsIgnoredWhenIfNoneMatchIsPresent() {
        let response = get(["If-None-Match": #""other""#, "If-Modified-Since": StaticFileFixture.lastModified])
        #expect(response.status == .ok)
        #expect(consumeFileBody(response) == StaticFileFixture.alphabet)
    }

    // MARK: If-Match / If-Unmodified-Since

    @Test(arguments: [#""other""#, #"W/"2ebc98a1-1a""#, "garbage"])
    func ifMatchFailsWithStrongComparison(value: String) {
        let response = get(["If-Match": value])
        #expect(response.status == .preconditionFailed)
        #expect(errorCode(response) == "precondition_failed")
        #expect(consumeFileBody(response) == nil)
    }

    @Test(arguments: ["*", #""2ebc98a1-1a""#, #""x", "2ebc98a1-1a""#])
    func ifMatchWithTheCurrentTagProceeds(value: String) {
        let response = get(["If-Match": value])
        #expect(response.status == .ok)
        #expect(consumeFileBody(response) == StaticFileFixture.alphabet)
    }

    @Test func ifUnmodifiedSinceBeforeTheMtimeFails() {
        let failed = get(["If-Unmodified-Since": "Sun, 06 Nov 1994 08:49:36 GMT"])
        #expect(failed.status == .preconditionFailed)

        let passed = get(["If-Unmodified-Since": StaticFileFixture.lastModified])
        #expect(passed.status == .ok)
        #expect(consumeFileBody(passed) == StaticFileFixture.alphabet)
    }

    @Test func ifMatchTakesPrecedenceOverIfUnmodifiedSince() {
        let response = get(["If-Match": etag, "If-Unmodified-Since": "Sun, 06 Nov 1994 08:49:36 GMT"])
        #expect(response.status == .ok)
        #expect(consumeFileBody(response) != nil)
    }

    // MARK: Range

    @Test(arguments: [
        ("bytes=0-4", "bytes 0-4/26", "abcde"),
        ("bytes=20-", "bytes 20-25/26", "uvwxyz"),
        ("bytes=-3", "bytes 23-25/26", "xyz"),
        ("bytes=-100", "bytes 0-25/26", StaticFileFixture.alphabet),
        ("bytes=24-1000", "bytes 24-25/26", "yz"),
        ("bytes=0-2,3-5", "bytes 0-5/26", "abcdef"),
        ("bytes=4-6,0-4", "bytes 0-6/26", "abcdefg"),
        ("Bytes=25-25", "bytes 25-25/26", "z"),
    ])
    func rangeIsServedAsPartialContent(range: String, contentRange: String, body: String) {
        let response = get(["Range": range])
        #expect(response.status == .partialContent)
        #expect(response.headers["Content-Range"] == contentRange)
        #expect(response.headers["ETag"] == etag)
        #expect(response.headers["Content-Type"] == "text/plain; charset=utf-8")
        #expect(response.body.knownLength == body.utf8.count)
        #expect(consumeFileBody(response) == body)
    }

    @Test(arguments: ["bytes=26-", "bytes=100-200", "bytes=-0", "bytes=30-40,50-"])
    func unsatisfiableRangeIs416(range: String) {
        let response = get(["Range": range])
        #expect(response.status == .rangeNotSatisfiable)
        #expect(response.headers["Content-Range"] == "bytes */26")
        #expect(errorCode(response) == "range_not_satisfiable")
        #expect(consumeFileBody(response) == nil)
    }

    @Test(arguments: ["bytes=0-1,5-6", "bytes=5-3", "items=0-4", "bytes=a-b", "bytes=", "0-4"])
    func multipartOrMalformedRangeServesTheWholeFile(range: String) {
        let response = get(["Range": range])
        #expect(response.status == .ok)
        #expect(response.headers["Content-Range"] == nil)
        #expect(consumeFileBody(response) == StaticFileFixture.alphabet)
    }

    @Test func repeatedRangeFieldsAreIgnored() {
        let response = get(HTTPHeaders([("Range", "bytes=0-1"), ("Range", "bytes=2-3")]))
        #expect(response.status == .ok)
        #expect(consumeFileBody(response) == StaticFileFixture.alphabet)
    }

    @Test func headIgnoresRange() {
        let response = get(["Range": "bytes=0-4"], method: .HEAD)
        #expect(response.status == .ok)
        #expect(response.headers["Content-Range"] == nil)
        #expect(fileRegion(response)?.length == 26)
        #expect(consumeFileBody(response) != nil)
    }

    @Test func emptyFileRanges() {
        let fixture = StaticFileFixture()
        let unsatisfiable = fixture.get("/empty.txt", headers: ["Range": "bytes=0-"])
        #expect(unsatisfiable.status == .rangeNotSatisfiable)
        #expect(unsatisfiable.headers["Content-Range"] == "bytes */0")

        let suffix = fixture.get("/empty.txt", headers: ["Range": "bytes=-5"])
        #expect(suffix.status == .ok)
        #expect(consumeFileBody(suffix) == "")
    }

    @Test func notModifiedWinsOverRange() {
        let response = get(["If-None-Match": etag, "Range": "bytes=0-4"])
        #expect(response.status == .notModified)
    }

    // MARK: If-Range

    @Test(arguments: [#""2ebc98a1-1a""#, StaticFileFixture.lastModified, "Sunday, 06-Nov-94 08:49:37 GMT"])
    func ifRangeMatchAppliesTheRange(validator: String) {
        let response = get(["Range": "bytes=0-4", "If-Range": validator])
        #expect(response.status == .partialContent)
        #expect(consumeFileBody(response) == "abcde")
    }

    @Test(arguments: [
        #""other""#,
        #"W/"2ebc98a1-1a""#,
        "Sun, 06 Nov 1994 08:49:38 GMT",
        "Sun, 06 Nov 1994 08:49:36 GMT",
        "not a validator",
    ])
    func ifRangeMismatchSendsTheWholeFile(validator: String) {
        let response = get(["Range": "bytes=0-4", "If-Range": validator])
        #expect(response.status == .ok)
        #expect(response.headers["Content-Range"] == nil)
        #expect(consumeFileBody(response) == StaticFileFixture.alphabet)
    }

    @Test func ifRangeDateInTheCurrentSecondIsWeakAndFails() {
        // With now equal to the mtime the date could name two versions of the file (§8.8.2.2).
        let fixture = StaticFileFixture()
        let response = fixture.get(
            "/alphabet.txt", headers: ["Range": "bytes=0-4", "If-Range": StaticFileFixture.lastModified],
            now: StaticFileFixture.mtime)
        #expect(response.status == .ok)
        #expect(consumeFileBody(response) == StaticFileFixture.alphabet)
    }

    @Test func ifRangeWithoutRangeIsIgnored() {
        let response = get(["If-Range": #""other""#])
        #expect(response.status == .ok)
        #expect(consumeFileBody(response) == StaticFileFixture.alphabet)
    }

    // MARK: Entity-tag lists

    @Test(arguments: [
        (#""t""#, false, true),
        (#"W/"t""#, true, true),
        (#"W/"t""#, false, false),
        (#""u", "t""#, false, true),
        ("*", false, true),
        (#""t" junk"#, true, false),
        (#"'t'"#, true, false),
        (#""t"#, true, false),
        (#"" t""#, true, false),
        (#"w/"t""#, true, false),
    ])
    func entityTagListMatching(value: String, weak: Bool, matches: Bool) {
        #expect(EntityTag.listMatches([value], current: #""t""#, weakComparison: weak) == matches)
    }

    @Test func malformedMemberAnywhereSpoilsTheList() {
        #expect(!EntityTag.listMatches([#""t", junk"#], current: #""t""#, weakComparison: true))
        #expect(!EntityTag.listMatches([#"junk, "t""#], current: #""t""#, weakComparison: true))
        #expect(!EntityTag.listMatches([#""t""#, "junk"], current: #""t""#, weakComparison: true))
    }
}
