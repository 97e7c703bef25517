/// The tunables of friends, rooms and messages (the `[chat]` settings), read by ``RoomService``,
/// ``SocialService`` and the message service.
public struct ChatPolicy: Sendable, Equatable {
    /// Who may open a direct room with whom.
    public enum DMPolicy: String, Sendable, Equatable, CaseIterable {
        /// Only friends (the default).
        case friends
        /// Any two users, unless one blocked the other.
        case anyone
    }

    public var dmPolicy: DMPolicy
    /// Largest group, owner included.
    public var maxRoomMembers: Int
    /// Longest message content, in UTF-8 bytes.
    public var maxMessageBytes: Int
    /// Most messages one history page returns.
    public var historyPageMax: Int

    public init(
        dmPolicy: DMPolicy = .friends, maxRoomMembers: Int = 10_000, maxMessageBytes: Int = 16_384,
        historyPageMax: Int = 200
    ) {
        self.dmPolicy = dmPolicy
        self.maxRoomMembers = maxRoomMembers
        self.maxMessageBytes = maxMessageBytes
        self.historyPageMax = historyPageMax
    }
}
