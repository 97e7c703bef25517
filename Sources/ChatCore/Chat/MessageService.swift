import Logging
import Storage

/// Messages of rooms: sending (idempotent, gap-free seqs), history, edits, deletions, reactions, read
/// positions, unread counts and full-text search.
///
/// **Access.** Every room operation first asks ``RoomAccess`` (cached) whether the caller is a member; a
/// non-member, or an unknown room, gets ``ChatError/notFound`` whatever the operation. Writes check
/// membership again inside their writer job where it matters (sending), so a member removed a moment ago
/// cannot slip a message in.
///
/// **Atomicity.** Each change is one writer job: sending checks the idempotency key and the reply, takes
/// the room's next seq, inserts, indexes (trigger) and moves the sender's read position in one savepoint,
/// so a failure leaves no gap in the seqs. Reads run on the reader pool, one snapshot each.
///
/// **Reactions** are per viewer (`me`), so every method that returns messages takes the viewer and reads
/// the reactions of the whole page in one query.
public final class MessageService: Sendable {
    public let policy: ChatPolicy
    let writer: DatabaseWriter
    let readers: DatabaseReaderPool
    let access: RoomAccess
    /// Where committed changes are announced (``RealtimeEvent``).
    let events: any PubSub
    /// Signs attachments' delivery URLs.
    let links: AttachmentLinks
    let attachmentStore = MessageAttachmentStore()

    /// Most attachments on one message.
    public static let maxAttachments = 10
    /// Unix milliseconds; injectable so tests control time.
    let clock: @Sendable () -> Int64
    let store = MessageStore()
    let logger = Logger("messages")

    /// History page size when the client gives none.
    public static let defaultHistoryLimit = 50

    /// - Parameters:
    ///   - events: told of every committed change (new, edited and deleted messages, reactions, read
    ///     positions); a ``LocalPubSub`` nobody listens to by default.
    ///   - clock: the current time in unix milliseconds; the system clock by default.
    public init(
        writer: DatabaseWriter, readers: DatabaseReaderPool, access: RoomAccess, policy: ChatPolicy = ChatPolicy(),
        events: any PubSub = LocalPubSub(), links: AttachmentLinks = .none,
        clock: @escaping @Sendable () -> Int64 = AccountService.systemClock
    ) {
        self.writer = writer
        self.readers = readers
        self.access = access
        self.events = events
        self.links = links
        self.policy = policy
        self.clock = clock
    }

    // MARK: Sending

