import Storage

/// Whether a member or the server wrote a message.
public enum MessageKind: String, Sendable, Equatable, Hashable, CaseIterable {
    case user
    /// Written by the server about the room; `event` says what happened.
    case system
}

/// What a system message records (the contract's `event` object).
public struct SystemEvent: Sendable, Equatable {
    /// `room_created`, `members_added`, `member_removed`, `member_left`, `room_renamed`, `topic_changed`,
    /// `role_changed` or `owner_changed`.
    public var type: String
    public var actorID: Int64?
    public var userIDs: [Int64]
    public var detail: String?

    public init(type: String, actorID: Int64? = nil, userIDs: [Int64] = [], detail: String? = nil) {
        self.type = type
        self.actorID = actorID
        self.userIDs = userIDs
        self.detail = detail
    }

    init(_ record: SystemEventRecord) {
        self.init(type: record.type, actorID: record.actorID, userIDs: record.userIDs, detail: record.detail)
    }
}

/// One emoji on a message: how many reacted with it, and whether the viewer did.
public struct ReactionSummary: Sendable, Equatable {
    public var emoji: String
    public var count: Int
    /// The user the message was read for is among them.
    public var me: Bool

    public init(emoji: String, count: Int, me: Bool) {
        self.emoji = emoji
        self.count = count
        self.me = me
    }
}

/// A message as a member sees it. `reactions` depend on the viewer (`me`).
///
/// A deleted message is a tombstone: it keeps id, seq, sender and times, its content is "" and it has
/// no reactions.
public struct Message: Sendable, Equatable {
    public var id: Int64
    public var roomID: Int64
    public var seq: Int64
    /// Nil for system messages.
    public var senderID: Int64?
    public var kind: MessageKind
    public var content: String
    public var mimeType: String
    public var clientMessageID: String?
    public var replyTo: Int64?
    /// The sender's uploads the message shows, in order (none on tombstones).
    public var attachments: [MessageAttachment]
    public var createdAt: Int64
    public var editedAt: Int64?
    public var isDeleted: Bool
    /// Set for system messages only.
    public var event: SystemEvent?
    /// In the order each emoji was first used.
    public var reactions: [ReactionSummary]

    public init(
        id: Int64, roomID: Int64, seq: Int64, senderID: Int64?, kind: MessageKind, content: String,
        mimeType: String, clientMessageID: String? = nil, replyTo: Int64? = nil,
        attachments: [MessageAttachment] = [],
        createdAt: Int64, editedAt: Int64? = nil, isDeleted: Bool = false, event: SystemEvent? = nil,
        reactions: [ReactionSummary] = []
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
        self.attachments = attachments
        self.createdAt = createdAt
        self.editedAt = editedAt
        self.isDeleted = isDeleted
        self.event = event
        self.reactions = reactions
    }

    /// The message as everyone sees it: reactions counted, none marked as the viewer's (for broadcasts).
    public var withoutViewer: Message {
        var message = self
        message.reactions = reactions.map { ReactionSummary(emoji: $0.emoji, count: $0.count, me: false) }
        return message
    }

    init(_ record: MessageRecord, reactions: [ReactionSummary] = [], attachments: [MessageAttachment] = []) {
        self.init(
            id: record.id, roomID: record.roomID, seq: record.seq, senderID: record.senderID,
            kind: record.kind == .system ? .system : .user, content: record.isDeleted ? "" : record.content,
            mimeType: record.mimeType, clientMessageID: record.clientMessageID, replyTo: record.replyTo,
            attachments: record.isDeleted ? [] : attachments, createdAt: record.createdAt, editedAt: record.editedAt,
            isDeleted: record.isDeleted,
            event: record.event.map(SystemEvent.init), reactions: record.isDeleted ? [] : reactions)
    }
}

/// One member's read position in a room (`GET /rooms/:id/receipts`).
public struct ReadReceipt: Sendable, Equatable {
    public var userID: Int64
    public var lastReadSeq: Int64

    public init(userID: Int64, lastReadSeq: Int64) {
        self.userID = userID
        self.lastReadSeq = lastReadSeq
    }
}

/// The caller's unread state in one room (`GET /unread`).
public struct UnreadEntry: Sendable, Equatable {
    public var roomID: Int64
    /// `lastSeq - lastReadSeq`.
    public var unreadCount: Int64
    public var lastReadSeq: Int64
    public var lastSeq: Int64

    public init(roomID: Int64, unreadCount: Int64, lastReadSeq: Int64, lastSeq: Int64) {
        self.roomID = roomID
        self.unreadCount = unreadCount
        self.lastReadSeq = lastReadSeq
        self.lastSeq = lastSeq
    }
}

/// A message found by search, with a snippet of its text: HTML-escaped, matches wrapped in
/// `<mark>`…`</mark>`, elisions shown as `…`.
public struct SearchResult: Sendable, Equatable {
    public var message: Message
    public var snippet: String

    public init(message: Message, snippet: String) {
        self.message = message
        self.snippet = snippet
    }
}

/// An upload a message shows: what a client needs to display it, and `url`, a signed delivery URL (a path on
/// this server) that fetches its bytes.
public struct MessageAttachment: Sendable, Equatable {
    public var publicID: String
    /// `image`, `video` or `raw`.
    public var resourceType: String
    public var format: String
    public var bytes: Int64
    public var width: Int?
    public var height: Int?
    public var originalFilename: String?
    public var url: String

    public init(
        publicID: String, resourceType: String, format: String, bytes: Int64, width: Int? = nil, height: Int? = nil,
        originalFilename: String? = nil, url: String
    ) {
        self.publicID = publicID
        self.resourceType = resourceType
        self.format = format
        self.bytes = bytes
        self.width = width
        self.height = height
        self.originalFilename = originalFilename
        self.url = url
    }
}

/// How attachments get their delivery URL: the blob store signs it (ChatCore does not hold its secret).
public struct AttachmentLinks: Sendable {
    public let url: @Sendable (AttachmentRecord) -> String

    public init(url: @escaping @Sendable (AttachmentRecord) -> String) {
        self.url = url
    }

    /// For tools that never show attachments.
    public static let none = AttachmentLinks { _ in "" }

    func attachment(_ record: AttachmentRecord) -> MessageAttachment {
        MessageAttachment(
            publicID: record.publicID, resourceType: record.resourceType, format: record.format, bytes: record.bytes,
            width: record.width, height: record.height, originalFilename: record.originalFilename, url: url(record))
    }
}
