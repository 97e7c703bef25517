import ChatCore
import Foundation

/// A client → server message (docs/realtime-protocol.md): `{"type", "id"?, "data"?}`. The header is decoded
/// first; `data` is decoded by type with ``decodeData(_:)``.
struct RealtimeRequest {
    let type: String
    let id: RequestID?
    private let json: Data

    /// The client's request id, echoed as `ref`: a string of at most 64 characters or an integer, sent back as
    /// it came.
    enum RequestID: Encodable, Equatable {
        case text(String)
        case number(Int64)

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let text): try container.encode(text)
            case .number(let number): try container.encode(number)
            }
        }
    }

    /// Why a message could not be read: an `ERROR` code and message.
    struct Problem: Error, Equatable {
        let code: String
        let message: String
        var fields: [String: String]? = nil
    }

    private struct Header: Decodable {
        let type: String?
        let id: RawID?
        let data: DataShape?
    }

    /// Whether `data` is an object (null counts as absent).
    private struct DataShape: Decodable {
        let isObject: Bool

        private struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            isObject = (try? decoder.container(keyedBy: AnyKey.self)) != nil
        }
    }

    private enum RawID: Decodable {
        case text(String)
        case number(Int64)
        case other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int64.self) {
                self = .number(number)
            } else if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .other
            }
        }
    }

    private struct Body<D: Decodable>: Decodable {
        let data: D?
    }

    private struct IDOnly: Decodable {
        let id: RawID?
    }

    /// The request's id alone, from a message whose other parts may be wrong (so the error can carry `ref`).
    static func id(in text: String) -> RequestID? {
        guard let found = try? JSONDecoder().decode(IDOnly.self, from: Data(text.utf8)) else { return nil }
        return found.id.flatMap(Self.requestID)
    }

    init(parsing text: String) throws(Problem) {
        let json = Data(text.utf8)
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: json)
        } catch DecodingError.dataCorrupted {
            throw Problem(code: "invalid_json", message: "The message is not valid JSON.")
        } catch {
            throw Problem(code: "invalid_message", message: "A message is a JSON object with a string \"type\".")
        }
        guard let type = header.type, !type.isEmpty else {
            throw Problem(code: "invalid_message", message: "A message is a JSON object with a string \"type\".")
        }
        if let data = header.data, !data.isObject {
            throw Problem(code: "invalid_message", message: "\"data\" must be a JSON object.")
        }
        var id: RequestID?
        if let raw = header.id {
            guard let valid = Self.requestID(raw) else {
                throw Problem(
                    code: "invalid_message", message: "\"id\" is a string of at most 64 characters, or an integer.")
            }
            id = valid
        }
        self.type = type
        self.id = id
        self.json = json
    }

    private static func requestID(_ raw: RawID) -> RequestID? {
        switch raw {
        case .number(let number): .number(number)
        case .text(let text) where text.count <= 64: .text(text)
        default: nil
        }
    }

    /// The `data` object as `D` (whose fields are optional, so missing ones are reported by the caller); an
    /// absent `data` decodes from `{}`.
    func decodeData<D: Decodable>(_ type: D.Type) throws(Problem) -> D {
        do {
            if let data = try JSONDecoder().decode(Body<D>.self, from: json).data {
                return data
            }
            return try JSONDecoder().decode(D.self, from: Data("{}".utf8))
        } catch {
            throw Problem(
                code: "validation_failed", message: "\"data\" does not have the fields \(self.type) needs.",
                fields: Self.fieldProblems(error) ?? nonIntegerFields())
        }
    }

    /// A value of `data` that is a number but not a 64-bit integer marks itself (Foundation's decoder reports those
    /// as corrupt data without naming the field).
    private struct NumberProbe: Decodable {
        let isNonInteger: Bool

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            isNonInteger = (try? container.decode(Int64.self)) == nil && (try? container.decode(Double.self)) != nil
        }
    }

    private func nonIntegerFields() -> [String: String]? {
        guard let data = try? JSONDecoder().decode(Body<[String: NumberProbe]>.self, from: json).data else {
            return nil
        }
        let fields = data.filter(\.value.isNonInteger).map { ($0.key, "has the wrong type") }
        return fields.isEmpty ? nil : Dictionary(uniqueKeysWithValues: fields)
    }

    private static func fieldProblems(_ error: any Error) -> [String: String]? {
        switch error {
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.dataCorrupted(let context) where !context.codingPath.isEmpty:
            // dataCorrupted with a path: a number that does not fit the field (1.5 or 1e30 for an id).
            let path = context.codingPath.map(\.stringValue).filter { $0 != "data" }.joined(separator: ".")
            return path.isEmpty ? ["data": "must be an object"] : [path: "has the wrong type"]
        default:
            return nil
        }
    }

    /// Fails with `validation_failed` naming every nil field.
    static func require(_ fields: [String: Any?]) throws(Problem) {
        let missing = fields.filter { $0.value == nil }.keys.sorted()
        guard missing.isEmpty else {
            throw Problem(
                code: "validation_failed", message: "Missing fields: \(missing.joined(separator: ", ")).",
                fields: Dictionary(uniqueKeysWithValues: missing.map { ($0, "is required") }))
        }
    }
}

// MARK: Data of each request type

struct SendMessageData: Decodable {
    let chat_room_id: Int64?
    let content: String?
    let mime_type: String?
    let client_msg_id: String?
    let reply_to: Int64?
    let attachments: [String]?
}

struct RoomData: Decodable {
    let chat_room_id: Int64?
}

struct TypingData: Decodable {
    let chat_room_id: Int64?
    let is_typing: Bool?
}

struct ReadReceiptData: Decodable {
    let chat_room_id: Int64?
    let seq: Int64?
}

struct AuthData: Decodable {
    let token: String?
}

struct ResumeData: Decodable {
    /// Room id (as a JSON object key) → the last seq the client has.
    let rooms: [String: Int64]?
}
