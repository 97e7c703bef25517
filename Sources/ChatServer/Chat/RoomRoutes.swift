import ChatCore
import HTTPServer

/// `/api/v1/rooms*`, `/api/v1/unread` and `/api/v1/search/messages`: the HTTP face of `RoomService` and
/// `MessageService`. Access rules live in the services (non-members get 404, roles 403).
struct RoomRoutes: Sendable {
    let rooms: RoomService
    let messages: MessageService
    let auth: BearerAuthentication

    func register(in router: inout Router) {
        registerRooms(in: &router)
        registerMembers(in: &router)
        registerMessages(in: &router)
        registerReading(in: &router)
    }

    /// Rooms with their last message, in one extra query for the whole list.
    private func withLastMessages(_ list: [Room], userID: Int64) async throws -> [RoomJSON] {
        let ids = list.compactMap { $0.lastMessageID == nil ? nil : $0.id }
        let last = ids.isEmpty ? [:] : try await messages.lastMessages(roomIDs: ids, userID: userID)
        return list.map { RoomJSON(room: $0, lastMessage: last[$0.id]) }
    }

    private func registerRooms(in router: inout Router) {
        router.post(
            "/api/v1/rooms/direct",
            auth.handler { request, _, principal in
                let body = try request.decodeJSON(UserIDBody.self)
                try Required.check(["user_id": body.user_id.map(String.init)])
                let result = try await rooms.openDirectRoom(userID: principal.userID, peerID: body.user_id ?? 0)
                let json = try await withLastMessages([result.room], userID: principal.userID)[0]
                return .json(json, status: result.created ? .created : .ok)
            })
        router.post(
            "/api/v1/rooms",
            auth.handler { request, _, principal in
                let body = try request.decodeJSON(CreateRoomBody.self)
                try Required.check(["name": body.name])
                let room = try await rooms.createGroup(
                    userID: principal.userID, name: body.name ?? "", topic: body.topic, memberIDs: body.member_ids ?? []
                )
                return .json(try await withLastMessages([room], userID: principal.userID)[0], status: .created)
            })
        router.get(
            "/api/v1/rooms",
            auth.handler { _, _, principal in
                let list = try await rooms.rooms(userID: principal.userID)
                return .json(RoomsJSON(rooms: try await withLastMessages(list, userID: principal.userID)))
            })
        router.get(
            "/api/v1/rooms/:id",
            auth.handler { request, _, principal in
                let room = try await rooms.room(id: try request.id("id"), userID: principal.userID)
                return .json(try await withLastMessages([room], userID: principal.userID)[0])
            })
        router.patch(
            "/api/v1/rooms/:id",
            auth.handler { request, _, principal in
                let id = try request.id("id")
                let body = try request.decodeJSON(UpdateRoomBody.self)
                let room = try await rooms.updateRoom(
                    id: id, userID: principal.userID, name: body.name, topic: body.topic)
                return .json(try await withLastMessages([room], userID: principal.userID)[0])
            })
        router.delete(
            "/api/v1/rooms/:id",
            auth.handler { request, _, principal in
                try await rooms.deleteRoom(id: try request.id("id"), userID: principal.userID)
                return HTTPResponse(status: .noContent)
            })
    }

    private func registerMembers(in router: inout Router) {
        router.get(
            "/api/v1/rooms/:id/members",
            auth.handler { request, _, principal in
                let members = try await rooms.members(roomID: try request.id("id"), userID: principal.userID)
                return .json(MembersJSON(members: members.map(MemberJSON.init)))
            })
        router.post(
            "/api/v1/rooms/:id/members",
            auth.handler { request, _, principal in
                let id = try request.id("id")
                let body = try request.decodeJSON(AddMembersBody.self)
                try Required.check(["user_ids": body.user_ids.map { "\($0)" }])
                let members = try await rooms.addMembers(
                    roomID: id, userID: principal.userID, userIDs: body.user_ids ?? [])
                return .json(MembersJSON(members: members.map(MemberJSON.init)))
            })
        router.delete(
            "/api/v1/rooms/:id/members/:user_id",
            auth.handler { request, _, principal in
                try await rooms.removeMember(
                    roomID: try request.id("id"), userID: principal.userID, memberID: try request.id("user_id"))
                return HTTPResponse(status: .noContent)
            })
        router.patch(
            "/api/v1/rooms/:id/members/:user_id",
            auth.handler { request, _, principal in
                let id = try request.id("id")
                let memberID = try request.id("user_id")
                let body = try request.decodeJSON(RoleBody.self)
                guard let role = body.role.flatMap(RoomRole.init(rawValue:)), role != .owner else {
                    throw HTTPError(
                        .unprocessableEntity, code: "validation_failed", message: "role is admin or member.",
                        fields: ["role": "must be admin or member"])
                }
                let member = try await rooms.setRole(
                    roomID: id, userID: principal.userID, memberID: memberID, role: role)
                return .json(MemberJSON(member))
            })
    }

