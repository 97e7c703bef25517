/// Every SQL statement about rooms and their members (tables `rooms` and `room_members` of migration
/// `0003_rooms`; messages are ``MessageStore``'s).
///
/// Like ``AccountStore``, methods take the ``Database`` to run on and compose inside one writer job (one
/// savepoint) or one read. The store enforces no policy (who may add or remove whom); the schema keeps the
/// invariants: one direct room per pair (`direct_key`), at most one owner per room, `member_count` kept
/// by triggers. Times are unix milliseconds.
public struct RoomStore: Sendable {
    public init() {}

    /// The `direct_key` of the direct room of two users, in either argument order.
    public static func directKey(_ first: Int64, _ second: Int64) -> String {
        "\(min(first, second)):\(max(first, second))"
    }

    // MARK: Rooms

    static let roomColumnNames = [
        "id", "kind", "name", "topic", "direct_key", "created_by", "created_at", "updated_at", "last_activity_at",
        "last_seq", "member_count",
    ]

    static func roomColumns(_ alias: String) -> String {
        roomColumnNames.map { "\(alias).\($0)" }.joined(separator: ", ")
    }

    public func room(id: Int64, _ db: Database) throws -> RoomRecord? {
        try db.queryOne("SELECT \(Self.roomColumns("r")) FROM rooms r WHERE r.id = ?", [.integer(id)])
            .map { try Self.decodeRoom($0, at: 0) }
    }

    /// The direct room of two users (in either argument order), if it exists.
    public func directRoom(between first: Int64, _ second: Int64, _ db: Database) throws -> RoomRecord? {
        try db.queryOne(
            "SELECT \(Self.roomColumns("r")) FROM rooms r WHERE r.direct_key = ?",
            [.text(Self.directKey(first, second))]
        ).map { try Self.decodeRoom($0, at: 0) }
    }

    /// The direct room of two users, created with both as plain members if it does not exist yet.
    /// `created` tells which happened. `createdBy` is the user who asked.
    ///
    /// The UNIQUE `direct_key` makes a second creation a no-op even if a caller skipped the lookup.
    public func findOrCreateDirectRoom(
        createdBy: Int64, peer: Int64, now: Int64, _ db: Database
    ) throws -> (room: RoomRecord, created: Bool) {
        let key = Self.directKey(createdBy, peer)
        let inserted = try db.queryOne(
            """
            INSERT INTO rooms (kind, direct_key, created_by, created_at, updated_at, last_activity_at)
            VALUES ('direct', ?1, ?2, ?3, ?3, ?3)
            ON CONFLICT (direct_key) DO NOTHING
            RETURNING id
            """, [.text(key), .integer(createdBy), .integer(now)])
        if let inserted {
            let roomID = try RowReader(row: inserted, table: "rooms").integer(0)
            try insertMembers(roomID: roomID, userIDs: [createdBy, peer], role: .member, now: now, db)
        }
        guard let room = try directRoom(between: createdBy, peer, db) else {
            throw AccountStoreError.corruptRow(table: "rooms", column: "direct_key")
        }
        return (room, inserted != nil)
    }

    /// Creates a group with `ownerID` as its owner and only member.
    public func insertGroupRoom(
        name: String, topic: String, ownerID: Int64, now: Int64, _ db: Database
    ) throws -> RoomRecord {
        try db.run(
            """
            INSERT INTO rooms (kind, name, topic, created_by, created_at, updated_at, last_activity_at)
            VALUES ('group', ?1, ?2, ?3, ?4, ?4, ?4)
            """, [.text(name), .text(topic), .integer(ownerID), .integer(now)])
        let roomID = db.lastInsertRowID
        try insertMembers(roomID: roomID, userIDs: [ownerID], role: .owner, now: now, db)
        guard let room = try room(id: roomID, db) else {
            throw AccountStoreError.corruptRow(table: "rooms", column: "id")
        }
        return room
    }

    /// Sets the non-nil fields of a room and its `updated_at`; returns the updated row, or nil if there is
    /// no such room.
    @discardableResult
    public func updateRoom(
        id: Int64, name: String?, topic: String?, now: Int64, _ db: Database
    ) throws -> RoomRecord? {
        try db.queryOne(
            """
            UPDATE rooms SET name = coalesce(?2, name), topic = coalesce(?3, topic), updated_at = ?4
            WHERE id = ?1
            RETURNING \(Self.roomColumnNames.joined(separator: ", "))
            """, [.integer(id), DatabaseValue(name), DatabaseValue(topic), .integer(now)]
        ).map { try Self.decodeRoom($0, at: 0) }
    }

