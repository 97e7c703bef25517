/// A row of `messages`, as stored (migration `0004_messages`).
public struct MessageRecord: Sendable, Equatable {
    /// `messages.kind`.
    public enum Kind: String, Sendable, Equatable {
        /// Written by a member; has a sender.
        case user
        /// Written by the server about the room (member added, renamed, ...); no sender, has an event.
        case system
    }

    public var id: Int64
    public var roomID: Int64
    /// Position in the room's timeline: 1, 2, 3, ... without gaps.
    public var seq: Int64
    /// Nil for system messages.
    public var senderID: Int64?
    public var kind: Kind
    /// Empty once deleted.
    public var content: String
    public var mimeType: String
    /// The sender's idempotency key, if the client gave one.
    public var clientMessageID: String?
    /// Id of a message of the same room this one answers.
    public var replyTo: Int64?
    /// What a system message records; nil for user messages.
    public var event: SystemEventRecord?
    public var createdAt: Int64
    public var editedAt: Int64?
    /// Set when the message was deleted (a tombstone that keeps its id and seq).
    public var deletedAt: Int64?

    public var isDeleted: Bool { deletedAt != nil }

    public init(
        id: Int64, roomID: Int64, seq: Int64, senderID: Int64?, kind: Kind, content: String, mimeType: String,
        clientMessageID: String? = nil, replyTo: Int64? = nil, event: SystemEventRecord? = nil, createdAt: Int64,
        editedAt: Int64? = nil, deletedAt: Int64? = nil
    ) {
        self.id = id
        self.roomID = roomID
        self.seq = seq
        self.senderID = senderID
        self.kind = kind
        self.content = content
        self.mimeType = mimeType
        self.clientMessageID = clientMessageID
        self.replyTo = replyTo
        self.event = event
        self.createdAt = createdAt
        self.editedAt = editedAt
        self.deletedAt = deletedAt
    }
}

/// What a system message records, stored as JSON in `messages.event_json`.
public struct SystemEventRecord: Sendable, Equatable {
    /// `room_created`, `members_added`, `member_removed`, `member_left`, `room_renamed`, `topic_changed`,
    /// `role_changed` or `owner_changed` (the store does not restrict it).
    public var type: String
    /// Who did it, if a user did.
    public var actorID: Int64?
    /// Whom it concerns (added, removed, promoted, ...).
    public var userIDs: [Int64]
    /// Free-form extra, e.g. the new name or role.
    public var detail: String?

    public init(type: String, actorID: Int64? = nil, userIDs: [Int64] = [], detail: String? = nil) {
        self.type = type
        self.actorID = actorID
        self.userIDs = userIDs
        self.detail = detail
    }
}

/// A user message to insert; the store assigns id and seq.
public struct NewMessageRecord: Sendable, Equatable {
    public var roomID: Int64
    public var senderID: Int64
    public var content: String
    public var mimeType: String
    public var clientMessageID: String?
    public var replyTo: Int64?
    public var createdAt: Int64

    public init(
        roomID: Int64, senderID: Int64, content: String, mimeType: String, clientMessageID: String? = nil,
        replyTo: Int64? = nil, createdAt: Int64
    ) {
        self.roomID = roomID
        self.senderID = senderID
        self.content = content
        self.mimeType = mimeType
        self.clientMessageID = clientMessageID
        self.replyTo = replyTo
        self.createdAt = createdAt
    }
}

/// One emoji on one message, counted: the reactions of a page of messages are read in one query.
public struct ReactionCountRecord: Sendable, Equatable {
    public var messageID: Int64
    public var emoji: String
    public var count: Int
    /// Whether the user the counts were read for is among them.
    public var includesViewer: Bool

    public init(messageID: Int64, emoji: String, count: Int, includesViewer: Bool) {
        self.messageID = messageID
        self.emoji = emoji
        self.count = count
        self.includesViewer = includesViewer
    }
}

/// A member's read position in one room.
public struct ReadStateRecord: Sendable, Equatable {
    public var roomID: Int64
    public var userID: Int64
    public var lastReadSeq: Int64
    /// `rooms.last_seq`: the newest seq of the room.
    public var lastSeq: Int64

    /// Messages after the read position. Never negative, even if a row was edited by hand.
    public var unreadCount: Int64 { max(0, lastSeq - lastReadSeq) }

    public init(roomID: Int64, userID: Int64, lastReadSeq: Int64, lastSeq: Int64) {
        self.roomID = roomID
        self.userID = userID
        self.lastReadSeq = lastReadSeq
        self.lastSeq = lastSeq
    }
}

/// A search hit: the message and its snippet, with FTS5's markers (see ``MessageStore/search``).
public struct MessageSearchHit: Sendable, Equatable {
    public var message: MessageRecord
    public var snippet: String

    public init(message: MessageRecord, snippet: String) {
        self.message = message
        self.snippet = snippet
    }
}

/// Why a message write was refused. Other failures are ``DatabaseError``s.
public enum MessageStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The room does not exist (any more).
    case roomNotFound
    /// The room does not exist, or the user is not a member of it.
    case notMember
    /// A row holds a value of the wrong type or out of range: the file was edited by hand or is damaged.
    case corruptRow(table: String, column: String)

    public var description: String {
        switch self {
        case .roomNotFound: return "the room does not exist"
        case .notMember: return "not a member of the room"
        case .corruptRow(let table, let column): return "unexpected value in \(table).\(column)"
        }
    }
}
