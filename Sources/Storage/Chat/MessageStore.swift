import CSQLite

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Every SQL statement about messages, reactions, read positions and message search (tables of migration
/// `0004_messages`, plus the `last_seq`/`last_activity_at` of `rooms` and `last_read_seq` of
/// `room_members` from `0003_rooms`).
///
/// Like ``AccountStore``, methods take the ``Database`` to run on, so several compose inside one
/// ``DatabaseWriter`` job (one savepoint: atomic) or one ``DatabaseReaderPool`` read (one snapshot). The store
/// checks no permissions beyond what a statement needs to stay consistent; callers do.
///
/// **Sequence numbers.** Appending takes `rooms.last_seq + 1` with `UPDATE … RETURNING` in the caller's
/// transaction. With a single writer, no two appends interleave; if the job fails later, its savepoint
/// rolls the increment back with the row, so seqs stay gap-free.
///
/// **Full-text index.** Triggers of the migration keep `messages_fts` in step with inserts, edits,
/// deletions and room deletions; nothing here writes it directly.
public struct MessageStore: Sendable {
    public init() {}

    /// Marks around the matched words in ``MessageSearchHit/snippet``: private-use characters, which
    /// ordinary text does not contain, so the caller can escape the text and then turn them into markup.
    public static let snippetOpen: Unicode.Scalar = "\u{E000}"
    public static let snippetClose: Unicode.Scalar = "\u{E001}"

    static func columns(_ alias: String = "") -> String {
        let prefix = alias.isEmpty ? "" : alias + "."
        return [
            "id", "room_id", "seq", "sender_id", "kind", "content", "mime_type", "client_msg_id", "reply_to",
            "event_json", "created_at", "edited_at", "deleted_at",
        ].map { prefix + $0 }.joined(separator: ", ")
    }

    // MARK: Appending

    /// Appends a system message (member added, room renamed, ...) with the room's next seq, and moves the
    /// room's activity time. The actor, if still a member, has read it: their read position moves to it,
    /// as it does for a sender. Meant to run inside the caller's writer job, next to the change it records.
    ///
    /// Throws ``MessageStoreError/roomNotFound`` if the room does not exist.
    @discardableResult
    public func appendSystemMessage(
        roomID: Int64, event: SystemEventRecord, content: String, now: Int64, _ db: Database
    ) throws -> MessageRecord {
        guard let seq = try nextSeq(roomID: roomID, now: now, requiringMember: nil, db) else {
            throw MessageStoreError.roomNotFound
        }
        var record = MessageRecord(
            id: 0, roomID: roomID, seq: seq, senderID: nil, kind: .system, content: content, mimeType: "text/plain",
            event: event, createdAt: now)
        record.id = try insert(record, eventJSON: Self.encode(event), db)
        if let actorID = event.actorID {
            try advanceReadPosition(roomID: roomID, userID: actorID, to: seq, db)
        }
        return record
    }

    /// Appends a user message with the room's next seq, moves the room's activity time, and moves the
    /// sender's read position to the new seq (their own message is never unread).
    ///
    /// With a `clientMessageID` already used by this sender in this room, nothing is written and the
    /// original comes back with `duplicate` true. Throws ``MessageStoreError/notMember`` if the room does
    /// not exist or the sender is not a member of it (checked here, in the writer's transaction, so a member
    /// removed a moment ago cannot slip a message in).
    public func appendUserMessage(
        _ message: NewMessageRecord, _ db: Database
    ) throws -> (message: MessageRecord, duplicate: Bool) {
        if let key = message.clientMessageID,
            let original = try self.message(
                roomID: message.roomID, senderID: message.senderID, clientMessageID: key, db)
        {
            return (original, true)
        }
        guard
            let seq = try nextSeq(
                roomID: message.roomID, now: message.createdAt, requiringMember: message.senderID, db)
        else {
            throw MessageStoreError.notMember
        }
        var record = MessageRecord(
            id: 0, roomID: message.roomID, seq: seq, senderID: message.senderID, kind: .user,
            content: message.content, mimeType: message.mimeType, clientMessageID: message.clientMessageID,
            replyTo: message.replyTo, createdAt: message.createdAt)
        record.id = try insert(record, eventJSON: nil, db)
        try advanceReadPosition(roomID: message.roomID, userID: message.senderID, to: seq, db)
        return (record, false)
    }

    /// Takes the room's next seq and moves its activity time (never backwards, should the clock be);
    /// nil if the room does not exist or, with `requiringMember`, that user is not a member.
    private func nextSeq(roomID: Int64, now: Int64, requiringMember userID: Int64?, _ db: Database) throws -> Int64? {
        let row = try db.queryOne(
            """
            UPDATE rooms SET last_seq = last_seq + 1, last_activity_at = max(last_activity_at, ?2)
            WHERE id = ?1
              AND (?3 IS NULL OR EXISTS (SELECT 1 FROM room_members WHERE room_id = ?1 AND user_id = ?3))
            RETURNING last_seq
            """, [.integer(roomID), .integer(now), DatabaseValue(userID)])
        return try row.map { try RowReader(row: $0, table: "rooms", corruptRow: MessageStoreError.corrupt).integer(0) }
    }

    private func insert(_ record: MessageRecord, eventJSON: String?, _ db: Database) throws -> Int64 {
        let row = try db.queryOne(
            """
            INSERT INTO messages (room_id, seq, sender_id, kind, content, mime_type, client_msg_id, reply_to,
                                  event_json, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            RETURNING id
            """,
            [
                .integer(record.roomID), .integer(record.seq), DatabaseValue(record.senderID),
                .text(record.kind.rawValue), .text(record.content), .text(record.mimeType),
                DatabaseValue(record.clientMessageID), DatabaseValue(record.replyTo), DatabaseValue(eventJSON),
                .integer(record.createdAt),
            ])
        guard let row else {
            throw DatabaseError(extendedResultCode: SQLITE_ERROR, message: "INSERT … RETURNING returned no row")
        }
        return try RowReader(row: row, table: "messages", corruptRow: MessageStoreError.corrupt).integer(0)
    }

    /// Moves a member's read position forward to `seq`; never backwards. No-op for a non-member.
    private func advanceReadPosition(roomID: Int64, userID: Int64, to seq: Int64, _ db: Database) throws {
        try db.run(
            "UPDATE room_members SET last_read_seq = ?3 WHERE room_id = ?1 AND user_id = ?2 AND last_read_seq < ?3",
            [.integer(roomID), .integer(userID), .integer(seq)])
    }

    // MARK: Reading messages

    /// The message with this id in this room (tombstones and system messages included).
    public func message(id: Int64, roomID: Int64, _ db: Database) throws -> MessageRecord? {
        try db.queryOne(
            "SELECT \(Self.columns()) FROM messages WHERE id = ? AND room_id = ?", [.integer(id), .integer(roomID)]
        ).map(Self.decode)
    }

    /// The message a sender sent in a room with this idempotency key.
    public func message(
        roomID: Int64, senderID: Int64, clientMessageID: String, _ db: Database
    ) throws -> MessageRecord? {
        try db.queryOne(
            "SELECT \(Self.columns()) FROM messages WHERE room_id = ? AND sender_id = ? AND client_msg_id = ?",
            [.integer(roomID), .integer(senderID), .text(clientMessageID)]
        ).map(Self.decode)
    }

    /// Where a page of history starts.
    public enum HistoryAnchor: Sendable, Equatable {
        /// The newest messages, newest first.
        case newest
        /// Messages with a seq below this one, newest first.
        case before(Int64)
        /// Messages with a seq above this one, oldest first.
        case after(Int64)
    }

    /// Up to `limit` messages of a room from `anchor`, read on the `(room_id, seq)` index. Seqs never change,
    /// so paging by them neither skips nor repeats messages while new ones arrive.
    public func history(roomID: Int64, from anchor: HistoryAnchor, limit: Int, _ db: Database) throws
        -> [MessageRecord]
    {
        let limitValue = DatabaseValue.integer(Int64(max(0, limit)))
        let rows: [Row]
        switch anchor {
        case .newest:
            rows = try db.query(
                "SELECT \(Self.columns()) FROM messages WHERE room_id = ? ORDER BY seq DESC LIMIT ?",
                [.integer(roomID), limitValue])
        case .before(let seq):
            rows = try db.query(
                "SELECT \(Self.columns()) FROM messages WHERE room_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
                [.integer(roomID), .integer(seq), limitValue])
        case .after(let seq):
            rows = try db.query(
                "SELECT \(Self.columns()) FROM messages WHERE room_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?",
                [.integer(roomID), .integer(seq), limitValue])
        }
        return try rows.map(Self.decode)
    }

    /// The newest message of each of the rooms that `userID` is a member of, by room id, in one query:
    /// the message whose seq is the room's `last_seq`. Rooms without messages, and rooms the user is not
    /// in, are absent.
    public func lastMessages(roomIDs: [Int64], userID: Int64, _ db: Database) throws -> [Int64: MessageRecord] {
        guard !roomIDs.isEmpty else { return [:] }
        // A JSON array keeps the SQL text fixed (one cached statement) whatever the number of rooms.
        let rows = try db.query(
            """
            SELECT \(Self.columns("m")) FROM rooms r
            JOIN room_members rm ON rm.room_id = r.id AND rm.user_id = ?2
            JOIN messages m ON m.room_id = r.id AND m.seq = r.last_seq
            WHERE r.id IN (SELECT value FROM json_each(?1))
            """, [.text(Self.jsonArray(roomIDs)), .integer(userID)])
        var result: [Int64: MessageRecord] = [:]
        for row in rows {
            let record = try Self.decode(row)
            result[record.roomID] = record
        }
        return result
    }

    // MARK: Editing and deleting

    /// Replaces the text of a live user message and sets `edited_at`; the search index follows (trigger).
    /// Nil if there is no such message, or it is deleted or a system message.
    public func editMessage(id: Int64, content: String, now: Int64, _ db: Database) throws -> MessageRecord? {
        try db.queryOne(
            """
            UPDATE messages SET content = ?2, edited_at = ?3
            WHERE id = ?1 AND kind = 'user' AND deleted_at IS NULL
            RETURNING \(Self.columns())
            """, [.integer(id), .text(content), .integer(now)]
        ).map(Self.decode)
    }

    /// Turns a message into a tombstone: empty content, `deleted_at` set, reactions gone, out of the search
    /// index; id, seq, sender and times stay. Nil if there is no such message or it is already deleted.
    public func deleteMessage(id: Int64, now: Int64, _ db: Database) throws -> MessageRecord? {
        let record = try db.queryOne(
            """
            UPDATE messages SET content = '', deleted_at = ?2
            WHERE id = ?1 AND deleted_at IS NULL
            RETURNING \(Self.columns())
            """, [.integer(id), .integer(now)]
        ).map(Self.decode)
        if record != nil {
            try db.run("DELETE FROM message_reactions WHERE message_id = ?", [.integer(id)])
        }
        return record
    }

    // MARK: Reactions

    /// Adds a user's reaction; returns false if it was already there.
    @discardableResult
    public func addReaction(messageID: Int64, userID: Int64, emoji: String, now: Int64, _ db: Database) throws
        -> Bool
    {
        try db.run(
            """
            INSERT INTO message_reactions (message_id, user_id, emoji, created_at) VALUES (?, ?, ?, ?)
            ON CONFLICT DO NOTHING
            """, [.integer(messageID), .integer(userID), .text(emoji), .integer(now)]) == 1
    }

    /// Removes a user's reaction; returns false if there was none.
    @discardableResult
    public func removeReaction(messageID: Int64, userID: Int64, emoji: String, _ db: Database) throws -> Bool {
        try db.run(
            "DELETE FROM message_reactions WHERE message_id = ? AND emoji = ? AND user_id = ?",
            [.integer(messageID), .text(emoji), .integer(userID)]) == 1
    }

    /// The reactions of several messages, counted per emoji, in one query: by message id, then in the
    /// order each emoji was first used on the message. `includesViewer` tells whether `viewerID` is among
    /// those who reacted.
    public func reactionCounts(messageIDs: [Int64], viewerID: Int64, _ db: Database) throws
        -> [ReactionCountRecord]
    {
        guard !messageIDs.isEmpty else { return [] }
        return try db.query(
            """
            SELECT message_id, emoji, count(*), max(user_id = ?2) FROM message_reactions
            WHERE message_id IN (SELECT value FROM json_each(?1))
            GROUP BY message_id, emoji
            ORDER BY message_id, min(created_at), emoji
            """, [.text(Self.jsonArray(messageIDs)), .integer(viewerID)]
        ).map { row in
            let reader = RowReader(row: row, table: "message_reactions", corruptRow: MessageStoreError.corrupt)
            return ReactionCountRecord(
                messageID: try reader.integer(0), emoji: try reader.text(1), count: Int(try reader.integer(2)),
                includesViewer: try reader.integer(3) != 0)
        }
    }

    // MARK: Read positions

    /// A member's read position with the room's newest seq; nil if not a member.
    public func readState(roomID: Int64, userID: Int64, _ db: Database) throws -> ReadStateRecord? {
        try db.queryOne(
            """
            SELECT rm.room_id, rm.user_id, rm.last_read_seq, r.last_seq FROM room_members rm
            JOIN rooms r ON r.id = rm.room_id
            WHERE rm.room_id = ? AND rm.user_id = ?
            """, [.integer(roomID), .integer(userID)]
        ).map(Self.decodeReadState)
    }

    /// Moves a member's read position forward to `seq`, clamped to the room's newest seq; never backwards.
    /// Returns the position after the change (unchanged if `seq` is not ahead of it), or nil if not a member.
    public func markRead(roomID: Int64, userID: Int64, seq: Int64, _ db: Database) throws -> ReadStateRecord? {
        try db.run(
            """
            UPDATE room_members SET last_read_seq = min(?3, (SELECT last_seq FROM rooms WHERE id = ?1))
            WHERE room_id = ?1 AND user_id = ?2
              AND last_read_seq < min(?3, (SELECT last_seq FROM rooms WHERE id = ?1))
            """, [.integer(roomID), .integer(userID), .integer(seq)])
        return try readState(roomID: roomID, userID: userID, db)
    }

    /// The read position of every member of a room, by user id.
    public func readStates(roomID: Int64, _ db: Database) throws -> [ReadStateRecord] {
        try db.query(
            """
            SELECT rm.room_id, rm.user_id, rm.last_read_seq, r.last_seq FROM room_members rm
            JOIN rooms r ON r.id = rm.room_id
            WHERE rm.room_id = ?
            ORDER BY rm.user_id
            """, [.integer(roomID)]
        ).map(Self.decodeReadState)
    }

    /// The read position of a user in each of their rooms, most recently active room first: one query over
    /// `room_members` and `rooms`, never over messages.
    public func readStates(userID: Int64, _ db: Database) throws -> [ReadStateRecord] {
        try db.query(
            """
            SELECT rm.room_id, rm.user_id, rm.last_read_seq, r.last_seq FROM room_members rm
            JOIN rooms r ON r.id = rm.room_id
            WHERE rm.user_id = ?
            ORDER BY r.last_activity_at DESC, r.id DESC
            """, [.integer(userID)]
        ).map(Self.decodeReadState)
    }

    static func decodeReadState(_ row: Row) throws -> ReadStateRecord {
        let reader = RowReader(row: row, table: "room_members", corruptRow: MessageStoreError.corrupt)
        return ReadStateRecord(
            roomID: try reader.integer(0), userID: try reader.integer(1), lastReadSeq: try reader.integer(2),
            lastSeq: try reader.integer(3))
    }

    // MARK: Search

    /// The FTS5 query for user-typed `terms`, or nil if none contains a word.
    ///
    /// User text never reaches FTS5 as syntax: each term becomes one double-quoted string (a phrase, with
    /// `"` doubled), so `OR`, `NEAR(`, `*`, `^`, `:` and quotes are plain text, and the phrases are ANDed.
    /// Inside the quotes the index's own tokenizer splits the text, as it did the message, so `e-mail`
    /// still matches "e-mail". A term with no letter or digit would be a phrase without tokens, which
    /// matches nothing and would empty the whole AND, so it is left out; control characters separate
    /// terms (FTS5 reads the query as a C string).
    public static func matchExpression(terms: [String]) -> String? {
        var phrases: [String] = []
        for term in terms {
            let pieces = term.unicodeScalars.split {
                $0.properties.isWhitespace || $0.properties.generalCategory == .control
            }
            for piece in pieces where piece.contains(where: isWordScalar) {
                var phrase = "\""
                for scalar in piece {
                    phrase.unicodeScalars.append(scalar)
                    if scalar == "\"" { phrase.unicodeScalars.append(scalar) }
                }
                phrase += "\""
                phrases.append(phrase)
            }
        }
        return phrases.isEmpty ? nil : phrases.joined(separator: " ")
    }

    /// Characters the `unicode61` tokenizer keeps in tokens: letters, digits and private-use characters.
    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .decimalNumber, .letterNumber, .otherNumber, .privateUse:
            return true
        default:
            return false
        }
    }

    /// Live user messages matching `terms` (see ``matchExpression(terms:)``) in the rooms `userID` is a
    /// member of (only `roomID` if given), newest (highest id) first, with ids below `beforeID` if given:
    /// keyset pages. The snippet marks matches with ``snippetOpen``/``snippetClose`` and elides with `…`.
    ///
    /// The membership filter is a join in the query, so a page holds `limit` visible hits however many
    /// matches sit in other rooms.
    public func search(
        terms: [String], userID: Int64, roomID: Int64?, beforeID: Int64?, limit: Int, _ db: Database
    ) throws -> [MessageSearchHit] {
        guard let expression = Self.matchExpression(terms: terms), limit > 0 else { return [] }
        let rows = try db.query(
            """
            SELECT \(Self.columns("m")), snippet(messages_fts, 0, ?5, ?6, '…', 16)
            FROM messages_fts
            JOIN messages m ON m.id = messages_fts.rowid
            JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = ?2
            WHERE messages_fts MATCH ?1
              AND messages_fts.rowid < ?4
              AND (?3 IS NULL OR m.room_id = ?3)
              AND m.kind = 'user' AND m.deleted_at IS NULL
            ORDER BY messages_fts.rowid DESC
            LIMIT ?7
            """,
            [
                .text(expression), .integer(userID), DatabaseValue(roomID), .integer(beforeID ?? Int64.max),
                .text(String(Self.snippetOpen)), .text(String(Self.snippetClose)), .integer(Int64(limit)),
            ])
        return try rows.map { row in
            let snippet = try RowReader(row: row, table: "messages_fts", corruptRow: MessageStoreError.corrupt).text(13)
            return MessageSearchHit(message: try Self.decode(row), snippet: snippet)
        }
    }

    // MARK: Decoding

    static func decode(_ row: Row) throws -> MessageRecord {
        let reader = RowReader(row: row, table: "messages", corruptRow: MessageStoreError.corrupt)
        guard let kind = MessageRecord.Kind(rawValue: try reader.text(4)) else {
            throw MessageStoreError.corruptRow(table: "messages", column: "kind")
        }
        var event: SystemEventRecord?
        if let json = try reader.optionalText(9) {
            guard let decoded = decodeEvent(json) else {
                throw MessageStoreError.corruptRow(table: "messages", column: "event_json")
            }
            event = decoded
        }
        return MessageRecord(
            id: try reader.integer(0), roomID: try reader.integer(1), seq: try reader.integer(2),
            senderID: try reader.optionalInteger(3), kind: kind, content: try reader.text(5),
            mimeType: try reader.text(6), clientMessageID: try reader.optionalText(7),
            replyTo: try reader.optionalInteger(8), event: event, createdAt: try reader.integer(10),
            editedAt: try reader.optionalInteger(11), deletedAt: try reader.optionalInteger(12))
    }

    /// The stored form of an event (`event_json`): snake_case keys, as in the API.
    private struct StoredEvent: Codable {
        var type: String
        var actor_id: Int64?
        var user_ids: [Int64]
        var detail: String?
    }

    static func encode(_ event: SystemEventRecord) throws -> String {
        let stored = StoredEvent(
            type: event.type, actor_id: event.actorID, user_ids: event.userIDs, detail: event.detail)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(stored), as: UTF8.self)
    }

    static func decodeEvent(_ json: String) -> SystemEventRecord? {
        guard let stored = try? JSONDecoder().decode(StoredEvent.self, from: Data(json.utf8)) else { return nil }
        return SystemEventRecord(
            type: stored.type, actorID: stored.actor_id, userIDs: stored.user_ids, detail: stored.detail)
    }

    /// `[1,2,3]`, for `json_each`.
    static func jsonArray(_ ids: [Int64]) -> String {
        "[" + ids.map(String.init).joined(separator: ",") + "]"
    }
}