    /// Deletes a room; its members, messages, reactions and search entries go with it (cascades and
    /// triggers). Returns whether it existed.
    @discardableResult
    public func deleteRoom(id: Int64, _ db: Database) throws -> Bool {
        try db.run("DELETE FROM rooms WHERE id = ?", [.integer(id)]) == 1
    }

    static func decodeRoom(_ row: Row, at offset: Int) throws -> RoomRecord {
        let reader = RowReader(row: row, table: "rooms")
        guard let kind = RoomRecord.Kind(rawValue: try reader.text(offset + 1)) else {
            throw AccountStoreError.corruptRow(table: "rooms", column: "kind")
        }
        return RoomRecord(
            id: try reader.integer(offset), kind: kind, name: try reader.text(offset + 2),
            topic: try reader.text(offset + 3), directKey: try reader.optionalText(offset + 4),
            createdBy: try reader.optionalInteger(offset + 5), createdAt: try reader.integer(offset + 6),
            updatedAt: try reader.integer(offset + 7), lastActivityAt: try reader.integer(offset + 8),
            lastSeq: try reader.integer(offset + 9), memberCount: Int(try reader.integer(offset + 10)))
    }

    // MARK: The rooms of a user

    /// The rooms `userID` is a member of, as they see them, most recently active first. One statement, on
    /// indexes throughout: the viewer's memberships (`room_members_user`) joined to their rooms, the other
    /// member of each direct room (primary key), and the newest message's id (`UNIQUE (room_id, seq)` of
    /// `messages`). Its cost grows with the viewer's rooms, not with their sizes.
    public func roomSummaries(userID: Int64, _ db: Database) throws -> [RoomSummaryRecord] {
        try db.query(Self.summarySQL(where: "m.user_id = ?1"), [.integer(userID)]).map(Self.decodeSummary)
    }

    /// One room as the member `userID` sees it; nil if there is no such room or they are not a member.
    public func roomSummary(roomID: Int64, userID: Int64, _ db: Database) throws -> RoomSummaryRecord? {
        try db.queryOne(
            Self.summarySQL(where: "m.room_id = ?2 AND m.user_id = ?1"), [.integer(userID), .integer(roomID)]
        ).map(Self.decodeSummary)
    }

    private static func summarySQL(where condition: String) -> String {
        // The peer is looked up only for direct rooms, by a CASE around a subquery: SQLite does not hoist an
        // `r.kind = 'direct'` term of a LEFT JOIN's ON clause out of the join loop, so a join on the other
        // members would walk every member of every group the viewer is in (10,000 rows a big group).
        """
        SELECT \(roomColumns("r")), \(memberColumns("m")),
               (SELECT lm.id FROM messages lm WHERE lm.room_id = r.id AND lm.seq = r.last_seq),
               \(SocialUserColumns.list("pu"))
        FROM room_members m
        JOIN rooms r ON r.id = m.room_id
        LEFT JOIN users pu ON pu.id = CASE WHEN r.kind = 'direct' THEN (
            SELECT pm.user_id FROM room_members pm WHERE pm.room_id = r.id AND pm.user_id <> m.user_id LIMIT 1)
        END
        WHERE \(condition)
        ORDER BY r.last_activity_at DESC, r.id DESC
        """
    }

    private static func decodeSummary(_ row: Row) throws -> RoomSummaryRecord {
        let memberOffset = roomColumnNames.count
        let messageOffset = memberOffset + memberColumnNames.count
        return RoomSummaryRecord(
            room: try decodeRoom(row, at: 0), membership: try decodeMember(row, at: memberOffset),
            peer: try SocialUserColumns.decodeOptional(row, at: messageOffset + 1),
            lastMessageID: try RowReader(row: row, table: "messages").optionalInteger(messageOffset))
    }

    // MARK: Members

    static let memberColumnNames = ["room_id", "user_id", "role", "joined_at", "last_read_seq"]

    static func memberColumns(_ alias: String) -> String {
        memberColumnNames.map { "\(alias).\($0)" }.joined(separator: ", ")
    }

    /// Adds the users not yet members with `role`, in one statement whatever their number. Returns the
    /// ids actually added, in the order given; existing members are left as they are.
    @discardableResult
    public func insertMembers(
        roomID: Int64, userIDs: [Int64], role: RoomMemberRecord.Role, now: Int64, _ db: Database
    ) throws -> [Int64] {
        guard !userIDs.isEmpty else { return [] }
        // A JSON array keeps the SQL text fixed (one cached statement) whatever the number of users.
        // `WHERE true` is SQLite's required disambiguation of INSERT … SELECT … ON CONFLICT.
        // New members start as having read everything before they joined: history is there to scroll
        // back through, not a backlog of unread messages.
        let rows = try db.query(
            """
            INSERT INTO room_members (room_id, user_id, role, joined_at, last_read_seq)
            SELECT ?1, value, ?2, ?3, (SELECT last_seq FROM rooms WHERE id = ?1) FROM json_each(?4) WHERE true
            ON CONFLICT (room_id, user_id) DO NOTHING
            RETURNING user_id
            """, [.integer(roomID), .text(role.rawValue), .integer(now), .text(Self.jsonArray(userIDs))])
        let added = Set(try rows.map { try RowReader(row: $0, table: "room_members").integer(0) })
        var seen = Set<Int64>()
        return userIDs.filter { added.contains($0) && seen.insert($0).inserted }
    }

