import Foundation
import HTTPServer
import SystemSupport
import Testing

@testable import ChatServer

/// The OpenAPI document against the route table of a real `ChatApplication`, both ways: every registered route
/// is documented, and every documented operation is registered.
@Suite(.serialized) struct OpenAPITests {
    /// The methods an OpenAPI path item can hold (HEAD and OPTIONS are answered by the router for every route).
    private static let documentedMethods = ["get", "put", "post", "delete", "patch"]

    private static func document(_ text: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [String: Any])
    }

    /// `/rooms/:id/messages/*rest` → `/rooms/{id}/messages/{rest}`.
    static func openAPIPath(_ pattern: String) -> String {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix(":") || segment.hasPrefix("*") ? "{\(segment.dropFirst())}" : String(segment)
        }
        return segments.joined(separator: "/")
    }

    /// "GET /api/v1/rooms/{id}" for every operation of the document.
    static func documentedOperations(_ document: [String: Any]) throws -> Set<String> {
        let paths = try #require(document["paths"] as? [String: Any])
        var operations = Set<String>()
        for (path, item) in paths {
            let item = try #require(item as? [String: Any], "path item \(path)")
            for method in documentedMethods where item[method] != nil {
                operations.insert(method.uppercased() + " " + path)
            }
        }
        return operations
    }

    /// A real application (not listening) on a fresh data directory, with the echo route the tests use.
    static func registeredOperations() throws -> Set<String> {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("openapi-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var settings = Settings()
        settings.server.dataDir = directory.path
        settings.server.staticDir = nil
        settings.server.listen = ListenAddress(host: "127.0.0.1", port: 0)
        settings.server.loops = 1
        settings.server.workers = 1
        settings.log.access = false
        let application = try ChatApplication(settings: settings, webSocketEchoPath: "/ws-echo")
        try application.start()
        defer {
            application.shutdown()
            application.waitUntilStopped()
        }
        var operations = Set<String>()
        for route in application.routes where route.pattern != "/ws-echo" {
            guard route.method != .HEAD, route.method != .OPTIONS else { continue }
            operations.insert(route.method.rawValue + " " + openAPIPath(route.pattern))
        }
        return operations
    }

    @Test func isOpenAPI31JSON() throws {
        let document = try Self.document(OpenAPIDocument.json)
        let version = try #require(document["openapi"] as? String)
        #expect(version.hasPrefix("3.1."))
        #expect(document["info"] is [String: Any])
        let components = try #require(document["components"] as? [String: Any])
        let schemes = try #require(components["securitySchemes"] as? [String: Any])
        let bearer = try #require(schemes["bearerAuth"] as? [String: Any])
        #expect(bearer["scheme"] as? String == "bearer")
        #expect(bearer["bearerFormat"] as? String == "JWT")
    }

    @Test func everyOperationHasAnIDAndResponses() throws {
        let document = try Self.document(OpenAPIDocument.json)
        let paths = try #require(document["paths"] as? [String: Any])
        var ids: [String] = []
        for (path, item) in paths {
            let item = try #require(item as? [String: Any])
            for method in Self.documentedMethods {
                guard let operation = item[method] as? [String: Any] else { continue }
                let id = operation["operationId"] as? String
                #expect(id != nil, "\(method) \(path) has no operationId")
                ids.append(id ?? "")
                let responses = operation["responses"] as? [String: Any] ?? [:]
                #expect(!responses.isEmpty, "\(method) \(path) documents no response")
                // Path parameters in the template are declared (directly or through a $ref).
                let declared = operation["parameters"] as? [Any] ?? []
                let placeholders = path.split(separator: "/").filter { $0.hasPrefix("{") }
                #expect(declared.count >= placeholders.count, "\(method) \(path) lacks path parameters")
            }
        }
        #expect(Set(ids).count == ids.count, "operationIds are unique")
    }

    @Test func routesAndDocumentAgree() throws {
        let documented = try Self.documentedOperations(try Self.document(OpenAPIDocument.json))
        let registered = try Self.registeredOperations()
        let undocumented = registered.subtracting(documented).sorted()
        let missing = documented.subtracting(registered).sorted()
        #expect(undocumented.isEmpty, "registered but not in OpenAPIDocument: \(undocumented)")
        #expect(missing.isEmpty, "documented but not registered: \(missing)")
        #expect(registered.contains("GET /ws"))
        #expect(registered.contains("GET /openapi.json"), "DocsRoutes is registered")
    }

    @Test func asyncAPIDocumentsEveryMessageType() throws {
        let document = try Self.document(AsyncAPIDocument.json)
        #expect(document["asyncapi"] as? String == "3.0.0")
        let components = try #require(document["components"] as? [String: Any])
        let messages = try #require(components["messages"] as? [String: Any])
        var types = Set<String>()
        for case let message as [String: Any] in messages.values {
            let payload = message["payload"] as? [String: Any]
            let properties = payload?["properties"] as? [String: Any]
            if let type = (properties?["type"] as? [String: Any])?["const"] as? String { types.insert(type) }
        }
        let expected: Set<String> = [
            "SEND_MESSAGE", "JOIN_ROOM", "LEAVE_ROOM", "TYPING", "READ_RECEIPT", "PING", "AUTH", "RESUME", "CONNECTED",
            "ACK", "NEW_MESSAGE", "MESSAGE_UPDATED", "MESSAGE_DELETED", "REACTION", "JOIN_SUCCESS", "LEAVE_SUCCESS",
            "USERS", "USER_JOINED", "USER_LEFT", "PRESENCE", "FRIEND_REQUEST", "FRIEND_REQUEST_ACCEPTED",
            "FRIEND_REQUEST_CANCELLED", "FRIEND_REMOVED", "ROOM_ADDED", "ROOM_REMOVED", "RESUMED", "AUTH_SUCCESS",
            "PONG",
            "ERROR",
        ]
        #expect(expected.subtracting(types).isEmpty, "missing: \(expected.subtracting(types).sorted())")
    }

    @Test func swaggerPageLoadsTheConfiguredAssets() throws {
        var settings = Settings.Docs()
        let pool = try WorkerPool(threads: 1)
        defer { pool.shutdown() }
        let cdn = DocsRoutes(settings: settings, workers: pool)
        #expect(cdn.page.contains(#"src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js""#))
        #expect(cdn.page.contains(#"href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css""#))
        #expect(!cdn.page.contains("<script>"), "no inline script")
        #expect(cdn.contentSecurityPolicy.contains("script-src 'self' https://cdn.jsdelivr.net;"))
        settings.swaggerUIDir = "/usr/share/swagger-ui"
        let local = DocsRoutes(settings: settings, workers: pool)
        #expect(local.page.contains(#"src="/swagger/assets/swagger-ui-bundle.js""#))
        #expect(local.contentSecurityPolicy.contains("script-src 'self';"))
    }

    @Test func assetBaseURLSetting() throws {
        #expect(
            try SettingValue.assetBaseURL("https://unpkg.com/swagger-ui-dist@5/")
                == "https://unpkg.com/swagger-ui-dist@5")
        #expect(try SettingValue.assetBaseURL("http://10.0.0.1:8000") == "http://10.0.0.1:8000")
        #expect(try SettingValue.assetBaseURL("/static/swagger") == "/static/swagger")
        for bad in [
            "", "/", "//evil.example/x", "ftp://x", "https://", "https://x/\"onload=", "https://x/a b", "https://x/<",
        ] {
            #expect(throws: SettingValueError.self, "\(bad)") { try SettingValue.assetBaseURL(bad) }
        }
        #expect(DocsRoutes.origin(of: "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5") == "https://cdn.jsdelivr.net")
        #expect(DocsRoutes.origin(of: "/static/swagger") == nil)
    }
}
