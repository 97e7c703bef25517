import Testing

@testable import HTTPServer

@Suite struct RouterTests {
    private let loop: EventLoop

    init() throws { loop = try EventLoop(index: 0) }

    private func request(_ method: HTTPMethod, _ target: String) -> HTTPRequest {
        let parts = target.split(separator: "?", maxSplits: 1)
        return HTTPRequest(
            method: method, target: target, path: String(parts[0]), query: parts.count > 1 ? String(parts[1]) : nil,
            version: .http1_1, headers: ["Host": "x"])
    }

    private func respond(_ router: Router, _ method: HTTPMethod, _ target: String) -> HTTPResponse? {
        let context = RequestContext(requestID: "t", remoteAddress: nil, receivedAt: 0, eventLoop: loop)
        guard case .now(let response) = router.respond(to: request(method, target), context: context) else {
            return nil
        }
        return response
    }

    private func text(_ response: HTTPResponse?) -> String? {
        guard case .bytes(let bytes) = response?.body else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func makeRouter() -> Router {
        var router = Router()
        router.get("/api/v1/rooms/:id/messages") { request, _ in
            .now(.text("messages of \(request.pathParameters["id"] ?? "?")"))
        }
        router.post("/api/v1/rooms/:id/messages") { _, _ in .now(.text("posted", status: .created)) }
        router.get("/api/v1/rooms/mine/messages") { _, _ in .now(.text("literal wins")) }
        router.get("/files/*rest") { request, _ in .now(.text("file \(request.pathParameters["rest"] ?? "")")) }
        router.delete("/api/v1/rooms/:id") { request, _ in .now(.text("deleted \(request.pathParameters["id"] ?? "")"))
        }
        router.get("/boom") { _, _ in throw HTTPError(.conflict, code: "taken", message: "Already there.") }
        return router
    }

    @Test func pathParametersAreCapturedAndDecoded() {
        let router = makeRouter()
        #expect(text(respond(router, .GET, "/api/v1/rooms/42/messages")) == "messages of 42")
        #expect(text(respond(router, .GET, "/api/v1/rooms/a%20b/messages")) == "messages of a b")
        #expect(text(respond(router, .DELETE, "/api/v1/rooms/7")) == "deleted 7")
    }

    @Test func literalSegmentsWinOverParameters() {
        #expect(text(respond(makeRouter(), .GET, "/api/v1/rooms/mine/messages")) == "literal wins")
    }

    @Test func methodsAreMatchedAndWrongMethodIs405WithAllow() {
        let router = makeRouter()
        #expect(respond(router, .POST, "/api/v1/rooms/1/messages")?.status == .created)
        let response = respond(router, .PUT, "/api/v1/rooms/1/messages")
        #expect(response?.status == .methodNotAllowed)
        #expect(response?.headers["Allow"] == "GET, HEAD, POST, OPTIONS")
        #expect(text(response)?.contains(#""code":"method_not_allowed""#) == true)
    }

    @Test func headFallsBackToGetAndOptionsListsMethods() {
        let router = makeRouter()
        #expect(text(respond(router, .HEAD, "/api/v1/rooms/1/messages")) == "messages of 1")
        let options = respond(router, .OPTIONS, "/api/v1/rooms/1")
        #expect(options?.status == .noContent)
        #expect(options?.headers["Allow"] == "DELETE, OPTIONS")
    }

    @Test func unknownPathsAre404InTheErrorShape() {
        let response = respond(makeRouter(), .GET, "/api/v2/nothing")
        #expect(response?.status == .notFound)
        #expect(response?.headers["Content-Type"] == "application/json")
        #expect(text(response) == #"{"error":{"code":"not_found","message":"No such resource."}}"#)
    }

    @Test func catchAllCapturesTheRest() {
        let router = makeRouter()
        #expect(text(respond(router, .GET, "/files/a/b/c.txt")) == "file a/b/c.txt")
        #expect(text(respond(router, .GET, "/files/")) == "file ")
    }

    @Test func thrownHTTPErrorsBecomeTheirResponse() {
        let response = respond(makeRouter(), .GET, "/boom")
        #expect(response?.status == .conflict)
        #expect(text(response) == #"{"error":{"code":"taken","message":"Already there."}}"#)
    }

    @Test func queryStringsDoNotAffectMatching() {
        #expect(text(respond(makeRouter(), .GET, "/api/v1/rooms/9/messages?before_seq=3")) == "messages of 9")
    }

    @Test func routeTableIsListedForDocumentation() {
        let patterns = makeRouter().routes.map { "\($0.method.rawValue) \($0.pattern)" }
        #expect(patterns.contains("POST /api/v1/rooms/:id/messages"))
        #expect(patterns.count == 6)
    }

    @Test func literalDeadEndsBacktrackToParameters() {
        var router = Router()
        router.get("/users/me/settings") { _, _ in .now(.text("settings")) }
        router.get("/users/:id/profile") { request, _ in .now(.text("profile \(request.pathParameters["id"] ?? "")")) }
        #expect(text(respond(router, .GET, "/users/me/profile")) == "profile me")
        #expect(text(respond(router, .GET, "/users/me/settings")) == "settings")
    }

    @Test func catchAllServesMethodsAMoreSpecificRouteLacks() {
        var router = Router()
        router.get("/files/*path") { request, _ in .now(.text("file \(request.pathParameters["path"] ?? "")")) }
        router.post("/files/upload") { _, _ in .now(.text("uploaded")) }
        #expect(text(respond(router, .GET, "/files/upload")) == "file upload")
        #expect(text(respond(router, .POST, "/files/upload")) == "uploaded")
        #expect(respond(router, .DELETE, "/files/upload")?.status == .methodNotAllowed)
    }
}
