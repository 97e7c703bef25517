/// Every SQL statement about presence (migration `0005_presence`): the stored `last_seen_at`, and who may
/// see a user's presence (the user, their friends and the members of rooms they share).
public struct PresenceStore: Sendable {
    public init() {}

    /// Sets `last_seen_at` of each user to `at` (unix milliseconds).
    public func setLastSeen(userIDs: [Int64], at: Int64, _ db: Database) throws {
        guard !userIDs.isEmpty else { return }
        try db.run(
            "UPDATE users SET last_seen_at = ?1 WHERE id IN (SELECT value FROM json_each(?2))",
            [.integer(at), .text(RoomStore.jsonArray(userIDs))])
    }

    /// The user's `last_seen_at` (nil when never seen); nil for the outer optional when there is no such user.
    public func lastSeen(userID: Int64, _ db: Database) throws -> Int64?? {
        guard let row = try db.queryOne("SELECT last_seen_at FROM users WHERE id = ?", [.integer(userID)]) else {
            return nil
        }
        return .some(try RowReader(row: row, table: "users").optionalInteger(0))
    }

    /// The users who get a user's presence changes: friends, and co-members of rooms of at most
    /// `maxRoomMembers` members, without the user and without anyone who blocked the user or whom the user
    /// blocked (as ``isVisible(_:to:_:)`` hides it from them).
    public func audience(of userID: Int64, maxRoomMembers: Int, _ db: Database) throws -> [Int64] {
        try db.query(
            """
            SELECT id FROM (
                SELECT user_b AS id FROM friendships WHERE user_a = ?1
                UNION SELECT user_a FROM friendships WHERE user_b = ?1
                UNION SELECT other.user_id FROM room_members mine
                    JOIN rooms r ON r.id = mine.room_id AND r.member_count <= ?2
                    JOIN room_members other ON other.room_id = mine.room_id
                    WHERE mine.user_id = ?1 AND other.user_id <> ?1
            )
            WHERE id NOT IN (SELECT blocked_id FROM blocks WHERE blocker_id = ?1)
              AND id NOT IN (SELECT blocker_id FROM blocks WHERE blocked_id = ?1)
            """, [.integer(userID), .integer(Int64(maxRoomMembers))]
        ).map { try RowReader(row: $0, table: "room_members").integer(0) }
    }

    /// Whether `viewerID` may see the presence of `userID`: themselves, a friend, or a member of a room they
    /// share; and neither blocked the other, and the user is not deleted or disabled.
    public func isVisible(_ userID: Int64, to viewerID: Int64, _ db: Database) throws -> Bool {
        let row = try db.queryOne(
            """
            SELECT 1 FROM users u
            WHERE u.id = ?1 AND u.deleted_at IS NULL AND u.is_disabled = 0
              AND NOT EXISTS (SELECT 1 FROM blocks WHERE (blocker_id = ?1 AND blocked_id = ?2)
                                                      OR (blocker_id = ?2 AND blocked_id = ?1))
              AND (?1 = ?2
                   OR EXISTS (SELECT 1 FROM friendships WHERE user_a = min(?1, ?2) AND user_b = max(?1, ?2))
                   OR EXISTS (SELECT 1 FROM room_members mine JOIN room_members other ON other.room_id = mine.room_id
                              WHERE mine.user_id = ?2 AND other.user_id = ?1))
            """, [.integer(userID), .integer(viewerID)])
        return row != nil
    }
}
