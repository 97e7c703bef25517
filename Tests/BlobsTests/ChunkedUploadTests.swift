import Testing

@testable import Blobs

@Suite struct ChunkedUploadTests {
    @Test func parsesWhatTheSDKSends() {
        // uploader.upload_large(stream of 25 bytes, chunk_size=10) sends these (SDK 1.46.3).
        #expect(ContentRange(header: "bytes 0-9/25") == ContentRange(first: 0, last: 9, total: 25))
        #expect(ContentRange(header: "bytes 10-19/25") == ContentRange(first: 10, last: 19, total: 25))
        #expect(ContentRange(header: "bytes 20-24/25")?.isLast == true)
        #expect(ContentRange(header: "bytes 20-24/25")?.length == 5)
        #expect(ContentRange(header: "bytes 0-19999999/31457280")?.description == "bytes 0-19999999/31457280")
    }

    @Test func refusesMalformedRanges() {
        for header in [
            "", "bytes", "bytes 0-9", "bytes 0-9/*", "bytes */25", "bytes 9-0/25", "bytes 0-25/25", "bytes -1-9/25",
            "bytes 0-9/25 ", "bytes 0 - 9/25", "items 0-9/25", "bytes 0-9/1234567890123456789", "bytes +0-9/25",
            "bytes 0x0-9/25",
        ] {
            #expect(ContentRange(header: header) == nil, "\(header)")
        }
    }

    @Test func acceptsChunksInOrder() throws {
        var next: Int64? = nil
        var total: Int64? = nil
        var outcomes: [ChunkedUpload.Outcome] = []
        for header in ["bytes 0-9/25", "bytes 10-19/25", "bytes 20-24/25"] {
            let range = try #require(ContentRange(header: header))
            let outcome = try ChunkedUpload.check(range, nextOffset: next, total: total)
            try ChunkedUpload.checkLength(range, bodyBytes: range.length)
            outcomes.append(outcome)
            if case .partial(let offset) = outcome { next = offset }
            total = range.total
        }
        #expect(outcomes == [.partial(nextOffset: 10), .partial(nextOffset: 20), .complete(total: 25)])
        // A file smaller than one chunk is one chunk.
        #expect(
            try ChunkedUpload.check(ContentRange(first: 0, last: 4, total: 5), nextOffset: nil, total: nil)
                == .complete(total: 5))
    }

    @Test func refusesGapsOverlapsAndChangedTotals() {
        let at10 = ContentRange(first: 10, last: 19, total: 25)
        #expect(throws: ChunkedUploadError.gap(expected: 0, got: 10)) {
            try ChunkedUpload.check(at10, nextOffset: nil, total: nil)
        }
        #expect(throws: ChunkedUploadError.overlap(expected: 20, got: 10)) {
            try ChunkedUpload.check(at10, nextOffset: 20, total: 25)
        }
        #expect(throws: ChunkedUploadError.totalMismatch(expected: 30, got: 25)) {
            try ChunkedUpload.check(at10, nextOffset: 10, total: 30)
        }
        #expect(throws: ChunkedUploadError.tooLarge(limit: 20)) {
            try ChunkedUpload.check(at10, nextOffset: 10, total: 25, limit: 20)
        }
        #expect(throws: ChunkedUploadError.lengthMismatch(expected: 10, got: 9)) {
            try ChunkedUpload.checkLength(at10, bodyBytes: 9)
        }
    }

    @Test func uploadIDs() {
        #expect(ChunkedUpload.isValidUploadID("0nolcjtlxw3eznar"))
        #expect(ChunkedUpload.isValidUploadID("A-b_9"))
        #expect(!ChunkedUpload.isValidUploadID(""))
        #expect(!ChunkedUpload.isValidUploadID("../x"))
        #expect(!ChunkedUpload.isValidUploadID("a b"))
        #expect(!ChunkedUpload.isValidUploadID(String(repeating: "a", count: 65)))
    }
}