    /// Sends a user message and returns it with `duplicate` false; or, when this sender already used
    /// `clientMessageID` in this room, returns the original message with `duplicate` true and writes nothing.
    /// A new message is published as ``RealtimeEvent/messageCreated(_:origin:)`` with `origin`: the WebSocket
    /// connection that sent it, if any.
    ///
    /// Errors: ``ChatError/notFound`` (not a member), ``ChatError/validation(_:)`` (`content`, `mime_type`,
    /// `client_msg_id`, `reply_to`, `attachments`), ``ChatError/notAllowed`` (a direct room where either side
    /// blocked the other).
    public func send(
        roomID: Int64, senderID: Int64, content: String, mimeType: String? = nil, clientMessageID: String? = nil,
        replyTo: Int64? = nil, attachments: [String] = [], origin: UInt64? = nil
    ) async throws(ChatError) -> (message: Message, duplicate: Bool) {
        let membership = try await member(roomID: roomID, userID: senderID)
        var fields: [String: String] = [:]
        fields["content"] = MessageValidation.contentError(content, maxBytes: policy.maxMessageBytes)
        let canonicalMIMEType = MessageValidation.canonicalMIMEType(mimeType)
        if canonicalMIMEType == nil {
            fields["mime_type"] = "must be one of \(MessageValidation.mimeTypes.joined(separator: ", "))"
        }
        if let clientMessageID {
            fields["client_msg_id"] = MessageValidation.clientMessageIDError(clientMessageID)
        }
        if let replyTo, replyTo <= 0 {
            fields["reply_to"] = Self.replyToProblem
        }
        if attachments.count > Self.maxAttachments {
            fields["attachments"] = "at most \(Self.maxAttachments) uploads"
        } else if attachments.contains(where: { $0.isEmpty || $0.utf8.count > 255 }) {
            fields["attachments"] = "must be public ids of your uploads"
        }
        guard fields.isEmpty, let canonicalMIMEType else { throw .validation(fields) }
        try await checkNotBlocked(membership)

        let message = NewMessageRecord(
            roomID: roomID, senderID: senderID, content: content, mimeType: canonicalMIMEType,
            clientMessageID: clientMessageID, replyTo: replyTo, createdAt: clock())
        return try await publishingWrite { [store, attachmentStore, links] db, outbox in
            if let key = message.clientMessageID,
                let original = try store.message(roomID: roomID, senderID: senderID, clientMessageID: key, db)
            {
                return (try Self.messages([original], viewerID: senderID, store: store, links: links, db)[0], true)
            }
            if let replyTo, try store.message(id: replyTo, roomID: roomID, db) == nil {
                throw ChatError.validation(["reply_to": Self.replyToProblem])
            }
            let appended = try store.appendUserMessage(message, db)
            guard
                try attachmentStore.attach(
                    messageID: appended.message.id, publicIDs: attachments, ownerUserID: senderID, db)
            else {
                // Thrown inside the job's savepoint: the message and its seq are rolled back with it.
                throw ChatError.validation(["attachments": "must be public ids of your uploads"])
            }
            // A new message has no reactions yet: no need to read them.
            let sent = Message(
                appended.message,
                attachments: try attachmentStore.attachments(messageIDs: [appended.message.id], db).map(
                    links.attachment))
            if !appended.duplicate { outbox.post(.messageCreated(sent, origin: origin)) }
            return (sent, appended.duplicate)
        }
    }

    static let replyToProblem = "must be the id of a message in this room"

    /// In a direct room where either side blocked the other, nothing can be sent (reading still works).
    private func checkNotBlocked(_ membership: Membership) async throws(ChatError) {
        guard membership.kind == .direct,
            let peer = try await access.directPeer(roomID: membership.roomID, userID: membership.userID)
        else { return }
        if try await access.isBlockedEitherWay(membership.userID, peer) {
            throw .notAllowed
        }
    }

    // MARK: History

    /// A page of a room's timeline, system messages and tombstones included. No anchor: the newest
    /// messages, newest first. `beforeSeq`: seqs below it, newest first. `afterSeq`: seqs above it, oldest
    /// first. `limit` is clamped to 1...`policy.historyPageMax`. `hasMore` tells whether the next page in
    /// the same direction has messages (now; more may arrive later).
    ///
    /// Errors: ``ChatError/notFound`` (not a member), ``ChatError/validation(_:)`` (both anchors given).
    public func history(
        roomID: Int64, userID: Int64, beforeSeq: Int64? = nil, afterSeq: Int64? = nil,
        limit: Int = MessageService.defaultHistoryLimit
    ) async throws(ChatError) -> (messages: [Message], hasMore: Bool) {
        _ = try await member(roomID: roomID, userID: userID)
        let anchor: MessageStore.HistoryAnchor
        switch (beforeSeq, afterSeq) {
        case (nil, nil): anchor = .newest
        case (let before?, nil): anchor = .before(before)
        case (nil, let after?): anchor = .after(after)
        case (.some, .some): throw .validation(["before_seq": "cannot be combined with after_seq"])
        }
        let pageSize = min(max(limit, 1), max(policy.historyPageMax, 1))
        return try await read { [store, links] db in
            // One row more than the page tells whether another page follows.
            let records = try store.history(roomID: roomID, from: anchor, limit: pageSize + 1, db)
            let page = Array(records.prefix(pageSize))
            return (try Self.messages(page, viewerID: userID, store: store, links: links, db), records.count > pageSize)
        }
    }

    /// The newest message of each room (by room id) that `userID` is a member of, for the room list:
    /// two queries (messages, then their reactions) whatever the number of rooms.
    public func lastMessages(roomIDs: [Int64], userID: Int64) async throws(ChatError) -> [Int64: Message] {
        try await read { [self] db in try lastMessages(roomIDs: roomIDs, userID: userID, db) }
    }

