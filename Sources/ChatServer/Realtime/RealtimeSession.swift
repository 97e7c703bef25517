import ChatCore
import HTTPServer
import Logging

/// One authenticated `/ws` connection: reads client requests (docs/realtime-protocol.md), calls the services,
/// and receives the hub's deliveries.
///
/// **Threads.** Everything but the immutable identity is confined to the connection's event loop: the
/// WebSocket callbacks and ``deliver(_:)`` run there. Requests that need the database run as a task and
/// answer with `socket.send`, which hops back to the loop; a task that must change session state does so
/// through `lane.execute`.
///
/// **No gap, no duplicate.** A room's messages committed up to the connection's snapshot of its rooms (``floor``)
/// are the client's to fetch (REST or RESUME) and are never sent live; after it, live delivery is complete and in
/// commit order. Every seq sent is recorded (``SeqRanges``) and never sent twice. A RESUME for a room holds back
/// that room's live events, reads what followed the client's `last_seq`, sends what was not sent yet, then
/// `RESUMED`, then the held-back events, skipping any the replay carried; a live copy of a replayed message that
/// arrives even later (its commit was visible to the read before the hub delivered it) is skipped too.
final class RealtimeSession: WebSocketHandler, RealtimeSubscriber, @unchecked Sendable {
    let connectionID: UInt64
    let userID: Int64
    let lane: any RealtimeLane
    /// The session of the token the connection last authenticated with (``authenticate(_:)`` may move it to
    /// another session of the same user); lane-confined.
    private var sessionID: String
    private let context: RealtimeContext
    private let logger = Logger("realtime")

    // Loop-confined.
    private var socket: WebSocket?
    private var expiresAt: Int64
    private var expiryAnnounced = false
    private var ready = false
    private var closed = false
    /// Requests that arrived before the subscription was in place.
    private var waiting: [WebSocketMessage] = []
    private var budget: TokenBucket
    /// Messages refused in a row by the budget; past another burst's worth, the connection is closed (1008).
    private var refusals = 0
    /// What the connection knows of each room, in one dictionary: one lookup per delivery.
    private var rooms: [Int64: RoomState] = [:]

    private struct RoomState {
        /// The room's newest seq when the connection read its rooms: older messages are not sent live.
        var floor: Int64 = 0
        /// The seqs sent on this connection (or acknowledged to it).
        var sent = SeqRanges()
        /// While a RESUME of the room is read: the live events held back meanwhile.
        var held: [RealtimeDelivery]?
    }

    /// What `deliver` does with a room's event.
    private enum Disposition {
        case send, skip, held, overflow
    }

    /// Live events held back per resuming room before the connection counts as too slow (1013).
    static let maxHeldBack = 10_000
    /// The application close code (RFC 6455 §7.4.2: 4000–4999 are private) for a token that expired.
    static let tokenExpiredCloseCode: UInt16 = 4001
    /// Rooms one RESUME may name.
    static let maxResumeRooms = 1_000

    init(principal: Principal, context: RealtimeContext, lane: any RealtimeLane) {
        connectionID = context.connectionIDs.make()
        userID = principal.userID
        sessionID = principal.sessionID
        expiresAt = principal.expiresAt
        self.context = context
        self.lane = lane
        budget = TokenBucket(
            perSecond: context.settings.messagesPerSecond, burst: context.settings.messagesBurst,
            now: MonotonicClock.milliseconds())
    }

    private var now: Int64 { AccountService.systemClock() }

    // MARK: WebSocketHandler

    func opened(_ socket: WebSocket) {
        self.socket = socket
        let session = sessionID
        context.hub.connect(self) { [self] generation in subscribe(generation: generation, sessionID: session) }
        scheduleExpiryCheck()
    }

    func received(_ message: WebSocketMessage, on socket: WebSocket) {
        guard admit(message) else { return }
        guard ready else {
            waiting.append(message)
            return
        }
        handle(message)
    }

    func closed(_ socket: WebSocket, code: UInt16?) {
        closed = true
        waiting = []
        rooms = [:]
        context.hub.disconnect(self)
    }