    public func member(roomID: Int64, userID: Int64, _ db: Database) throws -> RoomMemberRecord? {
        try db.queryOne(
            "SELECT \(Self.memberColumns("m")) FROM room_members m WHERE m.room_id = ? AND m.user_id = ?",
            [.integer(roomID), .integer(userID)]
        ).map { try Self.decodeMember($0, at: 0) }
    }

    /// Which of `userIDs` are members of the room, in one statement.
    public func memberIDs(roomID: Int64, among userIDs: [Int64], _ db: Database) throws -> Set<Int64> {
        guard !userIDs.isEmpty else { return [] }
        let rows = try db.query(
            """
            SELECT m.user_id FROM room_members m
            WHERE m.room_id = ?1 AND m.user_id IN (SELECT value FROM json_each(?2))
            """, [.integer(roomID), .text(Self.jsonArray(userIDs))])
        return Set(try rows.map { try RowReader(row: $0, table: "room_members").integer(0) })
    }

    /// A membership with its room's kind: the access check.
    public func membership(roomID: Int64, userID: Int64, _ db: Database) throws -> RoomMembershipRecord? {
        try db.queryOne(
            """
            SELECT \(Self.memberColumns("m")), r.kind
            FROM room_members m JOIN rooms r ON r.id = m.room_id
            WHERE m.room_id = ? AND m.user_id = ?
            """, [.integer(roomID), .integer(userID)]
        ).map { row in
            let offset = Self.memberColumnNames.count
            guard let kind = RoomRecord.Kind(rawValue: try RowReader(row: row, table: "rooms").text(offset)) else {
                throw AccountStoreError.corruptRow(table: "rooms", column: "kind")
            }
            return RoomMembershipRecord(member: try Self.decodeMember(row, at: 0), kind: kind)
        }
    }

    /// The other member of the direct room `roomID`, if `userID` is a member of it; nil for groups.
    public func directPeer(roomID: Int64, userID: Int64, _ db: Database) throws -> Int64? {
        try db.queryOne(
            """
            SELECT p.user_id
            FROM room_members m
            JOIN rooms r ON r.id = m.room_id AND r.kind = 'direct'
            JOIN room_members p ON p.room_id = m.room_id AND p.user_id <> m.user_id
            WHERE m.room_id = ?1 AND m.user_id = ?2
            """, [.integer(roomID), .integer(userID)]
        ).map { try RowReader(row: $0, table: "room_members").integer(0) }
    }

    /// Every member with their user row, by join time (then id).
    public func members(roomID: Int64, _ db: Database) throws -> [RoomMemberDetailsRecord] {
        try db.query(
            """
            SELECT \(Self.memberColumns("m")), \(SocialUserColumns.list("u"))
            FROM room_members m JOIN users u ON u.id = m.user_id
            WHERE m.room_id = ?
            ORDER BY m.joined_at, m.user_id
            """, [.integer(roomID)]
        ).map { row in
            RoomMemberDetailsRecord(
                member: try Self.decodeMember(row, at: 0),
                user: try SocialUserColumns.decode(row, at: Self.memberColumnNames.count))
        }
    }

    /// One member with their user row.
    /// Every room the user is a member of, direct and group, with the seq of its newest message.
    public func roomSeqs(userID: Int64, _ db: Database) throws -> [(roomID: Int64, lastSeq: Int64)] {
        try db.query(
            "SELECT m.room_id, r.last_seq FROM room_members m JOIN rooms r ON r.id = m.room_id WHERE m.user_id = ?",
            [.integer(userID)]
        ).map {
            let reader = RowReader(row: $0, table: "rooms")
            return (try reader.integer(0), try reader.integer(1))
        }
    }

    /// The ids of the room's members.
    public func memberIDs(roomID: Int64, _ db: Database) throws -> [Int64] {
        try db.query("SELECT user_id FROM room_members WHERE room_id = ?", [.integer(roomID)])
            .map { try RowReader(row: $0, table: "room_members").integer(0) }
    }

