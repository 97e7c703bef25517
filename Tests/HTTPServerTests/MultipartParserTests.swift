import Testing

@testable import HTTPServer

/// Events with consecutive `partData` merged, so outcomes compare equal however the input was split.
private func merged(_ events: [MultipartEvent]) -> [MultipartEvent] {
    var result: [MultipartEvent] = []
    for event in events {
        if case .partData(let more) = event, case .partData(let bytes)? = result.last {
            result[result.count - 1] = .partData(bytes + more)
        } else {
            result.append(event)
        }
    }
    return result
}

/// Parses `body` fed in pieces starting at `cuts`; the error, if any, ends it.
private func parse(
    _ body: [UInt8], boundary: String = "XyZ", cuts: [Int] = [], limits: MultipartLimits = MultipartLimits()
) -> (events: [MultipartEvent], error: MultipartError?) {
    var parser = MultipartParser(boundary: boundary, limits: limits)
    var events: [MultipartEvent] = []
    var start = 0
    do throws(MultipartError) {
        for cut in cuts + [body.count] where cut >= start {
            events += try parser.feed(Array(body[start..<cut]))
            start = cut
        }
        try parser.finish()
        return (merged(events), nil)
    } catch {
        return (merged(events), error)
    }
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

private let form = bytes(
    "preamble to ignore\r\n--XyZ\r\n"
        + "Content-Disposition: form-data; name=\"title\"\r\n\r\n"
        + "Holiday\r\n--XyZ  \t\r\n"
        + "Content-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".txt\"\r\n"
        + "Content-Type: text/plain\r\n\r\n"
        + "line 1\r\n--xyZ is not the boundary: \r\n-- \r\n--Xy\r\nend\r\n"
        + "--XyZ\r\nContent-Disposition: form-data; name=\"empty\"\r\n\r\n"
        + "\r\n--XyZ--\r\nepilogue to ignore")

private let formEvents: [MultipartEvent] = [
    .partStart(
        MultipartPartHeaders(
            name: "title", headers: ["Content-Disposition": "form-data; name=\"title\""])),
    .partData(bytes("Holiday")),
    .partEnd,
    .partStart(
        MultipartPartHeaders(
            name: "file", filename: "a \"b\".txt", contentType: "text/plain",
            headers: [
                "Content-Disposition": "form-data; name=\"file\"; filename=\"a \\\"b\\\".txt\"",
                "Content-Type": "text/plain",
            ])),
    .partData(bytes("line 1\r\n--xyZ is not the boundary: \r\n-- \r\n--Xy\r\nend")),
    .partEnd,
    .partStart(MultipartPartHeaders(name: "empty", headers: ["Content-Disposition": "form-data; name=\"empty\""])),
    .partEnd,
    .end,
]

@Suite struct MultipartParserTests {
    @Test(
        arguments: [
            ("multipart/form-data; boundary=abc", "abc"),
            ("Multipart/Form-Data;Boundary=\"a b:c?\"", "a b:c?"),
            (
                "multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
                "----WebKitFormBoundary7MA4YWxkTrZu0gW"
            ),
            ("multipart/mixed; boundary=\"q\\\"x\"", nil),  // '"' is not a bchar
            ("text/plain; boundary=abc", nil),
            ("multipart/form-data", nil),
            ("multipart/form-data; boundary=", nil),
            ("multipart/form-data; boundary=\"ends with space \"", nil),
            ("multipart/form-data; boundary=" + String(repeating: "b", count: 71), nil),
            ("multipart/form-data; boundary=\"unterminated", nil),
        ] as [(String, String?)])
    func boundaryFromContentType(contentType: String, expected: String?) {
        #expect(MultipartParser.boundary(fromContentType: contentType) == expected)
    }

    @Test func parsesAFormWithPreambleEpilogueAndPadding() {
        let (events, error) = parse(form)
        #expect(error == nil)
        #expect(events == formEvents)
    }

    @Test func givesTheSameEventsForEverySplitAndOneByteAtATime() {
        for cut in 0...form.count {
            let (events, error) = parse(form, cuts: [cut])
            #expect(error == nil && events == formEvents, "split at \(cut)")
        }
        let (events, error) = parse(form, cuts: Array(0...form.count))
        #expect(error == nil && events == formEvents)
    }

    @Test func givesTheSameEventsForRandomSplits() {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let cuts = (0..<Int.random(in: 1...20, using: &random)).map { _ in
                Int.random(in: 0...form.count, using: &random)
            }.sorted()
            let (events, error) = parse(form, cuts: cuts)
            #expect(error == nil && events == formEvents, "cuts \(cuts)")
        }
    }

    @Test func aBoundaryAtTheVeryStartNeedsNoPreamble() {
        let body = bytes("--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--XyZ--")
        let (events, error) = parse(body)
        #expect(error == nil)
        #expect(
            events == [
                .partStart(MultipartPartHeaders(name: "a", headers: ["Content-Disposition": "form-data; name=a"])),
                .partData(bytes("1")), .partEnd, .end,
            ])
    }

    /// Random contents full of CR, LF, dashes and boundary prefixes survive any split.
    @Test func randomPartsRoundTrip() {
        var random = SystemRandomNumberGenerator()
        let alphabet = bytes("\r\n-XyZ") + [0, 255]
        for _ in 0..<300 {
            let contents = (0..<Int.random(in: 0...4, using: &random)).map { _ in
                (0..<Int.random(in: 0...40, using: &random)).map { _ in
                    alphabet.randomElement(using: &random) ?? 0
                }
            }.filter { !containsDelimiter($0) }
            var body: [UInt8] = []
            var expected: [MultipartEvent] = []
            for (index, content) in contents.enumerated() {
                let disposition = "form-data; name=\"f\(index)\""
                body += bytes("--XyZ\r\nContent-Disposition: \(disposition)\r\n\r\n") + content + bytes("\r\n")
                expected.append(
                    .partStart(MultipartPartHeaders(name: "f\(index)", headers: ["Content-Disposition": disposition])))
                if !content.isEmpty { expected.append(.partData(content)) }
                expected.append(.partEnd)
            }
            body += bytes("--XyZ--\r\n")
            expected.append(.end)
            let cuts = (0..<Int.random(in: 0...10, using: &random)).map { _ in
                Int.random(in: 0...body.count, using: &random)
            }.sorted()
            let (events, error) = parse(body, cuts: cuts)
            #expect(error == nil && events == expected, "body \(body) cuts \(cuts)")
        }
    }

    private func containsDelimiter(_ content: [UInt8]) -> Bool {
        let needle = bytes("\r\n--XyZ")
        let padded = bytes("\r\n") + content + bytes("\r\n")
        guard padded.count >= needle.count else { return false }
        return (0...(padded.count - needle.count)).contains { Array(padded[$0..<$0 + needle.count]) == needle }
    }

    /// A large file part streams through: after every feed all but a delimiter-sized tail has been emitted.
    @Test func fileContentIsEmittedAsItArrives() throws {
        var parser = MultipartParser(boundary: "XyZ")
        var events = try parser.feed(
            bytes("--XyZ\r\nContent-Disposition: form-data; name=f; filename=big.bin\r\n\r\n"))
        #expect(events.count == 1)
        var fed = 0
        var emitted = 0
        let chunk = [UInt8](repeating: UInt8(ascii: "\r"), count: 1000)
        for _ in 0..<1000 {
            events = try parser.feed(chunk)
            fed += chunk.count
            for case .partData(let data) in events { emitted += data.count }
            #expect(fed - emitted < "\r\n--XyZ".utf8.count)
        }
        events = try parser.feed(bytes("\r\n--XyZ--"))
        for case .partData(let data) in events { emitted += data.count }
        #expect(emitted == fed)
        #expect(events.suffix(2) == [.partEnd, .end])
        try parser.finish()
    }

    @Test(
        arguments: [
            ("--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--", MultipartError.missingName),
            ("--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--XyZ--", .missingName),
            ("--XyZ\r\n\r\nno headers\r\n--XyZ--", .missingName),
            ("--XyZ\r\nContent-Disposition form-data\r\n\r\nx\r\n--XyZ--", .malformedHeaders),
            ("--XyZ\r\nContent-Disposition: form-data; name=a\r\n folded\r\n\r\nx\r\n--XyZ--", .malformedHeaders),
            ("--XyZ\r\nContent-Disposition: form-data; name=a\nX: y\r\n\r\nx\r\n--XyZ--", .malformedHeaders),
            ("--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--XyZ--", .missingName),
            ("--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--XyZx\r\n", .malformedDelimiter),
            ("--XyZ-\r\n", .malformedDelimiter),
            ("--XyZ\nContent-Disposition: form-data; name=a\r\n\r\n", .malformedDelimiter),
            ("--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nno closing boundary\r\n", .truncated),
            ("--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--XyZ", .truncated),
            ("no boundary at all", .truncated),
            ("", .truncated),
        ] as [(String, MultipartError)])
    func malformedBodiesAreRefused(body: String, expected: MultipartError) {
        #expect(parse(bytes(body)).error == expected)
        #expect(parse(bytes(body), cuts: Array(0...body.utf8.count)).error == expected)
    }

    @Test func limitsAreEnforced() {
        let header = "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n"
        let long = "--XyZ\r\nContent-Disposition: form-data; name=a\r\nX: \(String(repeating: "v", count: 200))\r\n\r\n"
        #expect(parse(bytes(long), limits: MultipartLimits(maxHeaderBytes: 100)).error == .headersTooLarge)
        // Refused before the end of the section arrives.
        var parser = MultipartParser(boundary: "XyZ", limits: MultipartLimits(maxHeaderBytes: 100))
        #expect(throws: MultipartError.headersTooLarge) { try parser.feed(Array(long.utf8.prefix(150))) }
        #expect(throws: MultipartError.headersTooLarge) { try parser.feed(bytes("more")) }  // errors stick
        let three = String(repeating: header + "x\r\n", count: 3) + "--XyZ--"
        #expect(parse(bytes(three), limits: MultipartLimits(maxParts: 3)).error == nil)
        #expect(parse(bytes(three), limits: MultipartLimits(maxParts: 2)).error == .tooManyParts)
    }

    @Test func invalidBoundariesAreRefused() {
        #expect(parse(bytes("--\r\n"), boundary: "").error == .invalidBoundary)
        #expect(parse(bytes("x"), boundary: String(repeating: "b", count: 71)).error == .invalidBoundary)
    }

    @Test func nonUTF8HeaderValuesBecomeLatin1() throws {
        var parser = MultipartParser(boundary: "XyZ")
        let events = try parser.feed(
            bytes("--XyZ\r\nContent-Disposition: form-data; name=f; filename=\"") + [0xE9]
                + bytes("t\u{E9}.txt\"\r\n\r\n"))
        guard case .partStart(let headers)? = events.first else {
            Issue.record("no part start: \(events)")
            return
        }
        // A byte that is not UTF-8 makes the whole value ISO-8859-1, including the UTF-8 "é" after it.
        #expect(headers.filename == "\u{E9}t\u{C3}\u{A9}.txt")
    }

    @Test func collectorGathersTextFieldsAndPassesFileParts() throws {
        var parser = MultipartParser(boundary: "XyZ")
        var collector = MultipartFieldCollector()
        var passed: [MultipartEvent] = []
        for byte in form {
            for event in try parser.feed([byte]) {
                if try !collector.consume(event) { passed.append(event) }
            }
        }
        try parser.finish()
        #expect(collector.fields.map(\.name) == ["title", "empty"])
        #expect(collector.value("title") == "Holiday")
        #expect(collector.value("empty") == "")
        #expect(merged(passed) == Array(formEvents[3...5]) + [.end])
    }

    @Test func collectorLimitsFields() throws {
        #expect(throws: MultipartError.fieldTooLarge) {
            _ = try MultipartFieldCollector.fields(in: form, boundary: "XyZ", maxFieldBytes: 6)
        }
        #expect(throws: MultipartError.tooManyFields) {
            _ = try MultipartFieldCollector.fields(in: form, boundary: "XyZ", maxFields: 1)
        }
        let fields = try MultipartFieldCollector.fields(in: form, boundary: "XyZ")
        #expect(fields.map(\.value) == ["Holiday", ""])
    }

    /// Garbage never crashes the parser and errors are sticky.
    @Test func randomBytesNeverCrash() {
        var random = SystemRandomNumberGenerator()
        let alphabet = bytes("\r\n-XyZ:;=\" abform-dataContent-Disposition")
        for _ in 0..<3000 {
            var body = (0..<Int.random(in: 0...200, using: &random)).map { _ in
                alphabet.randomElement(using: &random) ?? 0
            }
            if Bool.random(using: &random) { body = bytes("--XyZ\r\n") + body }
            let cuts = (0..<Int.random(in: 0...8, using: &random)).map { _ in
                Int.random(in: 0...body.count, using: &random)
            }.sorted()
            let whole = parse(body)
            let split = parse(body, cuts: cuts)
            #expect(whole.error == split.error, "body \(body) cuts \(cuts)")
            if whole.error == nil { #expect(whole.events == split.events, "body \(body) cuts \(cuts)") }
        }
    }
}