    // MARK: Subscription

    /// Reads the user's rooms and subscribes to them; again if a membership changed meanwhile.
    private func subscribe(generation: UInt64, sessionID: String) {
        Task { [self] in
            do {
                // Registered with the hub now, so a revocation from here on arrives as an event; one that came
                // between the upgrade's check and the registration is seen here.
                guard await context.accounts.isSessionActive(userID: userID, sessionID: sessionID) else {
                    lane.execute { self.endRevoked() }
                    return
                }
                var generation = generation
                while true {
                    let rooms = try await context.rooms.roomSeqs(userID: userID)
                    if context.hub.subscribe(self, to: rooms.map(\.roomID), ifGeneration: generation) {
                        lane.execute { self.becameReady(rooms: rooms) }
                        return
                    }
                    guard let current = context.hub.generation(of: self) else { return }  // closed meanwhile
                    generation = current
                }
            } catch {
                logger.error("realtime subscription failed", ["user_id": String(userID), "error": "\(error)"])
                socket?.close(code: WebSocketCloseCode.internalError, reason: "try again later")
            }
        }
    }

    private func becameReady(rooms: [(roomID: Int64, lastSeq: Int64)]) {
        guard !closed else { return }
        ready = true
        for room in rooms { self.rooms[room.roomID, default: RoomState()].floor = room.lastSeq }
        send(
            "CONNECTED",
            ConnectedJSON(
                user_id: userID, session_id: sessionID, rooms: rooms.map(\.roomID).sorted(), expires_at: expiresAt))
        let early = waiting
        waiting = []
        for message in early where !closed { handle(message) }
    }

    // MARK: Delivery (from the hub, on the loop)

    func deliver(_ delivery: RealtimeDelivery) {
        guard !closed, let socket else { return }
        let disposition: Disposition
        switch delivery.kind {
        case .message(let roomID, let seq, let origin):
            let connectionID = self.connectionID
            disposition = Self.update(&rooms[roomID, default: RoomState()]) { room in
                if room.held != nil { return Self.hold(delivery, in: &room) }
                if seq <= room.floor || room.sent.contains(seq) { return .skip }
                room.sent.insert(seq)
                // The sender's own connection learns of its message from the ACK.
                return origin == connectionID ? .skip : .send
            }
        case .room(let roomID):
            disposition = Self.update(&rooms[roomID, default: RoomState()]) { room in
                room.held == nil ? .send : Self.hold(delivery, in: &room)
            }
        case .left(let roomID):
            // Out of the room: a later re-join starts afresh.
            rooms.removeValue(forKey: roomID)
            disposition = .send
        case .accessEnded(let sessionIDs):
            guard sessionIDs?.contains(sessionID) ?? true else { return }
            // The token still verifies until it expires, but its session is gone: nothing more goes out on it.
            endRevoked(frame: delivery.frame)
            return
        case .other:
            disposition = .send
        }
        switch disposition {
        case .send: socket.send(frame: delivery.frame)
        case .skip, .held: break
        case .overflow: socket.close(code: WebSocketCloseCode.tryAgainLater, reason: "too slow to resume")
        }
    }

    private static func update(_ room: inout RoomState, _ body: (inout RoomState) -> Disposition) -> Disposition {
        body(&room)
    }

    /// Holds back a live event of a room being resumed.
    private static func hold(_ delivery: RealtimeDelivery, in room: inout RoomState) -> Disposition {
        var held = room.held ?? []
        guard held.count < maxHeldBack else { return .overflow }
        room.held = nil  // `held` is now the only reference: the append does not copy
        held.append(delivery)
        room.held = held
        return .held
    }

    // MARK: Requests

