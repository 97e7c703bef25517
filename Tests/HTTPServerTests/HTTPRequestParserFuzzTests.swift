import Testing

@testable import HTTPServer

/// Bytes that steer random input towards the parser's interesting branches.
private let httpAlphabet = Array(
    "GET POST HTTP/1.1 /?%&=:;, \t\r\n\r\nHost: Content-Length: Transfer-Encoding: chunked 0123456789abcdefABCDEF\0"
        .utf8)

private func randomBytes(count: Int, using random: inout ParserFuzzRandom) -> [UInt8] {
    (0..<count).map { _ in
        Bool.random(using: &random)
            ? httpAlphabet.randomElement(using: &random) ?? 0 : UInt8.random(in: 0...255, using: &random)
    }
}

private func randomCuts(for count: Int, using random: inout ParserFuzzRandom) -> [Int] {
    (0..<Int.random(in: 0...4, using: &random)).map { _ in Int.random(in: 0...count, using: &random) }.sorted()
}

/// Properties every request the parser accepts must have, whatever the input was.
private func checkInvariants(_ outcomes: [ParserOutcome], limits: HTTPLimits) {
    for outcome in outcomes {
        guard case .request(let request) = outcome else { continue }
        #expect(request.target.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }, "target \(request.target)")
        #expect(request.path.hasPrefix("/") || request.path == "*")
        for field in request.headers {
            #expect(!field.name.isEmpty)
            #expect(field.name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") })
            #expect(field.value.unicodeScalars.allSatisfy { $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7F) })
        }
        #expect(request.body.count <= limits.maxBodyBytes)
    }
}

@Test func randomGarbageNeverCrashesTheParser() {
    var random = ParserFuzzRandom(seed: 20_000)
    let limitChoices = [
        HTTPLimits(), HTTPLimits(maxRequestLineBytes: 16, maxHeaderBytes: 48, maxHeaderCount: 2, maxBodyBytes: 8),
    ]
    var errors = 0
    for _ in 0..<20_000 {
        var bytes = randomBytes(count: Int.random(in: 0...256, using: &random), using: &random)
        // Half the inputs start with a valid request line so the garbage reaches the field and body parsers.
        if Bool.random(using: &random) {
            bytes = Array("POST / HTTP/1.1\r\nHost: h\r\n".utf8) + bytes
        }
        let limits = limitChoices.randomElement(using: &random) ?? HTTPLimits()
        let result = parserOutcomes(bytes, cuts: randomCuts(for: bytes.count, using: &random), limits: limits)
        for outcome in result {
            switch outcome {
            case .request, .error: break
            case .expectsContinue: Issue.record("garbage produced expectsContinue: \(bytes)")
            }
        }
        if case .error = result.last { errors += 1 }
        checkInvariants(result, limits: limits)
    }
    // Garbage is overwhelmingly refused; this guards against a harness that silently parses nothing.
    #expect(errors > 10_000)
}

@Test func mutatedRequestsParseTheSameHoweverTheyArrive() {
    var random = ParserFuzzRandom(seed: 0xF022)
    let corpus = validParserRequests.map(\.bytes)
    let interesting = Array("\r\n \t:;,%0aAzZ\0\u{7F}".utf8) + [0x80, 0xFF]
    let limits = HTTPLimits()
    var requests = 0
    for _ in 0..<5_000 {
        var bytes = corpus.randomElement(using: &random) ?? []
        for _ in 0..<Int.random(in: 1...3, using: &random) where !bytes.isEmpty {
            let position = Int.random(in: 0..<bytes.count, using: &random)
            let byte =
                Bool.random(using: &random)
                ? interesting.randomElement(using: &random) ?? 0 : UInt8.random(in: 0...255, using: &random)
            switch Int.random(in: 0..<3, using: &random) {
            case 0: bytes[position] = byte
            case 1: bytes.insert(byte, at: position)
            default: bytes.remove(at: position)
            }
        }
        let whole = parserOutcomes(bytes, limits: limits)
        #expect(parserOutcomesByteByByte(bytes, limits: limits) == whole, "input \(bytes)")
        #expect(parserOutcomes(bytes, cuts: randomCuts(for: bytes.count, using: &random), limits: limits) == whole)
        checkInvariants(whole, limits: limits)
        requests += whole.filter { if case .request = $0 { true } else { false } }.count
    }
    // Single-byte mutations often leave a request valid; make sure the accepting paths were exercised too.
    #expect(requests > 500)
}
