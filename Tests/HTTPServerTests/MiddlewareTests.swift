import Testing

@testable import HTTPServer

@Suite struct MiddlewareTests {
    private let loop: EventLoop

    init() throws { loop = try EventLoop(index: 0) }

    private struct Echo: Responder {
        func respond(to request: HTTPRequest, context: RequestContext) -> Reply {
            .now(.text("id=\(context.requestID)"))
        }
    }

    private func run(_ middleware: [any Middleware], method: HTTPMethod = .GET, headers: HTTPHeaders) -> HTTPResponse? {
        let chain = MiddlewareChain(middleware, responder: Echo())
        let request = HTTPRequest(
            method: method, target: "/", path: "/", query: nil, version: .http1_1, headers: headers)
        let context = RequestContext(requestID: "", remoteAddress: nil, receivedAt: 0, eventLoop: loop)
        guard case .now(let response) = chain.respond(to: request, context: context) else { return nil }
        return response
    }

    @Test func requestIDKeepsAPlainIncomingIDAndEchoesIt() {
        let response = run([RequestIDMiddleware()], headers: ["Host": "x", "X-Request-Id": "abc-123"])
        #expect(response?.headers["X-Request-Id"] == "abc-123")
    }

    @Test(arguments: ["", "has space", "quote\"", String(repeating: "a", count: 129), "new\nline"])
    func requestIDReplacesUnsafeIncomingIDs(incoming: String) {
        let response = run([RequestIDMiddleware()], headers: ["Host": "x", "X-Request-Id": incoming])
        let id = response?.headers["X-Request-Id"]
        #expect(id != nil && id != incoming)
        #expect(id.map(RequestIDMiddleware.isAcceptable) == true)
    }

    @Test func generatedRequestIDsAreUnique() {
        let generator = RequestIDGenerator()
        let ids = (0..<1000).map { _ in generator.next() }
        #expect(Set(ids).count == 1000)
    }

    @Test func corsAnswersPreflightForAllowedOriginsOnly() {
        let cors = CORSMiddleware(allowedOrigins: ["https://chat.example"])
        let allowed = run(
            [cors], method: .OPTIONS,
            headers: ["Host": "x", "Origin": "https://chat.example", "Access-Control-Request-Method": "POST"])
        #expect(allowed?.status == .noContent)
        #expect(allowed?.headers["Access-Control-Allow-Origin"] == "https://chat.example")
        #expect(allowed?.headers["Access-Control-Allow-Methods"]?.contains("POST") == true)
        let denied = run(
            [cors], method: .OPTIONS,
            headers: ["Host": "x", "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"])
        #expect(denied?.headers["Access-Control-Allow-Origin"] == nil)
    }

    @Test func corsAddsAllowOriginAndVaryToSimpleRequests() {
        let cors = CORSMiddleware(allowedOrigins: ["https://chat.example"])
        let response = run([cors], headers: ["Host": "x", "Origin": "https://chat.example"])
        #expect(response?.headers["Access-Control-Allow-Origin"] == "https://chat.example")
        #expect(response?.headers["Vary"] == "Origin")
        #expect(run([cors], headers: ["Host": "x"])?.headers["Vary"] == "Origin")
    }

    @Test func middlewareErrorsBecomeErrorResponses() {
        struct Deny: Middleware {
            func handle(_ request: HTTPRequest, context: RequestContext, next: any Responder) throws -> Reply {
                throw HTTPError(.unauthorized, code: "unauthorized", message: "No token.")
            }
        }
        let response = run([Deny()], headers: ["Host": "x"])
        #expect(response?.status == .unauthorized)
    }

    @Test func laterRepliesAreMappedWhenTheyComplete() async {
        let pending = PendingReply()
        let mapped = Reply.later(pending).map { response in
            var response = response
            response.headers.set("X-Mapped", "yes")
            return response
        }
        guard case .later(let result) = mapped else {
            Issue.record("expected a later reply")
            return
        }
        let response = await withCheckedContinuation { continuation in
            result.whenComplete { continuation.resume(returning: $0) }
            pending.complete(.text("done"))
        }
        #expect(response.headers["X-Mapped"] == "yes")
    }

    @Test func jsonErrorEscapesStrings() {
        let error = HTTPError(
            .unprocessableEntity, code: "validation_failed", message: "Bad \"name\"\n",
            fields: ["b": "x", "a": "\u{1}"])
        guard case .bytes(let bytes) = error.response.body else {
            Issue.record("expected bytes")
            return
        }
        #expect(
            String(decoding: bytes, as: UTF8.self)
                == #"{"error":{"code":"validation_failed","message":"Bad \"name\"\n","fields":{"a":"\u0001","b":"x"}}}"#
        )
    }
}
