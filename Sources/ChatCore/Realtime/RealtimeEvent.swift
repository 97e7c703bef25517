/// Something that happened which connected clients must hear about. Services publish these through
/// ``PubSub`` after the change committed (see ``RealtimeWrite``); the hub turns each into one encoded frame
/// and queues it to the connections concerned. Every case carries what is needed to find its audience, so a
/// node that did not make the change (cluster mode) can deliver it too.
public enum RealtimeEvent: Sendable, Equatable {
    /// A new message (user or system) in a room: to every connection of every member. `origin` is the
    /// connection that sent it over WebSocket (it gets an ACK instead), nil for REST and the server.
    case messageCreated(Message, origin: UInt64?)
    /// An edited message (reactions without the viewer's `me`).
    case messageUpdated(Message)
    case messageDeleted(roomID: Int64, messageID: Int64, seq: Int64, actorID: Int64)
    case reactionChanged(ReactionChange)
    /// A member's read position moved forward.
    case readPosition(roomID: Int64, userID: Int64, seq: Int64)
    /// To the room's viewers other than the user; never stored.
    case typing(roomID: Int64, userID: Int64, isTyping: Bool)
    /// A user's first connection started viewing a room (`joined`), or their last one stopped.
    case viewer(roomID: Int64, userID: Int64, joined: Bool)
    case presence(PresenceChange)
    /// Users became members of a room (created, added, direct room opened) by `actorID`'s action.
    case membersAdded(roomID: Int64, kind: RoomKind, userIDs: [Int64], actorID: Int64)
    /// Users stopped being members of a room by `actorID`'s action: `reason` is `removed`, `left` or `deleted`.
    case membersRemoved(roomID: Int64, userIDs: [Int64], reason: String, actorID: Int64)
    case friendRequest(FriendNotice)
    case friendRequestAccepted(FriendNotice)
    case friendRequestCancelled(FriendNotice)
    /// `userID` ended the friendship with `otherID`.
    case friendRemoved(userID: Int64, otherID: Int64)
    /// Sessions of `userID` ended (logout, revoked, password changed); nil: every session (the account was
    /// disabled or deleted). Their connections are told and closed.
    case accessEnded(userID: Int64, sessionIDs: Set<String>?)

    /// The user whose action caused the event, if any: the envelope's `sender_id`.
    public var actorID: Int64? {
        switch self {
        // A system message has no sender; the member whose action it records caused it.
        case .messageCreated(let message, _), .messageUpdated(let message): message.senderID ?? message.event?.actorID
        case .messageDeleted(_, _, _, let actorID): actorID
        case .reactionChanged(let change): change.userID
        case .readPosition(_, let userID, _), .typing(_, let userID, _), .viewer(_, let userID, _): userID
        case .presence(let change): change.userID
        case .membersAdded(_, _, _, let actorID), .membersRemoved(_, _, _, let actorID): actorID
        case .friendRequest(let notice), .friendRequestAccepted(let notice), .friendRequestCancelled(let notice):
            notice.actorID
        case .friendRemoved(let userID, _): userID
        case .accessEnded: nil
        }
    }
}

/// A reaction added or removed, with the message's reaction counts after it.
public struct ReactionChange: Sendable, Equatable {
    public var roomID: Int64
    public var messageID: Int64
    public var userID: Int64
    public var emoji: String
    public var added: Bool
    /// Counts only: `me` depends on the viewer and is false here.
    public var reactions: [ReactionSummary]

    public init(
        roomID: Int64, messageID: Int64, userID: Int64, emoji: String, added: Bool, reactions: [ReactionSummary]
    ) {
        self.roomID = roomID
        self.messageID = messageID
        self.userID = userID
        self.emoji = emoji
        self.added = added
        self.reactions = reactions
    }
}

/// A user going online or offline, with the users allowed to know (friends and co-members).
public struct PresenceChange: Sendable, Equatable {
    public var userID: Int64
    public var online: Bool
    /// Unix milliseconds; nil while online.
    public var lastSeenAt: Int64?
    public var audience: [Int64]

    public init(userID: Int64, online: Bool, lastSeenAt: Int64?, audience: [Int64]) {
        self.userID = userID
        self.online = online
        self.lastSeenAt = lastSeenAt
        self.audience = audience
    }
}

/// A friend request event: `requestID` between `actorID` (who acted) and `recipientID` (who is told).
public struct FriendNotice: Sendable, Equatable {
    public var requestID: Int64?
    public var actorID: Int64
    public var recipientID: Int64

    public init(requestID: Int64?, actorID: Int64, recipientID: Int64) {
        self.requestID = requestID
        self.actorID = actorID
        self.recipientID = recipientID
    }
}