    /// Applies the per-connection budget: an over-budget message is refused with `rate_limited`; a client that
    /// keeps going for another burst is closed with 1008 (policy violation, RFC 6455 §7.4.1).
    private func admit(_ message: WebSocketMessage) -> Bool {
        if budget.take(now: MonotonicClock.milliseconds()) {
            refusals = 0
            return true
        }
        refusals += 1
        if refusals > context.settings.messagesBurst {
            socket?.close(code: WebSocketCloseCode.policyViolation, reason: "too many messages")
        } else {
            var ref: RequestID?
            if case .text(let text) = message { ref = RealtimeRequest.id(in: text) }
            sendError(ref: ref, code: "rate_limited", message: "Too many messages; slow down.")
        }
        return false
    }

    private func handle(_ message: WebSocketMessage) {
        guard case .text(let text) = message else {
            sendError(ref: nil, code: "invalid_message", message: "Messages are JSON in text frames.")
            return
        }
        let request: RealtimeRequest
        do {
            request = try RealtimeRequest(parsing: text)
        } catch {
            sendError(ref: RealtimeRequest.id(in: text), error)
            return
        }
        do {
            switch request.type {
            case "PING": send("PONG", RefJSON(ref: request.id))
            case "SEND_MESSAGE": try sendMessage(request)
            case "JOIN_ROOM": try join(request)
            case "LEAVE_ROOM": try leave(request)
            case "TYPING": try typing(request)
            case "READ_RECEIPT": try readReceipt(request)
            case "AUTH": try authenticate(request)
            case "RESUME": try resume(request)
            default:
                throw RealtimeRequest.Problem(
                    code: "unknown_type", message: "Unknown message type \"\(request.type.prefix(64))\".")
            }
        } catch {
            sendError(ref: request.id, error)
        }
    }

    private func sendMessage(_ request: RealtimeRequest) throws(RealtimeRequest.Problem) {
        let data = try request.decodeData(SendMessageData.self)
        try RealtimeRequest.require(["chat_room_id": data.chat_room_id, "content": data.content])
        let roomID = data.chat_room_id ?? 0
        perform(request) { [self] in
            let (message, duplicate) = try await context.messages.send(
                roomID: roomID, senderID: userID, content: data.content ?? "", mimeType: data.mime_type,
                clientMessageID: data.client_msg_id, replyTo: data.reply_to, attachments: data.attachments ?? [],
                origin: connectionID)
            send(
                "ACK",
                AckJSON(
                    ref: request.id, chat_room_id: roomID, client_msg_id: message.clientMessageID,
                    message_id: message.id, seq: message.seq, duplicate: duplicate))
        }
    }

    private func join(_ request: RealtimeRequest) throws(RealtimeRequest.Problem) {
        let roomID = try Self.roomID(request)
        guard let viewers = context.hub.view(self, roomID: roomID) else { throw Self.roomNotFound }
        perform(request) { [self] in
            let lastSeq = try await context.messages.lastSeq(roomID: roomID, userID: userID)
            send("JOIN_SUCCESS", RoomReplyJSON(ref: request.id, chat_room_id: roomID, last_seq: lastSeq))
            send("USERS", UsersJSON(chat_room_id: roomID, users: viewers))
        }
    }

    private func leave(_ request: RealtimeRequest) throws(RealtimeRequest.Problem) {
        let roomID = try Self.roomID(request)
        context.hub.unview(self, roomID: roomID)
        send("LEAVE_SUCCESS", RoomReplyJSON(ref: request.id, chat_room_id: roomID, last_seq: nil))
    }

    private func typing(_ request: RealtimeRequest) throws(RealtimeRequest.Problem) {
        let data = try request.decodeData(TypingData.self)
        try RealtimeRequest.require(["chat_room_id": data.chat_room_id, "is_typing": data.is_typing])
        guard context.hub.typing(self, roomID: data.chat_room_id ?? 0, isTyping: data.is_typing ?? false) else {
            throw Self.roomNotFound
        }
    }

    private func readReceipt(_ request: RealtimeRequest) throws(RealtimeRequest.Problem) {
        let data = try request.decodeData(ReadReceiptData.self)
        try RealtimeRequest.require(["chat_room_id": data.chat_room_id, "seq": data.seq])
        let roomID = data.chat_room_id ?? 0
        let seq = data.seq ?? 0
        guard seq >= 0 else {
            throw RealtimeRequest.Problem(
                code: "validation_failed", message: "seq must be 0 or more.", fields: ["seq": "must be 0 or more"])
        }
        // Everyone in the room, this connection included, hears the new position as READ_RECEIPT.
        perform(request) { [self] in
            _ = try await context.messages.markRead(roomID: roomID, userID: userID, seq: seq)
        }
    }