    private func registerMessages(in router: inout Router) {
        router.post(
            "/api/v1/rooms/:id/messages",
            auth.handler { request, _, principal in
                let id = try request.id("id")
                let body = try request.decodeJSON(SendMessageBody.self)
                try Required.check(["content": body.content])
                let (message, duplicate) = try await messages.send(
                    roomID: id, senderID: principal.userID, content: body.content ?? "", mimeType: body.mime_type,
                    clientMessageID: body.client_msg_id, replyTo: body.reply_to, attachments: body.attachments ?? [])
                return .json(MessageJSON(message), status: duplicate ? .ok : .created)
            })
        router.get(
            "/api/v1/rooms/:id/messages",
            auth.handler { request, _, principal in
                let id = try request.id("id")
                let limit = try request.limitQuery(default: 50)
                let page = try await messages.history(
                    roomID: id, userID: principal.userID, beforeSeq: try request.integerQuery("before_seq"),
                    afterSeq: try request.integerQuery("after_seq"), limit: limit)
                return .json(HistoryJSON(messages: page.messages.map(MessageJSON.init), has_more: page.hasMore))
            })
        router.patch(
            "/api/v1/rooms/:id/messages/:msg_id",
            auth.handler { request, _, principal in
                let id = try request.id("id")
                let messageID = try request.id("msg_id")
                let body = try request.decodeJSON(EditMessageBody.self)
                try Required.check(["content": body.content])
                let message = try await messages.edit(
                    roomID: id, messageID: messageID, userID: principal.userID, content: body.content ?? "")
                return .json(MessageJSON(message))
            })
        router.delete(
            "/api/v1/rooms/:id/messages/:msg_id",
            auth.handler { request, _, principal in
                _ = try await messages.delete(
                    roomID: try request.id("id"), messageID: try request.id("msg_id"), userID: principal.userID)
                return HTTPResponse(status: .noContent)
            })
        router.put(
            "/api/v1/rooms/:id/messages/:msg_id/reactions/:emoji",
            auth.handler { request, _, principal in
                let message = try await messages.react(
                    roomID: try request.id("id"), messageID: try request.id("msg_id"), userID: principal.userID,
                    emoji: request.pathParameters["emoji"] ?? "")
                return .json(MessageJSON(message))
            })
        router.delete(
            "/api/v1/rooms/:id/messages/:msg_id/reactions/:emoji",
            auth.handler { request, _, principal in
                let message = try await messages.unreact(
                    roomID: try request.id("id"), messageID: try request.id("msg_id"), userID: principal.userID,
                    emoji: request.pathParameters["emoji"] ?? "")
                return .json(MessageJSON(message))
            })
    }

    private func registerReading(in router: inout Router) {
        router.post(
            "/api/v1/rooms/:id/read",
            auth.handler { request, _, principal in
                let id = try request.id("id")
                let body = try request.decodeJSON(ReadBody.self)
                guard let seq = body.seq, seq >= 0 else {
                    throw HTTPError(
                        .unprocessableEntity, code: "validation_failed",
                        message: "seq must be a message sequence number (0 or more).",
                        fields: ["seq": "must be a whole number, 0 or more"])
                }
                let read = try await messages.markRead(roomID: id, userID: principal.userID, seq: seq)
                return .json(ReadJSON(room_id: id, last_read_seq: read.lastReadSeq, unread_count: read.unreadCount))
            })
        router.get(
            "/api/v1/rooms/:id/receipts",
            auth.handler { request, _, principal in
                let receipts = try await messages.receipts(roomID: try request.id("id"), userID: principal.userID)
                return .json(
                    ReceiptsJSON(
                        receipts: receipts.map { ReceiptJSON(user_id: $0.userID, last_read_seq: $0.lastReadSeq) }))
            })
        router.get(
            "/api/v1/unread",
            auth.handler { _, _, principal in
                let unread = try await messages.unread(userID: principal.userID)
                return .json(
                    UnreadJSON(
                        rooms: unread.rooms.map {
                            UnreadRoomJSON(
                                room_id: $0.roomID, unread_count: $0.unreadCount, last_read_seq: $0.lastReadSeq,
                                last_seq: $0.lastSeq)
                        }, total: unread.total))
            })
        router.get(
            "/api/v1/search/messages",
            auth.handler { request, _, principal in
                let limit = try request.limitQuery(default: 20)
                let roomID = try request.integerQuery("room_id")
                let found = try await messages.search(
                    userID: principal.userID, query: request.queryValue("q") ?? "", roomID: roomID, limit: limit,
                    cursor: request.queryValue("cursor"))
                return .json(
                    SearchJSON(
                        results: found.results.map {
                            SearchResultJSON(message: MessageJSON($0.message), snippet: $0.snippet)
                        },
                        next_cursor: found.nextCursor))
            })
    }
}

struct CreateRoomBody: Decodable {
    let name: String?
    let topic: String?
    let member_ids: [Int64]?
}

struct UpdateRoomBody: Decodable {
    let name: String?
    let topic: String?
}

struct AddMembersBody: Decodable {
    let user_ids: [Int64]?
}

struct RoleBody: Decodable {
    let role: String?
}

struct SendMessageBody: Decodable {
    let content: String?
    let mime_type: String?
    let client_msg_id: String?
    let reply_to: Int64?
    let attachments: [String]?
}

struct EditMessageBody: Decodable {
    let content: String?
}

struct ReadBody: Decodable {
    let seq: Int64?
}
