/// Every SQL statement about friend requests, friendships and blocks (migration `0003_rooms`).
///
/// Like ``AccountStore``, methods take the ``Database`` to run on and compose inside one writer job (one
/// savepoint) or one read. The store enforces no policy (who may befriend whom); it keeps each row's
/// shape right: a friendship pair is stored smaller id first, a pending request exists once per pair.
/// Lists that show other users leave out those who cannot be interacted with (deleted or disabled),
/// except the block list, which is the caller's own record. Times are unix milliseconds.
public struct SocialStore: Sendable {
    public init() {}

    // MARK: Friend requests

    static let requestColumns = "id, from_user_id, to_user_id, created_at"

    /// Inserts a pending request. A request already pending between the two users, in either direction,
    /// is a UNIQUE violation (``DatabaseError/isUniqueConstraintViolation``).
    public func insertFriendRequest(from: Int64, to: Int64, now: Int64, _ db: Database) throws -> FriendRequestRecord {
        try db.run(
            "INSERT INTO friend_requests (from_user_id, to_user_id, created_at) VALUES (?, ?, ?)",
            [.integer(from), .integer(to), .integer(now)])
        return FriendRequestRecord(id: db.lastInsertRowID, fromUserID: from, toUserID: to, createdAt: now)
    }

    public func friendRequest(id: Int64, _ db: Database) throws -> FriendRequestRecord? {
        try db.queryOne("SELECT \(Self.requestColumns) FROM friend_requests WHERE id = ?", [.integer(id)])
            .map(Self.decodeRequest)
    }

    /// The pending request between two users, whoever sent it.
    public func pendingRequest(between first: Int64, _ second: Int64, _ db: Database) throws -> FriendRequestRecord? {
        // The same expressions as the `friend_requests_pair` index, so the lookup uses it.
        try db.queryOne(
            """
            SELECT \(Self.requestColumns) FROM friend_requests
            WHERE min(from_user_id, to_user_id) = min(?1, ?2) AND max(from_user_id, to_user_id) = max(?1, ?2)
            """, [.integer(first), .integer(second)]
        ).map(Self.decodeRequest)
    }

    @discardableResult
    public func deleteFriendRequest(id: Int64, _ db: Database) throws -> Bool {
        try db.run("DELETE FROM friend_requests WHERE id = ?", [.integer(id)]) == 1
    }

    /// Deletes the pending request between two users, in whichever direction; returns whether there was one.
    @discardableResult
    public func deleteFriendRequests(between first: Int64, _ second: Int64, _ db: Database) throws -> Bool {
        try db.run(
            """
            DELETE FROM friend_requests
            WHERE min(from_user_id, to_user_id) = min(?1, ?2) AND max(from_user_id, to_user_id) = max(?1, ?2)
            """, [.integer(first), .integer(second)]) > 0
    }

    /// Requests sent to `userID` by live users (neither deleted nor disabled), newest first.
    public func incomingRequests(userID: Int64, _ db: Database) throws -> [FriendRequestDetailsRecord] {
        try requests(where: "r.to_user_id = ?1 AND f.deleted_at IS NULL AND f.is_disabled = 0", userID, db)
    }

    /// Requests `userID` sent to live users (neither deleted nor disabled), newest first.
    public func outgoingRequests(userID: Int64, _ db: Database) throws -> [FriendRequestDetailsRecord] {
        try requests(where: "r.from_user_id = ?1 AND t.deleted_at IS NULL AND t.is_disabled = 0", userID, db)
    }

    private func requests(where condition: String, _ userID: Int64, _ db: Database) throws
        -> [FriendRequestDetailsRecord]
    {
        try db.query(
            """
            SELECT r.id, r.from_user_id, r.to_user_id, r.created_at,
                   \(SocialUserColumns.list("f")), \(SocialUserColumns.list("t"))
            FROM friend_requests r
            JOIN users f ON f.id = r.from_user_id
            JOIN users t ON t.id = r.to_user_id
            WHERE \(condition)
            ORDER BY r.created_at DESC, r.id DESC
            """, [.integer(userID)]
        ).map { row in
            FriendRequestDetailsRecord(
                request: try Self.decodeRequest(row), from: try SocialUserColumns.decode(row, at: 4),
                to: try SocialUserColumns.decode(row, at: 4 + SocialUserColumns.count))
        }
    }

    static func decodeRequest(_ row: Row) throws -> FriendRequestRecord {
        let reader = RowReader(row: row, table: "friend_requests")
        return FriendRequestRecord(
            id: try reader.integer(0), fromUserID: try reader.integer(1), toUserID: try reader.integer(2),
            createdAt: try reader.integer(3))
    }

    // MARK: Friendships

