/// Bulk inserts for `chat seed`: demo and benchmark data, written in large chunks with reused prepared
/// statements. Message seqs are assigned here in memory, per room, and `rooms.last_seq` is set once per chunk;
/// that is only safe because seeding runs while nothing else writes (the seed command owns the database).
/// FTS rows come from the `messages` triggers like any other insert.
public struct ChatSeedStore: Sendable {
    public init() {}

    /// Ids of users who can be seeded into rooms (not deleted, not disabled), oldest first.
    public func activeUserIDs(_ db: Database) throws -> [Int64] {
        try db.query("SELECT id FROM users WHERE deleted_at IS NULL AND is_disabled = 0 ORDER BY id").compactMap {
            $0[0].int64
        }
    }

    /// One seeded group room: its name, owner and other members.
    public struct RoomSeed: Sendable {
        public var name: String
        public var ownerID: Int64
        public var memberIDs: [Int64]

        public init(name: String, ownerID: Int64, memberIDs: [Int64]) {
            self.name = name
            self.ownerID = ownerID
            self.memberIDs = memberIDs
        }
    }

    /// Inserts group rooms with their members; returns the new room ids in order.
    public func insertRooms(_ rooms: [RoomSeed], now: Int64, _ db: Database) throws -> [Int64] {
        let room = try db.cachedStatement(
            """
            INSERT INTO rooms (kind, name, topic, created_by, created_at, updated_at, last_activity_at)
            VALUES ('group', ?, '', ?, ?, ?, ?)
            """)
        let member = try db.cachedStatement(
            "INSERT OR IGNORE INTO room_members (room_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)")
        var ids: [Int64] = []
        ids.reserveCapacity(rooms.count)
        for seed in rooms {
            room.reset()
            try room.bind([.text(seed.name), .integer(seed.ownerID), .integer(now), .integer(now), .integer(now)])
            _ = try room.step()
            let id = db.lastInsertRowID
            ids.append(id)
            for (userID, role) in [(seed.ownerID, "owner")] + seed.memberIDs.map({ ($0, "member") }) {
                member.reset()
                try member.bind([.integer(id), .integer(userID), .text(role), .integer(now)])
                _ = try member.step()
            }
        }
        return ids
    }

    /// One seeded message.
    public struct MessageSeed: Sendable {
        public var roomID: Int64
        public var senderID: Int64
        public var content: String
        public var createdAt: Int64

        public init(roomID: Int64, senderID: Int64, content: String, createdAt: Int64) {
            self.roomID = roomID
            self.senderID = senderID
            self.content = content
            self.createdAt = createdAt
        }
    }

    /// Appends messages in order, continuing each room's seq, and moves `last_seq`/`last_activity_at`.
    public func insertMessages(_ messages: [MessageSeed], _ db: Database) throws {
        var nextSeq: [Int64: Int64] = [:]
        var lastActivity: [Int64: Int64] = [:]
        let current = try db.cachedStatement("SELECT last_seq FROM rooms WHERE id = ?")
        let insert = try db.cachedStatement(
            """
            INSERT INTO messages (room_id, seq, sender_id, kind, content, mime_type, created_at)
            VALUES (?, ?, ?, 'user', ?, 'text/plain', ?)
            """)
        for message in messages {
            let seq: Int64
            if let next = nextSeq[message.roomID] {
                seq = next
            } else {
                current.reset()
                try current.bind([.integer(message.roomID)])
                _ = try current.step()
                seq = current.int64(at: 0) + 1
            }
            nextSeq[message.roomID] = seq + 1
            lastActivity[message.roomID] = max(lastActivity[message.roomID] ?? 0, message.createdAt)
            insert.reset()
            try insert.bind([
                .integer(message.roomID), .integer(seq), .integer(message.senderID), .text(message.content),
                .integer(message.createdAt),
            ])
            _ = try insert.step()
        }
        let update = try db.cachedStatement(
            "UPDATE rooms SET last_seq = ?, last_activity_at = max(last_activity_at, ?) WHERE id = ?")
        for (roomID, next) in nextSeq {
            update.reset()
            try update.bind([.integer(next - 1), .integer(lastActivity[roomID] ?? 0), .integer(roomID)])
            _ = try update.step()
        }
    }
}
