import Testing

@testable import HTTPServer

@Suite struct ByteRangeTests {
    @Test(arguments: [
        ("bytes=0-499", [ByteRangeSpec.closed(first: 0, last: 499)]),
        ("bytes=500-", [.from(first: 500)]),
        ("bytes=-500", [.suffix(length: 500)]),
        ("bytes=0-0", [.closed(first: 0, last: 0)]),
        ("bytes=0-1,5-6", [.closed(first: 0, last: 1), .closed(first: 5, last: 6)]),
        ("bytes=0-1, 5-, -3", [.closed(first: 0, last: 1), .from(first: 5), .suffix(length: 3)]),
        ("  bytes=1-2 ", [.closed(first: 1, last: 2)]),
        ("BYTES=1-2", [.closed(first: 1, last: 2)]),
        ("bytes=1-2,,3-4, ,", [.closed(first: 1, last: 2), .closed(first: 3, last: 4)]),
        ("bytes=007-010", [.closed(first: 7, last: 10)]),
        ("bytes=99999999999999999999999-", [.from(first: Int.max)]),
        ("bytes=0-99999999999999999999999", [.closed(first: 0, last: Int.max)]),
        ("bytes=-99999999999999999999999", [.suffix(length: Int.max)]),
    ])
    func parsesRangeSets(value: String, specs: [ByteRangeSpec]) {
        #expect(ByteRangeSpec.parseSet(value) == specs)
    }

    @Test(arguments: [
        "",
        "bytes",
        "bytes=",
        "bytes=,",
        "bytes=-",
        "bytes=a-b",
        "bytes=1",
        "bytes=5-3",
        "bytes=0-1,5-3",
        "bytes=0-1-2",
        "bytes=--1",
        "bytes=0 -1",
        "bytes=0- 1",
        "bytes=+1-2",
        "bytes=0x10-",
        "bytes=1-2;",
        "bytes =0-1",
        "items=0-1",
        "none",
        "=0-1",
        "bytes=0-1 5-6",
    ])
    func rejectsInvalidRangeSets(value: String) {
        #expect(ByteRangeSpec.parseSet(value) == nil)
    }

    @Test(arguments: [
        ("bytes=0-4", RangeSelection.partial(ByteRange(offset: 0, length: 5))),
        ("bytes=5-", .partial(ByteRange(offset: 5, length: 5))),
        ("bytes=9-", .partial(ByteRange(offset: 9, length: 1))),
        ("bytes=-3", .partial(ByteRange(offset: 7, length: 3))),
        ("bytes=-10", .partial(ByteRange(offset: 0, length: 10))),
        ("bytes=-11", .partial(ByteRange(offset: 0, length: 10))),
        ("bytes=0-99", .partial(ByteRange(offset: 0, length: 10))),
        ("bytes=3-99999999999999999999", .partial(ByteRange(offset: 3, length: 7))),
        ("bytes=10-", .unsatisfiable),
        ("bytes=10-20", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        ("bytes=99999999999999999999-", .unsatisfiable),
        ("bytes=10-20,30-,-0", .unsatisfiable),
        // Several ranges: merged when they overlap or touch, the whole file otherwise.
        ("bytes=0-1,2-3", .partial(ByteRange(offset: 0, length: 4))),
        ("bytes=4-6,0-5", .partial(ByteRange(offset: 0, length: 7))),
        ("bytes=2-3,2-3", .partial(ByteRange(offset: 2, length: 2))),
        ("bytes=0-,-2", .partial(ByteRange(offset: 0, length: 10))),
        ("bytes=0-1,20-30", .partial(ByteRange(offset: 0, length: 2))),
        ("bytes=0-1,5-6", .full),
        ("bytes=-1,0-0", .full),
        // Ignored headers.
        ("bytes=5-3", .full),
        ("items=0-4", .full),
        ("garbage", .full),
    ])
    func selectsForATenByteRepresentation(value: String, selection: RangeSelection) {
        #expect(RangeSelection(header: value, completeLength: 10) == selection)
    }

    @Test func noHeaderMeansTheFullRepresentation() {
        #expect(RangeSelection(header: nil, completeLength: 10) == .full)
    }

    @Test func emptyRepresentation() {
        #expect(RangeSelection(header: "bytes=0-", completeLength: 0) == .unsatisfiable)
        #expect(RangeSelection(header: "bytes=0-0", completeLength: 0) == .unsatisfiable)
        // A suffix is satisfiable (§14.1.2) but selects nothing, which a 206 cannot express.
        #expect(RangeSelection(header: "bytes=-5", completeLength: 0) == .full)
    }

    @Test func contentRangeValues() {
        let range = ByteRange(offset: 500, length: 500)
        #expect(range.lastPosition == 999)
        #expect(range.contentRange(completeLength: 1234) == "bytes 500-999/1234")
        #expect(ByteRange.unsatisfiedContentRange(completeLength: 1234) == "bytes */1234")
    }
}
