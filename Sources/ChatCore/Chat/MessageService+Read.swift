import Storage

extension MessageService {
    // MARK: Read receipts and unread counts

    /// Moves the caller's read position forward to `seq`, clamped to the room's newest seq, and returns the
    /// position and what is still unread after it. A `seq` at or behind the position changes nothing (the
    /// position never moves back) and costs no write.
    ///
    /// Errors: ``ChatError/notFound`` (not a member), ``ChatError/validation(_:)`` (`seq` negative).
    public func markRead(roomID: Int64, userID: Int64, seq: Int64) async throws(ChatError)
        -> (lastReadSeq: Int64, unreadCount: Int64)
    {
        _ = try await member(roomID: roomID, userID: userID)
        guard seq >= 0 else { throw .validation(["seq": "must be zero or more"]) }
        let current = try await read { [store] db in try store.readState(roomID: roomID, userID: userID, db) }
        guard let current else { throw .notFound }
        if min(seq, current.lastSeq) <= current.lastReadSeq {
            return (current.lastReadSeq, current.unreadCount)
        }
        let updated = try await publishingWrite { [store] db, outbox in
            let updated = try store.markRead(roomID: roomID, userID: userID, seq: seq, db)
            if let updated, updated.lastReadSeq > current.lastReadSeq {
                outbox.post(.readPosition(roomID: roomID, userID: userID, seq: updated.lastReadSeq))
            }
            return updated
        }
        guard let updated else { throw .notFound }
        return (updated.lastReadSeq, updated.unreadCount)
    }

    /// The seq of the room's newest message (0 for none). ``ChatError/notFound`` for a non-member.
    public func lastSeq(roomID: Int64, userID: Int64) async throws(ChatError) -> Int64 {
        let state = try await read { [store] db in try store.readState(roomID: roomID, userID: userID, db) }
        guard let state else { throw .notFound }
        return state.lastSeq
    }

    /// The messages after `afterSeq`, oldest first, at most `limit` (a RESUME): `complete` is false when more
    /// follow, which the client then pages through with ``history(roomID:userID:beforeSeq:afterSeq:limit:)``.
    /// ``ChatError/notFound`` for a non-member.
    public func replay(roomID: Int64, userID: Int64, afterSeq: Int64, limit: Int) async throws(ChatError)
        -> (messages: [Message], complete: Bool)
    {
        _ = try await member(roomID: roomID, userID: userID)
        let limit = max(limit, 1)
        return try await read { [store, links] db in
            let records = try store.history(roomID: roomID, from: .after(afterSeq), limit: limit + 1, db)
            let page = Array(records.prefix(limit))
            return (try Self.messages(page, viewerID: userID, store: store, links: links, db), records.count <= limit)
        }
    }

    /// Every member's read position in the room, by user id.
    ///
    /// Errors: ``ChatError/notFound`` (not a member).
    public func receipts(roomID: Int64, userID: Int64) async throws(ChatError) -> [ReadReceipt] {
        _ = try await member(roomID: roomID, userID: userID)
        let states = try await read { [store] db in try store.readStates(roomID: roomID, db) }
        return states.map { ReadReceipt(userID: $0.userID, lastReadSeq: $0.lastReadSeq) }
    }

    /// The caller's unread count in each of their rooms (most recently active first) and the total: one
    /// query over memberships and rooms, never counting messages.
    public func unread(userID: Int64) async throws(ChatError) -> (rooms: [UnreadEntry], total: Int64) {
        let states = try await read { [store] db in try store.readStates(userID: userID, db) }
        let entries = states.map {
            UnreadEntry(
                roomID: $0.roomID, unreadCount: $0.unreadCount, lastReadSeq: $0.lastReadSeq, lastSeq: $0.lastSeq)
        }
        return (entries, entries.reduce(0) { $0 + $1.unreadCount })
    }
}