    /// A fresh access token of the same user extends the connection past the old token's expiry.
    private func authenticate(_ request: RealtimeRequest) throws(RealtimeRequest.Problem) {
        let data = try request.decodeData(AuthData.self)
        try RealtimeRequest.require(["token": data.token])
        let token = data.token ?? ""
        Task { [self] in
            do throws(AccountError) {
                let principal = try await context.accounts.authenticate(token)
                guard principal.userID == userID else {
                    sendError(
                        ref: request.id, code: "forbidden", message: "The token belongs to another user.")
                    return
                }
                lane.execute {
                    self.expiresAt = principal.expiresAt
                    self.expiryAnnounced = false
                    let switched = self.sessionID != principal.sessionID
                    self.sessionID = principal.sessionID
                    // A revocation of the new session delivered before this switch was ignored: check once more.
                    guard switched else { return }
                    Task { [self] in
                        if await !context.accounts.isSessionActive(userID: userID, sessionID: principal.sessionID) {
                            lane.execute { self.endRevoked() }
                        }
                    }
                }
                send("AUTH_SUCCESS", AuthSuccessJSON(ref: request.id, expires_at: principal.expiresAt))
            } catch {
                let answer = error.httpError
                sendError(ref: request.id, code: answer.code, message: answer.message)
            }
        }
    }

    private func resume(_ request: RealtimeRequest) throws(RealtimeRequest.Problem) {
        let data = try request.decodeData(ResumeData.self)
        try RealtimeRequest.require(["rooms": data.rooms])
        var rooms: [(roomID: Int64, lastSeq: Int64)] = []
        for (key, lastSeq) in data.rooms ?? [:] {
            guard let roomID = Int64(key), roomID > 0, lastSeq >= 0 else {
                throw RealtimeRequest.Problem(
                    code: "validation_failed", message: "rooms maps room ids to the last seq seen (0 or more).",
                    fields: ["rooms.\(key.prefix(32))": "must be a room id with a seq of 0 or more"])
            }
            rooms.append((roomID, lastSeq))
        }
        guard rooms.count <= Self.maxResumeRooms else {
            throw RealtimeRequest.Problem(
                code: "validation_failed", message: "At most \(Self.maxResumeRooms) rooms per RESUME.",
                fields: ["rooms": "at most \(Self.maxResumeRooms) rooms"])
        }
        for (roomID, lastSeq) in rooms.sorted(by: { $0.roomID < $1.roomID }) {
            guard context.hub.isSubscribed(self, to: roomID), self.rooms[roomID]?.held == nil else {
                sendError(ref: request.id, Self.roomNotFound)
                continue
            }
            self.rooms[roomID, default: RoomState()].held = []
            let limit = context.settings.resumeMax
            Task { [self] in
                do {
                    let replay = try await context.messages.replay(
                        roomID: roomID, userID: userID, afterSeq: lastSeq, limit: limit)
                    lane.execute {
                        self.finishResume(
                            roomID: roomID, lastSeq: lastSeq, replay: replay.messages, complete: replay.complete,
                            ref: request.id)
                    }
                } catch {
                    lane.execute {
                        self.finishResume(
                            roomID: roomID, lastSeq: lastSeq, replay: [], complete: false, ref: request.id)
                    }
                    sendError(ref: request.id, error)
                }
            }
        }
    }