    /// Records that two users are friends (in either argument order); an existing friendship is kept
    /// as it is. Returns the stored row.
    @discardableResult
    public func insertFriendship(_ first: Int64, _ second: Int64, since: Int64, _ db: Database) throws
        -> FriendshipRecord
    {
        let (low, high) = (min(first, second), max(first, second))
        try db.run(
            // Not `OR IGNORE`, which would also skip a CHECK failure (a user befriending themselves) silently.
            "INSERT INTO friendships (user_a, user_b, since) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [.integer(low), .integer(high), .integer(since)])
        guard let stored = try friendship(low, high, db) else {
            throw AccountStoreError.corruptRow(table: "friendships", column: "user_a")
        }
        return stored
    }

    /// The friendship between two users (in either argument order), if any.
    public func friendship(_ first: Int64, _ second: Int64, _ db: Database) throws -> FriendshipRecord? {
        try db.queryOne(
            "SELECT user_a, user_b, since FROM friendships WHERE user_a = ? AND user_b = ?",
            [.integer(min(first, second)), .integer(max(first, second))]
        ).map { row in
            let reader = RowReader(row: row, table: "friendships")
            return FriendshipRecord(
                userA: try reader.integer(0), userB: try reader.integer(1), since: try reader.integer(2))
        }
    }

    @discardableResult
    public func deleteFriendship(_ first: Int64, _ second: Int64, _ db: Database) throws -> Bool {
        try db.run(
            "DELETE FROM friendships WHERE user_a = ? AND user_b = ?",
            [.integer(min(first, second)), .integer(max(first, second))]) == 1
    }

    /// The live (neither deleted nor disabled) friends of `userID`, by username.
    public func friends(of userID: Int64, _ db: Database) throws -> [FriendRecord] {
        // Each half of the union runs on its own index: the primary key for the smaller side, and
        // friendships_user_b for the larger.
        try db.query(
            """
            SELECT f.since, \(SocialUserColumns.list("u"))
            FROM (SELECT user_b AS friend_id, since FROM friendships WHERE user_a = ?1
                  UNION ALL
                  SELECT user_a, since FROM friendships WHERE user_b = ?1) f
            JOIN users u ON u.id = f.friend_id
            WHERE u.deleted_at IS NULL AND u.is_disabled = 0
            ORDER BY u.username
            """, [.integer(userID)]
        ).map { row in
            FriendRecord(
                user: try SocialUserColumns.decode(row, at: 1),
                since: try RowReader(row: row, table: "friendships").integer(0))
        }
    }

    // MARK: Blocks

    /// Records that `blocker` blocked `blocked`. Blocking again keeps the first block (and its time).
    /// Returns whether a new block was recorded.
    @discardableResult
    public func insertBlock(blocker: Int64, blocked: Int64, now: Int64, _ db: Database) throws -> Bool {
        try db.run(
            // Not `OR IGNORE`, which would also skip a CHECK failure (blocking oneself) silently.
            "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [.integer(blocker), .integer(blocked), .integer(now)]) == 1
    }

    @discardableResult
    public func deleteBlock(blocker: Int64, blocked: Int64, _ db: Database) throws -> Bool {
        try db.run(
            "DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?", [.integer(blocker), .integer(blocked)]) == 1
    }

    public func block(blocker: Int64, blocked: Int64, _ db: Database) throws -> BlockRecord? {
        try db.queryOne(
            "SELECT blocker_id, blocked_id, created_at FROM blocks WHERE blocker_id = ? AND blocked_id = ?",
            [.integer(blocker), .integer(blocked)]
        ).map { row in
            let reader = RowReader(row: row, table: "blocks")
            return BlockRecord(
                blockerID: try reader.integer(0), blockedID: try reader.integer(1), createdAt: try reader.integer(2))
        }
    }

    /// Which of two users blocked the other, in one statement (two primary-key lookups).
    public func blockState(_ first: Int64, _ second: Int64, _ db: Database) throws -> BlockStateRecord {
        let row = try db.queryOne(
            """
            SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2),
                   EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ?2 AND blocked_id = ?1)
            """, [.integer(first), .integer(second)])
        guard let row else { return BlockStateRecord(firstBlockedSecond: false, secondBlockedFirst: false) }
        let reader = RowReader(row: row, table: "blocks")
        return BlockStateRecord(firstBlockedSecond: try reader.bool(0), secondBlockedFirst: try reader.bool(1))
    }

    /// The users `blockerID` blocked, newest block first; deleted and disabled users included, since the
    /// list is the blocker's own record.
    public func blockedUsers(blockerID: Int64, _ db: Database) throws -> [BlockedUserRecord] {
        try db.query(
            """
            SELECT b.created_at, \(SocialUserColumns.list("u"))
            FROM blocks b JOIN users u ON u.id = b.blocked_id
            WHERE b.blocker_id = ?
            ORDER BY b.created_at DESC, b.blocked_id DESC
            """, [.integer(blockerID)]
        ).map { row in
            BlockedUserRecord(
                user: try SocialUserColumns.decode(row, at: 1),
                createdAt: try RowReader(row: row, table: "blocks").integer(0))
        }
    }
}

/// The `users` columns of ``AccountStore``, for statements that join users under an alias, and the
/// decoding of such a run of columns from the middle of a row.
enum SocialUserColumns {
    private static let names = AccountStore.userColumns.split(separator: ",").map {
        $0.trimmingPrefix(while: \.isWhitespace)
    }

    /// How many columns a user takes.
    static var count: Int { names.count }

    /// `alias.id, alias.username, …` in ``AccountStore``'s order.
    static func list(_ alias: String) -> String {
        names.map { "\(alias).\($0)" }.joined(separator: ", ")
    }

    /// The user in the ``count`` columns from `offset`.
    static func decode(_ row: Row, at offset: Int) throws -> UserRecord {
        let range = offset..<(offset + count)
        return try AccountStore.decodeUser(
            Row(columnNames: Array(row.columnNames[range]), values: Array(row.values[range])))
    }

    /// The user in the columns from `offset`, or nil if its id is NULL (an outer join that matched nothing).
    static func decodeOptional(_ row: Row, at offset: Int) throws -> UserRecord? {
        row[offset].isNull ? nil : try decode(row, at: offset)
    }
}