    /// ``lastMessages(roomIDs:userID:)`` inside a read (or write) job the caller already runs, so that the
    /// rooms and their last messages come from one snapshot.
    public func lastMessages(roomIDs: [Int64], userID: Int64, _ db: Database) throws -> [Int64: Message] {
        let records = try store.lastMessages(roomIDs: roomIDs, userID: userID, db)
        let messages = try Self.messages(Array(records.values), viewerID: userID, store: store, links: links, db)
        var byRoom: [Int64: Message] = [:]
        for message in messages {
            byRoom[message.roomID] = message
        }
        return byRoom
    }

    // MARK: Editing and deleting

    /// Replaces the text of the caller's own message and sets `editedAt`; search re-indexes it.
    ///
    /// Errors: ``ChatError/notFound`` (not a member; no such message in the room; deleted),
    /// ``ChatError/forbidden`` (someone else's message, or a system message),
    /// ``ChatError/validation(_:)`` (`content`).
    public func edit(roomID: Int64, messageID: Int64, userID: Int64, content: String) async throws(ChatError)
        -> Message
    {
        // Editing is writing: in a direct room with a block either way it is refused like sending.
        try await checkNotBlocked(try await member(roomID: roomID, userID: userID))
        if let problem = MessageValidation.contentError(content, maxBytes: policy.maxMessageBytes) {
            throw .validation(["content": problem])
        }
        let now = clock()
        return try await publishingWrite { [store, links] db, outbox in
            let record = try Self.liveMessage(id: messageID, roomID: roomID, store: store, db)
            guard record.kind == .user, record.senderID == userID else { throw ChatError.forbidden }
            guard let edited = try store.editMessage(id: messageID, content: content, now: now, db) else {
                throw ChatError.notFound
            }
            let message = try Self.messages([edited], viewerID: userID, store: store, links: links, db)[0]
            outbox.post(.messageUpdated(message.withoutViewer))
            return message
        }
    }

    /// Deletes a message, leaving a tombstone with the same id and seq (see ``Message``), and returns it.
    /// The sender may delete their message; so may the room's owner and admins. Deleting a tombstone again
    /// returns it unchanged.
    ///
    /// Errors: ``ChatError/notFound`` (not a member; no such message in the room),
    /// ``ChatError/forbidden`` (someone else's message without the role; a system message).
    @discardableResult
    public func delete(roomID: Int64, messageID: Int64, userID: Int64) async throws(ChatError) -> Message {
        let membership = try await member(roomID: roomID, userID: userID)
        let now = clock()
        return try await publishingWrite { [store] db, outbox in
            guard let record = try store.message(id: messageID, roomID: roomID, db) else {
                throw ChatError.notFound
            }
            guard record.kind == .user, record.senderID == userID || membership.role.canManage else {
                throw ChatError.forbidden
            }
            guard !record.isDeleted else { return Message(record) }
            guard let tombstone = try store.deleteMessage(id: messageID, now: now, db) else {
                throw ChatError.notFound
            }
            outbox.post(.messageDeleted(roomID: roomID, messageID: messageID, seq: tombstone.seq, actorID: userID))
            return Message(tombstone)
        }
    }

    // MARK: Reactions

    /// Adds the caller's reaction (idempotent) and returns the message with its reactions.
    ///
    /// Errors: ``ChatError/notFound`` (not a member; no such message in the room; deleted),
    /// ``ChatError/validation(_:)`` (`emoji`: 1–32 bytes, no whitespace or control characters).
    public func react(roomID: Int64, messageID: Int64, userID: Int64, emoji: String) async throws(ChatError)
        -> Message
    {
        try await changeReaction(roomID: roomID, messageID: messageID, userID: userID, emoji: emoji, adding: true)
    }

    /// Removes the caller's reaction (idempotent) and returns the message with its reactions. Errors as
    /// ``react(roomID:messageID:userID:emoji:)``.
    public func unreact(roomID: Int64, messageID: Int64, userID: Int64, emoji: String) async throws(ChatError)
        -> Message
    {
        try await changeReaction(roomID: roomID, messageID: messageID, userID: userID, emoji: emoji, adding: false)
    }