    /// Sends the replayed messages this connection has not delivered live, then `RESUMED`, then the live events
    /// held back meanwhile that the replay did not carry.
    private func finishResume(roomID: Int64, lastSeq: Int64, replay: [Message], complete: Bool, ref: RequestID?) {
        guard !closed, let socket, let held = rooms[roomID]?.held else { return }
        rooms[roomID]?.held = nil
        var top = lastSeq
        for message in replay {
            top = max(top, message.seq)
            if rooms[roomID]?.sent.contains(message.seq) == true { continue }
            rooms[roomID, default: RoomState()].sent.insert(message.seq)
            socket.send(
                frame: RealtimeEnvelope.frame(
                    "NEW_MESSAGE", senderID: message.senderID, data: RealtimeMessageJSON(message: message), now: now))
        }
        send(
            "RESUMED",
            ResumedJSON(ref: ref, chat_room_id: roomID, from_seq: lastSeq + 1, to_seq: top, complete: complete))
        // Held-back messages the replay carried are skipped by `deliver`, which checks `sent`.
        for delivery in held { deliver(delivery) }
    }

    // MARK: Token expiry

    /// Checks the token's expiry when it is due: the first time past it, `ERROR token_expired`; after
    /// `auth_grace` more without a fresh `AUTH`, close with 4001.
    private func scheduleExpiryCheck(after delay: Int64? = nil) {
        guard let socket else { return }
        let wait = delay ?? max(expiresAt - now, 0) + 1
        socket.eventLoop.schedule(afterMilliseconds: wait) { [self] in checkExpiry() }
    }

    private func checkExpiry() {
        guard !closed else { return }
        if now < expiresAt {
            scheduleExpiryCheck()
        } else if !expiryAnnounced {
            expiryAnnounced = true
            sendError(
                ref: nil, code: "token_expired",
                message: "The access token expired; send AUTH with a fresh one to stay connected.")
            scheduleExpiryCheck(after: max(context.settings.authGrace.milliseconds, 1))
        } else {
            socket?.close(code: RealtimeSession.tokenExpiredCloseCode, reason: "token expired")
        }
    }

    // MARK: Answers

    /// Runs a request that needs the services; its failure becomes an `ERROR` with the request's `ref`.
    private func perform(_ request: RealtimeRequest, _ body: @escaping @Sendable () async throws -> Void) {
        let ref = request.id
        Task { [self] in
            do {
                try await body()
            } catch {
                sendError(ref: ref, error)
            }
        }
    }

    private func send(_ type: String, _ data: some Encodable) {
        socket?.send(frame: RealtimeEnvelope.frame(type, data: data, now: now))
    }

    /// Closes a connection whose session ended (on the lane): `ERROR session_revoked`, from the hub's event
    /// (`frame`, encoded once for every recipient) or encoded here, then 4001.
    private func endRevoked(frame: [UInt8]? = nil) {
        guard !closed, let socket else { return }
        socket.send(frame: frame ?? RealtimeEnvelope.frame("ERROR", data: ErrorJSON.sessionRevoked, now: now))
        socket.close(code: RealtimeSession.tokenExpiredCloseCode, reason: "session revoked")
    }

    private func sendError(ref: RequestID?, code: String, message: String, fields: [String: String]? = nil) {
        send("ERROR", ErrorJSON(ref: ref, code: code, message: message, fields: fields))
    }

    private func sendError(ref: RequestID?, _ error: any Error) {
        switch error {
        case let problem as RealtimeRequest.Problem:
            sendError(ref: ref, code: problem.code, message: problem.message, fields: problem.fields)
        case let error as ChatError:
            let answer = error.httpError
            sendError(
                ref: ref, code: answer.code, message: answer.message,
                fields: answer.fields.isEmpty ? nil : answer.fields)
        default:
            logger.error("realtime request failed", ["error": "\(error)"])
            sendError(ref: ref, code: "unavailable", message: "The server could not do that now; try again.")
        }
    }

    private static let roomNotFound = RealtimeRequest.Problem(
        code: "not_found", message: "No such room, or you are not a member.")

    private static func roomID(_ request: RealtimeRequest) throws(RealtimeRequest.Problem) -> Int64 {
        let data = try request.decodeData(RoomData.self)
        try RealtimeRequest.require(["chat_room_id": data.chat_room_id])
        return data.chat_room_id ?? 0
    }
}
