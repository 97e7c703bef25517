import ChatCore
import Foundation
import Synchronization
import Testing

@testable import ChatServer

/// The problem `body` throws, or nil if it returns.
private func problem<T>(_ body: () throws(RealtimeRequest.Problem) -> T) -> RealtimeRequest.Problem? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

private func parse(_ text: String) -> RealtimeRequest.Problem? {
    problem { () throws(RealtimeRequest.Problem) in try RealtimeRequest(parsing: text) }
}

/// Client → server messages (docs/realtime-protocol.md): the envelope, the request id, and `data` by type.
@Suite struct RealtimeRequestTests {
    // MARK: Envelope

    @Test func aMessageIsATypeWithAnOptionalIdAndData() throws {
        let ping = try RealtimeRequest(parsing: #"{"type":"PING"}"#)
        #expect(ping.type == "PING" && ping.id == nil)
        let text = try RealtimeRequest(parsing: #"{"type":"SEND_MESSAGE","id":"c1","data":{}}"#)
        #expect(text.type == "SEND_MESSAGE" && text.id == .text("c1"))
        let number = try RealtimeRequest(parsing: #"{"id":42,"type":"PING"}"#)
        #expect(number.id == .number(42))
        #expect(try RealtimeRequest(parsing: #"{"type":"PING","id":-7}"#).id == .number(-7))
        #expect(try RealtimeRequest(parsing: #"{"type":"PING","id":9223372036854775807}"#).id == .number(.max))
        #expect(try RealtimeRequest(parsing: #"{"type":"PING","id":""}"#).id == .text(""))
        // Unknown types are the session's business, not the parser's.
        #expect(try RealtimeRequest(parsing: #"{"type":"NO_SUCH_TYPE","extra":[1,2]}"#).type == "NO_SUCH_TYPE")
    }

    @Test func anIdOfUpTo64CharactersIsEchoedAsItCame() throws {
        let longest = String(repeating: "x", count: 64)
        #expect(try RealtimeRequest(parsing: #"{"type":"PING","id":"\#(longest)"}"#).id == .text(longest))
        // Characters, not bytes.
        let accented = String(repeating: "é", count: 64)
        #expect(try RealtimeRequest(parsing: #"{"type":"PING","id":"\#(accented)"}"#).id == .text(accented))
        // A number in a string stays a string.
        #expect(try RealtimeRequest(parsing: #"{"type":"PING","id":"12"}"#).id == .text("12"))
    }

    @Test(arguments: ["", "{", "nope", #"{"type":"PING""#, #"{"type": }"#, "\u{FEFF}{]"])
    func textThatIsNotJSONIsInvalidJSON(text: String) {
        #expect(parse(text)?.code == "invalid_json")
    }

    @Test(arguments: [
        "[]", "42", #""PING""#, "null", "true", "{}", #"{"type":""}"#, #"{"type":5}"#, #"{"type":null}"#,
        #"{"type":["PING"]}"#, #"{"id":"c1"}"#, #"{"data":{}}"#,
    ])
    func jsonWithoutAStringTypeIsAnInvalidMessage(text: String) {
        let problem = parse(text)
        #expect(problem?.code == "invalid_message")
        #expect(problem?.fields == nil)
    }

    @Test(arguments: [
        #""\#(String(repeating: "x", count: 65))""#, "1.5", "true", "false", "[]", #"["c1"]"#, "{}",
        "92233720368547758070",
    ])
    func anIdOfAnotherKindIsAnInvalidMessage(id: String) {
        #expect(parse(#"{"type":"PING","id":\#(id)}"#)?.code == "invalid_message")
    }

    @Test func theIdIsFoundInAMessageWhoseOtherPartsAreWrong() {
        #expect(RealtimeRequest.id(in: #"{"type":"PING","id":"c1"}"#) == .text("c1"))
        #expect(RealtimeRequest.id(in: #"{"id":9}"#) == .number(9))
        #expect(RealtimeRequest.id(in: #"{"type":"","id":"c2"}"#) == .text("c2"))
        #expect(RealtimeRequest.id(in: #"{"type":"SEND_MESSAGE","id":"c3","data":7}"#) == .text("c3"))
        #expect(RealtimeRequest.id(in: #"{"type":"PING"}"#) == nil)
        #expect(RealtimeRequest.id(in: #"{"type":"PING","id":"\#(String(repeating: "x", count: 65))"}"#) == nil)
        #expect(RealtimeRequest.id(in: #"{"type":"PING","id":true}"#) == nil)
        #expect(RealtimeRequest.id(in: "not json") == nil)
        #expect(RealtimeRequest.id(in: #"[{"id":"c1"}]"#) == nil)
    }

    @Test func theIdIsFoundWhenTheTypeHasTheWrongType() {
        // `id(in:)` exists so that the ERROR for a malformed message can carry `ref`; a `type` of the wrong kind
        // is such a malformed message (answered `invalid_message`), and its `id` is fine.
        #expect(RealtimeRequest.id(in: #"{"type":5,"id":"c1"}"#) == .text("c1"))
        #expect(RealtimeRequest.id(in: #"{"type":null,"id":7}"#) == .number(7))
    }

    // MARK: Data

    @Test func missingOrNullDataDecodesFromAnEmptyObject() throws {
        for text in [#"{"type":"SEND_MESSAGE"}"#, #"{"type":"SEND_MESSAGE","data":null}"#] {
            let data = try RealtimeRequest(parsing: text).decodeData(SendMessageData.self)
            #expect(data.chat_room_id == nil && data.content == nil && data.mime_type == nil)
            #expect(data.client_msg_id == nil && data.reply_to == nil && data.attachments == nil)
        }
        let resume = try RealtimeRequest(parsing: #"{"type":"RESUME"}"#).decodeData(ResumeData.self)
        #expect(resume.rooms == nil)
    }

    @Test func dataIsDecodedByType() throws {
        let send = try RealtimeRequest(
            parsing: #"""
                {"type":"SEND_MESSAGE","id":"c1","data":{"chat_room_id":5,"content":"hi","mime_type":"text/markdown",
                 "client_msg_id":"k","reply_to":3,"attachments":[],"unknown":{"ignored":true}}}
                """#
        ).decodeData(SendMessageData.self)
        #expect(send.chat_room_id == 5 && send.content == "hi" && send.mime_type == "text/markdown")
        #expect(send.client_msg_id == "k" && send.reply_to == 3 && send.attachments == [])

        let typing = try RealtimeRequest(parsing: #"{"type":"TYPING","data":{"chat_room_id":2,"is_typing":false}}"#)
            .decodeData(TypingData.self)
        #expect(typing.chat_room_id == 2 && typing.is_typing == false)
        let receipt = try RealtimeRequest(parsing: #"{"type":"READ_RECEIPT","data":{"chat_room_id":2,"seq":9}}"#)
            .decodeData(ReadReceiptData.self)
        #expect(receipt.chat_room_id == 2 && receipt.seq == 9)
        let auth = try RealtimeRequest(parsing: #"{"type":"AUTH","data":{"token":"abc"}}"#).decodeData(AuthData.self)
        #expect(auth.token == "abc")
        let resume = try RealtimeRequest(parsing: #"{"type":"RESUME","data":{"rooms":{"1":4,"22":0}}}"#)
            .decodeData(ResumeData.self)
        #expect(resume.rooms == ["1": 4, "22": 0])
        let room = try RealtimeRequest(parsing: #"{"type":"JOIN_ROOM","data":{"chat_room_id":12}}"#)
            .decodeData(RoomData.self)
        #expect(room.chat_room_id == 12)
    }

    @Test func fieldsOfTheWrongTypeAreValidationFailuresNamingTheField() throws {
        let cases: [(String, [String: String])] = [
            (
                #"{"type":"SEND_MESSAGE","data":{"chat_room_id":"5","content":"hi"}}"#,
                ["chat_room_id": "has the wrong type"]
            ),
            (#"{"type":"SEND_MESSAGE","data":{"chat_room_id":5,"content":7}}"#, ["content": "has the wrong type"]),
            (#"{"type":"RESUME","data":{"rooms":{"1":"x"}}}"#, ["rooms.1": "has the wrong type"]),
            (#"{"type":"RESUME","data":{"rooms":[1]}}"#, ["rooms": "has the wrong type"]),
        ]
        for (text, fields) in cases {
            let request = try RealtimeRequest(parsing: text)
            let failure: RealtimeRequest.Problem?
            if request.type == "RESUME" {
                failure = problem { () throws(RealtimeRequest.Problem) in try request.decodeData(ResumeData.self) }
            } else {
                failure = problem { () throws(RealtimeRequest.Problem) in try request.decodeData(SendMessageData.self) }
            }
            #expect(failure?.code == "validation_failed", "\(text)")
            #expect(failure?.fields == fields, "\(text)")
            #expect(failure?.message.contains(request.type) == true)
        }
        let typing = try RealtimeRequest(parsing: #"{"type":"TYPING","data":{"chat_room_id":1,"is_typing":"yes"}}"#)
        let failure = problem { () throws(RealtimeRequest.Problem) in try typing.decodeData(TypingData.self) }
        #expect(
            failure
                == RealtimeRequest.Problem(
                    code: "validation_failed", message: "\"data\" does not have the fields TYPING needs.",
                    fields: ["is_typing": "has the wrong type"]))
    }

    @Test(arguments: ["1.5", "1e30", "92233720368547758070"])
    func numbersThatAreNotInt64sAreValidationFailuresNamingTheField(number: String) throws {
        // docs/realtime-protocol.md: `validation_failed` comes "with `fields`"; a fractional or out-of-range
        // number where an integer is expected must name its field like any other wrong type.
        let request = try RealtimeRequest(
            parsing: #"{"type":"SEND_MESSAGE","data":{"chat_room_id":\#(number),"content":"hi"}}"#)
        let failure = problem { () throws(RealtimeRequest.Problem) in try request.decodeData(SendMessageData.self) }
        #expect(failure?.code == "validation_failed")
        #expect(failure?.fields == ["chat_room_id": "has the wrong type"])
    }

    @Test(arguments: ["5", #""text""#, "[]", "true"])
    func dataThatIsNotAnObjectIsAnInvalidMessage(data: String) {
        // docs/realtime-protocol.md, Errors: "invalid_message (not an object, no type, data not an object)".
        let text = #"{"type":"SEND_MESSAGE","id":"c1","data":\#(data)}"#
        let failure =
            parse(text)
            ?? problem { () throws(RealtimeRequest.Problem) in
                try RealtimeRequest(parsing: text).decodeData(SendMessageData.self)
            }
        #expect(failure?.code == "invalid_message")
    }

    @Test func requireNamesEveryMissingField() {
        #expect(
            problem { () throws(RealtimeRequest.Problem) in try RealtimeRequest.require(["a": 1, "b": "x"]) } == nil)
        let missing = problem { () throws(RealtimeRequest.Problem) in
            try RealtimeRequest.require(["seq": nil as Int64?, "chat_room_id": nil as Int64?, "token": "t"])
        }
        #expect(missing?.code == "validation_failed")
        #expect(missing?.fields == ["chat_room_id": "is required", "seq": "is required"])
        #expect(missing?.message == "Missing fields: chat_room_id, seq.")
    }

    @Test func requestIdsEncodeAsTheyCame() throws {
        let encoded = try JSONEncoder().encode([RequestID.text("c1"), .number(42)])
        #expect(String(decoding: encoded, as: UTF8.self) == #"["c1",42]"#)
    }
}

/// The per-connection message budget.
@Suite struct RealtimeTokenBucketTests {
    /// Whether each message, sent at the given milliseconds, was let through.
    static func take(_ bucket: inout TokenBucket, at times: [Int64]) -> [Bool] {
        times.map { bucket.take(now: $0) }
    }

    @Test func aBurstPassesThenTheRestWaitForTheRefill() {
        var bucket = TokenBucket(perSecond: 20, burst: 40, now: 1_000)
        #expect(Self.take(&bucket, at: Array(repeating: 1_000, count: 40)) == Array(repeating: true, count: 40))
        #expect(Self.take(&bucket, at: [1_000]) == [false])
        // 20 per second: one token every 50 ms.
        #expect(Self.take(&bucket, at: [1_049, 1_050, 1_050]) == [false, true, false])
        // Half a token is kept, not lost: 25 ms now and 25 ms later make one.
        #expect(Self.take(&bucket, at: [1_075, 1_100, 1_100]) == [false, true, false])
    }

    @Test func theRefillStopsAtTheBurst() {
        var bucket = TokenBucket(perSecond: 20, burst: 5, now: 0)
        #expect(Self.take(&bucket, at: Array(repeating: 0, count: 6)) == [true, true, true, true, true, false])
        // A long silence refills to the burst, no more.
        #expect(
            Self.take(&bucket, at: Array(repeating: 3_600_000, count: 6)) == [true, true, true, true, true, false])
    }

    @Test func aClockGoingBackRefillsNothing() {
        var bucket = TokenBucket(perSecond: 10, burst: 1, now: 10_000)
        #expect(Self.take(&bucket, at: [10_000, 5_000, 5_050, 5_100]) == [true, false, false, true])
    }

    @Test func aBurstBelowOneStillLetsOneThrough() {
        var bucket = TokenBucket(perSecond: 1, burst: 0, now: 0)
        #expect(bucket.burst == 1)
        #expect(Self.take(&bucket, at: [0, 999, 1_000]) == [true, false, true])
    }
}

/// One-time WebSocket tickets.
@Suite struct RealtimeWebSocketTicketsTests {
    final class Clock: Sendable {
        private let current = Atomic<Int64>(1_800_000_000_000)

        var now: Int64 { current.load(ordering: .relaxed) }

        func advance(_ milliseconds: Int64) {
            current.add(milliseconds, ordering: .relaxed)
        }
    }

    static func principal(_ userID: Int64) -> Principal {
        Principal(
            userID: userID, sessionID: "session-\(userID)", tokenID: "jti-\(userID)", expiresAt: 0, isAdmin: false)
    }

    @Test func aTicketIsGoodForOneConnection() {
        let clock = Clock()
        let tickets = WebSocketTickets(ttl: 30_000, clock: { clock.now })
        let issued = tickets.issue(for: Self.principal(1))
        #expect(issued.expiresIn == 30_000)
        #expect(issued.ticket.count >= 32)
        let other = tickets.issue(for: Self.principal(2))
        #expect(other.ticket != issued.ticket)

        #expect(tickets.redeem(issued.ticket) == Self.principal(1))
        #expect(tickets.redeem(issued.ticket) == nil)
        #expect(tickets.redeem(other.ticket) == Self.principal(2))
        #expect(tickets.redeem("unknown") == nil)
        #expect(tickets.redeem("") == nil)
    }

    @Test func aTicketExpiresAfterItsTTL() {
        let clock = Clock()
        let tickets = WebSocketTickets(ttl: 30_000, clock: { clock.now })
        let early = tickets.issue(for: Self.principal(1)).ticket
        let late = tickets.issue(for: Self.principal(2)).ticket
        clock.advance(29_999)
        #expect(tickets.redeem(early) == Self.principal(1))
        clock.advance(1)
        #expect(tickets.redeem(late) == nil)
        // An expired ticket that was tried is gone for good.
        #expect(tickets.redeem(late) == nil)
    }

    @Test func outstandingTicketsAreBounded() {
        let clock = Clock()
        let tickets = WebSocketTickets(ttl: 30_000, maxEntries: 3, clock: { clock.now })
        var issued: [String] = []
        for user in Int64(1)...5 {
            issued.append(tickets.issue(for: Self.principal(user)).ticket)
            clock.advance(10)
        }
        // The oldest made room for the newest.
        #expect(tickets.redeem(issued[0]) == nil)
        #expect(tickets.redeem(issued[1]) == nil)
        for (index, ticket) in issued.enumerated().dropFirst(2) {
            #expect(tickets.redeem(ticket) == Self.principal(Int64(index + 1)))
        }
    }

    @Test func expiredTicketsAreSweptBeforeALiveOneIsDropped() {
        let clock = Clock()
        let tickets = WebSocketTickets(ttl: 1_000, maxEntries: 3, clock: { clock.now })
        _ = tickets.issue(for: Self.principal(1))
        _ = tickets.issue(for: Self.principal(2))
        clock.advance(900)
        let live = tickets.issue(for: Self.principal(3)).ticket
        clock.advance(200)
        // Full, but two are expired: both go, and the live one stays.
        let fourth = tickets.issue(for: Self.principal(4)).ticket
        let fifth = tickets.issue(for: Self.principal(5)).ticket
        #expect(tickets.redeem(live) == Self.principal(3))
        #expect(tickets.redeem(fourth) == Self.principal(4))
        #expect(tickets.redeem(fifth) == Self.principal(5))
    }
}

/// The envelope each ``RealtimeEvent`` becomes (docs/realtime-protocol.md, "Server → client"), read back from
/// the WebSocket frame.
@Suite struct RealtimeFrameEncoderTests {
    /// The JSON object in a single unmasked text frame.
    static func envelope(_ frame: [UInt8]) throws -> [String: Any] {
        try #require(frame.count >= 2)
        #expect(frame[0] == 0x81, "FIN and text opcode")
        #expect(frame[1] & 0x80 == 0, "a server frame is not masked")
        var length = Int(frame[1] & 0x7F)
        var offset = 2
        if length == 126 {
            length = Int(frame[2]) << 8 | Int(frame[3])
            offset = 4
        } else if length == 127 {
            length = frame[2..<10].reduce(0) { $0 << 8 | Int($1) }
            offset = 10
        }
        #expect(frame.count == offset + length)
        let object = try JSONSerialization.jsonObject(with: Data(frame[offset...]))
        return try #require(object as? [String: Any])
    }

    /// Encodes the event; checks `type`, `sender_id` and `timestamp`, and returns `data`.
    static func data(
        _ event: RealtimeEvent, type: String, sender: Int64?, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [String: Any] {
        let before = AccountService.systemClock()
        let frame = RealtimeFrameEncoder().frame(for: event)
        let after = AccountService.systemClock()
        let envelope = try envelope(frame)
        #expect(Set(envelope.keys) == ["type", "sender_id", "timestamp", "data"], sourceLocation: sourceLocation)
        #expect(envelope["type"] as? String == type, sourceLocation: sourceLocation)
        if let sender {
            #expect((envelope["sender_id"] as? NSNumber)?.int64Value == sender, sourceLocation: sourceLocation)
        } else {
            #expect(envelope["sender_id"] is NSNull, "sender_id is null", sourceLocation: sourceLocation)
        }
        let timestamp = try #require((envelope["timestamp"] as? NSNumber)?.int64Value, sourceLocation: sourceLocation)
        #expect(timestamp >= before && timestamp <= after, sourceLocation: sourceLocation)
        return try #require(envelope["data"] as? [String: Any], sourceLocation: sourceLocation)
    }

    static func int(_ value: Any?) -> Int64? {
        (value as? NSNumber)?.int64Value
    }

    static let message = Message(
        id: 501, roomID: 7, seq: 12, senderID: 3, kind: .user, content: "hello", mimeType: "text/plain",
        clientMessageID: "k1", replyTo: 500, createdAt: 1_800_000_000_000,
        reactions: [ReactionSummary(emoji: "👍", count: 2, me: false)])

    static let messageKeys: Set<String> = [
        "id", "room_id", "seq", "sender_id", "kind", "content", "mime_type", "client_msg_id", "reply_to", "attachments",
        "created_at", "edited_at", "deleted", "reactions", "chat_room_id",
    ]

    @Test func aNewMessageIsTheRESTShapePlusTheRoomID() throws {
        let data = try Self.data(.messageCreated(Self.message, origin: 99), type: "NEW_MESSAGE", sender: 3)
        #expect(Self.messageKeys.isSubset(of: Set(data.keys)))
        #expect(Self.int(data["id"]) == 501 && Self.int(data["room_id"]) == 7 && Self.int(data["chat_room_id"]) == 7)
        #expect(Self.int(data["seq"]) == 12 && Self.int(data["sender_id"]) == 3)
        #expect(data["kind"] as? String == "user" && data["content"] as? String == "hello")
        #expect(data["mime_type"] as? String == "text/plain" && data["client_msg_id"] as? String == "k1")
        #expect(Self.int(data["reply_to"]) == 500 && Self.int(data["created_at"]) == 1_800_000_000_000)
        #expect(data["edited_at"] is NSNull && data["deleted"] as? Bool == false)
        #expect((data["attachments"] as? [Any])?.isEmpty == true)
        let reactions = try #require(data["reactions"] as? [[String: Any]])
        #expect(reactions.count == 1 && reactions.first?["emoji"] as? String == "👍")
        #expect(Self.int(reactions.first?["count"]) == 2)
        // The origin connection is the hub's business, not the client's.
        #expect(data["origin"] == nil)
    }

    @Test func aSystemMessageIsSentByTheMemberWhoseActionItRecords() throws {
        var message = Self.message
        message.senderID = nil
        message.kind = .system
        message.clientMessageID = nil
        message.replyTo = nil
        message.event = SystemEvent(type: "room_renamed", actorID: 4, userIDs: [], detail: "new name")
        // The envelope names the actor; the message itself has no sender, as REST shows it.
        let data = try Self.data(.messageCreated(message, origin: nil), type: "NEW_MESSAGE", sender: 4)
        #expect(data["sender_id"] is NSNull && data["kind"] as? String == "system")
        let event = try #require(data["event"] as? [String: Any])
        #expect(event["type"] as? String == "room_renamed" && Self.int(event["actor_id"]) == 4)

        message.event = SystemEvent(type: "room_renamed", actorID: nil)
        _ = try Self.data(.messageCreated(message, origin: nil), type: "NEW_MESSAGE", sender: nil)
    }

    @Test func anEditedMessage() throws {
        var message = Self.message
        message.content = "edited"
        message.editedAt = 1_800_000_000_500
        let data = try Self.data(.messageUpdated(message), type: "MESSAGE_UPDATED", sender: 3)
        #expect(Self.messageKeys.isSubset(of: Set(data.keys)))
        #expect(data["content"] as? String == "edited" && Self.int(data["edited_at"]) == 1_800_000_000_500)
        #expect(Self.int(data["chat_room_id"]) == 7)
    }

    @Test func aDeletedMessage() throws {
        let data = try Self.data(
            .messageDeleted(roomID: 7, messageID: 501, seq: 12, actorID: 4), type: "MESSAGE_DELETED", sender: 4)
        #expect(Set(data.keys) == ["chat_room_id", "message_id", "seq"])
        #expect(Self.int(data["chat_room_id"]) == 7 && Self.int(data["message_id"]) == 501)
        #expect(Self.int(data["seq"]) == 12)
    }

    @Test func aReactionCarriesTheCountsWithoutMe() throws {
        let change = ReactionChange(
            roomID: 7, messageID: 501, userID: 5, emoji: "🎉", added: true,
            reactions: [
                ReactionSummary(emoji: "👍", count: 2, me: false), ReactionSummary(emoji: "🎉", count: 1, me: false),
            ])
        let data = try Self.data(.reactionChanged(change), type: "REACTION", sender: 5)
        #expect(Set(data.keys) == ["chat_room_id", "message_id", "user_id", "emoji", "added", "reactions"])
        #expect(Self.int(data["chat_room_id"]) == 7 && Self.int(data["message_id"]) == 501)
        #expect(Self.int(data["user_id"]) == 5 && data["emoji"] as? String == "🎉" && data["added"] as? Bool == true)
        let reactions = try #require(data["reactions"] as? [[String: Any]])
        #expect(reactions.map { Set($0.keys) } == [["emoji", "count"], ["emoji", "count"]])
        #expect(reactions.map { $0["emoji"] as? String } == ["👍", "🎉"])
        #expect(reactions.map { Self.int($0["count"]) } == [2, 1])

        var removed = change
        removed.added = false
        removed.reactions = []
        let removedData = try Self.data(.reactionChanged(removed), type: "REACTION", sender: 5)
        #expect(removedData["added"] as? Bool == false && (removedData["reactions"] as? [Any])?.isEmpty == true)
    }

    @Test func aReadReceipt() throws {
        let data = try Self.data(.readPosition(roomID: 7, userID: 5, seq: 12), type: "READ_RECEIPT", sender: 5)
        #expect(Set(data.keys) == ["chat_room_id", "user_id", "seq"])
        #expect(Self.int(data["chat_room_id"]) == 7 && Self.int(data["user_id"]) == 5 && Self.int(data["seq"]) == 12)
    }

    @Test func typingAndViewers() throws {
        for isTyping in [true, false] {
            let data = try Self.data(.typing(roomID: 7, userID: 5, isTyping: isTyping), type: "TYPING", sender: 5)
            #expect(Set(data.keys) == ["chat_room_id", "user_id", "is_typing"])
            #expect(Self.int(data["chat_room_id"]) == 7 && Self.int(data["user_id"]) == 5)
            #expect(data["is_typing"] as? Bool == isTyping)
        }
        for (joined, type) in [(true, "USER_JOINED"), (false, "USER_LEFT")] {
            let data = try Self.data(.viewer(roomID: 7, userID: 5, joined: joined), type: type, sender: 5)
            #expect(Set(data.keys) == ["chat_room_id", "user_id"])
            #expect(Self.int(data["chat_room_id"]) == 7 && Self.int(data["user_id"]) == 5)
        }
    }

    @Test func presence() throws {
        let online = try Self.data(
            .presence(PresenceChange(userID: 5, online: true, lastSeenAt: nil, audience: [1, 2])), type: "PRESENCE",
            sender: 5)
        #expect(Set(online.keys) == ["user_id", "status", "last_seen_at"])
        #expect(Self.int(online["user_id"]) == 5 && online["status"] as? String == "online")
        #expect(online["last_seen_at"] is NSNull)
        let offline = try Self.data(
            .presence(PresenceChange(userID: 5, online: false, lastSeenAt: 1_800_000_000_000, audience: [1])),
            type: "PRESENCE", sender: 5)
        #expect(offline["status"] as? String == "offline" && Self.int(offline["last_seen_at"]) == 1_800_000_000_000)
        #expect(offline["audience"] == nil)
    }

    @Test func roomsAddedAndRemoved() throws {
        for kind in RoomKind.allCases {
            let added = try Self.data(
                .membersAdded(roomID: 7, kind: kind, userIDs: [1, 2], actorID: 1), type: "ROOM_ADDED", sender: 1)
            #expect(Set(added.keys) == ["chat_room_id", "kind"])
            #expect(Self.int(added["chat_room_id"]) == 7 && added["kind"] as? String == kind.rawValue)
        }
        for reason in ["removed", "left", "deleted"] {
            let removed = try Self.data(
                .membersRemoved(roomID: 7, userIDs: [1], reason: reason, actorID: 2), type: "ROOM_REMOVED",
                sender: 2)
            #expect(Set(removed.keys) == ["chat_room_id", "reason"])
            #expect(Self.int(removed["chat_room_id"]) == 7 && removed["reason"] as? String == reason)
        }
    }

    @Test func friendNotices() throws {
        let notice = FriendNotice(requestID: 40, actorID: 5, recipientID: 6)
        for (event, type) in [
            (RealtimeEvent.friendRequest(notice), "FRIEND_REQUEST"),
            (.friendRequestAccepted(notice), "FRIEND_REQUEST_ACCEPTED"),
            (.friendRequestCancelled(notice), "FRIEND_REQUEST_CANCELLED"),
        ] {
            let data = try Self.data(event, type: type, sender: 5)
            #expect(Set(data.keys) == ["request_id", "user_id"], "\(type)")
            #expect(Self.int(data["request_id"]) == 40 && Self.int(data["user_id"]) == 5, "\(type)")
        }
        let removed = try Self.data(.friendRemoved(userID: 5, otherID: 6), type: "FRIEND_REMOVED", sender: 5)
        #expect(Set(removed.keys) == ["user_id"])
        #expect(Self.int(removed["user_id"]) == 5)
    }

    @Test func longPayloadsUseTheExtendedLengths() throws {
        for size in [200, 70_000] {
            var message = Self.message
            message.content = String(repeating: "a", count: size)
            let frame = RealtimeFrameEncoder().frame(for: .messageCreated(message, origin: nil))
            #expect(frame[1] == (size < 65_536 ? 126 : 127))
            let data = try #require(try Self.envelope(frame)["data"] as? [String: Any])
            #expect((data["content"] as? String)?.count == size)
        }
    }

    @Test func textIsEscapedAsJSON() throws {
        var message = Self.message
        message.content = "quote \" backslash \\ newline \n slash / emoji 🎉 nul \u{0}"
        let data = try Self.data(.messageCreated(message, origin: nil), type: "NEW_MESSAGE", sender: 3)
        #expect(data["content"] as? String == message.content)
    }
}