    private func changeReaction(
        roomID: Int64, messageID: Int64, userID: Int64, emoji: String, adding: Bool
    ) async throws(ChatError) -> Message {
        try await checkNotBlocked(try await member(roomID: roomID, userID: userID))
        if let problem = MessageValidation.emojiError(emoji) {
            throw .validation(["emoji": problem])
        }
        let now = clock()
        return try await publishingWrite { [store, links] db, outbox in
            let record = try Self.liveMessage(id: messageID, roomID: roomID, store: store, db)
            let changed =
                adding
                ? try store.addReaction(messageID: messageID, userID: userID, emoji: emoji, now: now, db)
                : try store.removeReaction(messageID: messageID, userID: userID, emoji: emoji, db)
            let message = try Self.messages([record], viewerID: userID, store: store, links: links, db)[0]
            if changed {
                outbox.post(
                    .reactionChanged(
                        ReactionChange(
                            roomID: roomID, messageID: messageID, userID: userID, emoji: emoji, added: adding,
                            reactions: message.withoutViewer.reactions)))
            }
            return message
        }
    }

    // MARK: Shared steps

    /// The caller's membership of the room; ``ChatError/notFound`` for a non-member or an unknown room.
    func member(roomID: Int64, userID: Int64) async throws(ChatError) -> Membership {
        guard let membership = try await access.membership(roomID: roomID, userID: userID) else {
            throw .notFound
        }
        return membership
    }

    /// A message of the room that is not deleted, else ``ChatError/notFound``.
    static func liveMessage(id: Int64, roomID: Int64, store: MessageStore, _ db: Database) throws -> MessageRecord {
        guard let record = try store.message(id: id, roomID: roomID, db), !record.isDeleted else {
            throw ChatError.notFound
        }
        return record
    }

    /// Domain messages for `records`, with the reactions of all of them read in one query, and their
    /// attachments in another.
    static func messages(
        _ records: [MessageRecord], viewerID: Int64, store: MessageStore, links: AttachmentLinks, _ db: Database
    ) throws -> [Message] {
        let ids = records.filter { !$0.isDeleted }.map(\.id)
        var reactions: [Int64: [ReactionSummary]] = [:]
        for count in try store.reactionCounts(messageIDs: ids, viewerID: viewerID, db) {
            reactions[count.messageID, default: []].append(
                ReactionSummary(emoji: count.emoji, count: count.count, me: count.includesViewer))
        }
        var attachments: [Int64: [MessageAttachment]] = [:]
        for record in try MessageAttachmentStore().attachments(messageIDs: ids, db) {
            attachments[record.messageID, default: []].append(links.attachment(record))
        }
        return records.map { Message($0, reactions: reactions[$0.id] ?? [], attachments: attachments[$0.id] ?? []) }
    }

    // MARK: Database access with error mapping

    /// A write whose job posts the events of its change, published once it committed (``RealtimeWrite``).
    func publishingWrite<T: Sendable>(
        _ job: @escaping @Sendable (Database, RealtimeWrite.Outbox) throws -> T
    ) async throws(ChatError) -> T {
        do {
            return try await RealtimeWrite(writer: writer, events: events)(job)
        } catch {
            throw map(error)
        }
    }

    func read<T: Sendable>(_ job: @escaping @Sendable (Database) throws -> T) async throws(ChatError) -> T {
        do {
            return try await readers.read(job)
        } catch {
            throw map(error)
        }
    }

    /// Domain errors pass through; a room that vanished, or a membership that ended, between the access
    /// check and the job is ``ChatError/notFound``; anything else is logged and becomes
    /// ``ChatError/unavailable(_:)``.
    private func map(_ error: any Error) -> ChatError {
        switch error {
        case let error as ChatError: return error
        case MessageStoreError.notMember, MessageStoreError.roomNotFound: return .notFound
        default:
            logger.error("database failed", ["error": "\(error)"])
            return .unavailable("database: \(error)")
        }
    }
}