    /// The user's memberships in group rooms (not direct ones), oldest room first.
    public func groupMemberships(userID: Int64, _ db: Database) throws -> [RoomMemberRecord] {
        try db.query(
            """
            SELECT \(Self.memberColumns("m")) FROM room_members m JOIN rooms r ON r.id = m.room_id
            WHERE m.user_id = ? AND r.kind = 'group' ORDER BY m.room_id
            """, [.integer(userID)]
        ).map { try Self.decodeMember($0, at: 0) }
    }

    public func memberDetails(roomID: Int64, userID: Int64, _ db: Database) throws -> RoomMemberDetailsRecord? {
        try db.queryOne(
            """
            SELECT \(Self.memberColumns("m")), \(SocialUserColumns.list("u"))
            FROM room_members m JOIN users u ON u.id = m.user_id
            WHERE m.room_id = ? AND m.user_id = ?
            """, [.integer(roomID), .integer(userID)]
        ).map { row in
            RoomMemberDetailsRecord(
                member: try Self.decodeMember(row, at: 0),
                user: try SocialUserColumns.decode(row, at: Self.memberColumnNames.count))
        }
    }

    @discardableResult
    public func deleteMember(roomID: Int64, userID: Int64, _ db: Database) throws -> Bool {
        try db.run("DELETE FROM room_members WHERE room_id = ? AND user_id = ?", [.integer(roomID), .integer(userID)])
            == 1
    }

    /// Changes a member's role; returns the updated member, or nil if there is no such member. Making a
    /// second owner violates the `room_members_owner` index: demote the owner first.
    @discardableResult
    public func setRole(
        roomID: Int64, userID: Int64, role: RoomMemberRecord.Role, _ db: Database
    ) throws -> RoomMemberRecord? {
        try db.queryOne(
            """
            UPDATE room_members SET role = ?3 WHERE room_id = ?1 AND user_id = ?2
            RETURNING \(Self.memberColumnNames.joined(separator: ", "))
            """, [.integer(roomID), .integer(userID), .text(role.rawValue)]
        ).map { try Self.decodeMember($0, at: 0) }
    }

    /// Who inherits the room when its owner leaves: the admin who joined first, else the member who
    /// joined first (ties by smaller id), other than `excluding`. Nil if nobody else is left.
    public func successor(roomID: Int64, excluding userID: Int64, _ db: Database) throws -> RoomMemberRecord? {
        try db.queryOne(
            """
            SELECT \(Self.memberColumns("m")) FROM room_members m
            WHERE m.room_id = ?1 AND m.user_id <> ?2
            ORDER BY m.role <> 'admin', m.joined_at, m.user_id
            LIMIT 1
            """, [.integer(roomID), .integer(userID)]
        ).map { try Self.decodeMember($0, at: 0) }
    }

    static func decodeMember(_ row: Row, at offset: Int) throws -> RoomMemberRecord {
        let reader = RowReader(row: row, table: "room_members")
        guard let role = RoomMemberRecord.Role(rawValue: try reader.text(offset + 2)) else {
            throw AccountStoreError.corruptRow(table: "room_members", column: "role")
        }
        return RoomMemberRecord(
            roomID: try reader.integer(offset), userID: try reader.integer(offset + 1), role: role,
            joinedAt: try reader.integer(offset + 3), lastReadSeq: try reader.integer(offset + 4))
    }

    // MARK: Users, as rooms need them

    /// Of `userIDs`, those that exist, are neither deleted nor disabled, and have not blocked `actorID`:
    /// the users `actorID` may put in a room. In one statement; order and duplicates are not kept.
    public func addableUsers(_ userIDs: [Int64], by actorID: Int64, _ db: Database) throws -> [UserRecord] {
        guard !userIDs.isEmpty else { return [] }
        return try db.query(
            """
            SELECT \(SocialUserColumns.list("u")) FROM users u
            WHERE u.id IN (SELECT value FROM json_each(?1))
              AND u.deleted_at IS NULL AND u.is_disabled = 0
              AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = u.id AND b.blocked_id = ?2)
            """, [.text(Self.jsonArray(userIDs)), .integer(actorID)]
        ).map { try SocialUserColumns.decode($0, at: 0) }
    }

    /// The users of `userIDs` that exist, whatever their state, in one statement.
    public func users(_ userIDs: [Int64], _ db: Database) throws -> [UserRecord] {
        guard !userIDs.isEmpty else { return [] }
        return try db.query(
            "SELECT \(SocialUserColumns.list("u")) FROM users u WHERE u.id IN (SELECT value FROM json_each(?1))",
            [.text(Self.jsonArray(userIDs))]
        ).map { try SocialUserColumns.decode($0, at: 0) }
    }

    static func jsonArray(_ ids: [Int64]) -> String {
        "[" + ids.map(String.init).joined(separator: ",") + "]"
    }
}
