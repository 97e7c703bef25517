import Storage

/// Random rooms and messages for `chat seed`: group rooms of 5–30 members drawn from the seeded users (the
/// first active user joins every room, so one account sees the whole data set), and messages of 3–20 words
/// from a small vocabulary, spread over rooms and senders at random, in chunks of one writer transaction.
public struct ChatSeeder: Sendable {
    private let writer: DatabaseWriter
    private let store = ChatSeedStore()
    private let clock: @Sendable () -> Int64

    public init(writer: DatabaseWriter, clock: @escaping @Sendable () -> Int64 = AccountService.systemClock) {
        self.writer = writer
        self.clock = clock
    }

    /// What was created, and the username that belongs to every room.
    public struct Summary: Sendable {
        public var rooms: Int
        public var messages: Int
        public var everywhereUserID: Int64?
    }

    private static let words = [
        "hello", "team", "lunch", "deploy", "review", "meeting", "coffee", "release", "bug", "fix", "design",
        "café", "weekend", "tomorrow", "today", "build", "test", "server", "client", "message", "room", "friends",
        "music", "plan", "idea", "question", "answer", "thanks", "great", "later", "now", "ship", "merge", "branch",
        "docs", "update", "welcome", "morning", "evening", "night", "schedule", "travel", "photo", "video",
    ]

    public func seed(rooms roomCount: Int, messages messageCount: Int) async throws -> Summary {
        var generator = SystemRandomNumberGenerator()
        let store = self.store
        let users = try await writer.write { db in try store.activeUserIDs(db) }
        guard let everywhere = users.first, roomCount > 0 else {
            return Summary(rooms: 0, messages: 0, everywhereUserID: users.first)
        }
        let now = clock()
        var seeds: [ChatSeedStore.RoomSeed] = []
        for index in 0..<roomCount {
            let size = min(users.count, Int.random(in: 5...30, using: &generator))
            var members = Set(users.shuffled(using: &generator).prefix(size))
            members.insert(everywhere)
            let owner = members.randomElement(using: &generator) ?? everywhere
            members.remove(owner)
            seeds.append(
                ChatSeedStore.RoomSeed(
                    name: "\(Self.words.randomElement(using: &generator) ?? "room") \(index + 1)", ownerID: owner,
                    memberIDs: Array(members)))
        }
        var roomIDs: [Int64] = []
        var roomMembers: [[Int64]] = []
        for chunk in stride(from: 0, to: seeds.count, by: 1000) {
            let part = Array(seeds[chunk..<min(seeds.count, chunk + 1000)])
            roomIDs += try await writer.write { db in try store.insertRooms(part, now: now, db) }
            roomMembers += part.map { [$0.ownerID] + $0.memberIDs }
        }
        var written = 0
        while written < messageCount {
            let count = min(10_000, messageCount - written)
            var batch: [ChatSeedStore.MessageSeed] = []
            batch.reserveCapacity(count)
            for offset in 0..<count {
                let room = Int.random(in: 0..<roomIDs.count, using: &generator)
                let wordCount = Int.random(in: 3...20, using: &generator)
                let content = (0..<wordCount).map { _ in Self.words.randomElement(using: &generator) ?? "" }
                    .joined(separator: " ")
                batch.append(
                    ChatSeedStore.MessageSeed(
                        roomID: roomIDs[room],
                        senderID: roomMembers[room].randomElement(using: &generator) ?? everywhere,
                        content: content, createdAt: now - Int64(messageCount - written - offset)))
            }
            let part = batch
            try await writer.write { db in try store.insertMessages(part, db) }
            written += count
        }
        return Summary(rooms: roomIDs.count, messages: written, everywhereUserID: everywhere)
    }
}
