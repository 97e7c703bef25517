import Foundation
import Testing

@testable import Storage

/// The message statements against the real schema (every migration of the repository). Rooms and members
/// are plain rows written by the helpers below, so these tests depend on the rooms schema only.
@Suite struct MessageStoreTests {
    private let store = MessageStore()
    private static let migrations = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("migrations").path

    private func withStore(_ body: (Database) throws -> Void) throws {
        try withTemporaryDirectory { directory in
            let db = try Database(configuration: configuration(in: directory))
            try Migrator(directory: Self.migrations).up(db)
            try body(db)
        }
    }

    // MARK: Fixture rows

    private func user(_ name: String, _ db: Database) throws -> Int64 {
        try AccountStore().insertUser(
            NewUserRecord(
                username: name, email: "\(name)@example.com", displayName: name, passwordHash: "hash", createdAt: 1),
            db
        ).id
    }

    /// A group room with these members (the first one its owner), created at time 1.
    private func room(_ members: [Int64], _ db: Database) throws -> Int64 {
        let id = try #require(
            try db.queryOne(
                """
                INSERT INTO rooms (kind, name, created_at, updated_at, last_activity_at)
                VALUES ('group', 'r', 1, 1, 1) RETURNING id
                """
            )?[0].int64)
        for (index, member) in members.enumerated() {
            try db.run(
                "INSERT INTO room_members (room_id, user_id, role, joined_at) VALUES (?, ?, ?, 1)",
                [.integer(id), .integer(member), .text(index == 0 ? "owner" : "member")])
        }
        return id
    }

    @discardableResult
    private func send(
        _ content: String, in roomID: Int64, by senderID: Int64, key: String? = nil, at time: Int64 = 100,
        _ db: Database
    ) throws -> MessageRecord {
        try store.appendUserMessage(
            NewMessageRecord(
                roomID: roomID, senderID: senderID, content: content, mimeType: "text/plain", clientMessageID: key,
                createdAt: time), db
        ).message
    }

    private func roomState(_ roomID: Int64, _ db: Database) throws -> (lastSeq: Int64, lastActivityAt: Int64) {
        let row = try #require(
            try db.queryOne("SELECT last_seq, last_activity_at FROM rooms WHERE id = ?", [.integer(roomID)]))
        return (row[0].int64 ?? -1, row[1].int64 ?? -1)
    }

    private func lastReadSeq(_ roomID: Int64, _ userID: Int64, _ db: Database) throws -> Int64? {
        try db.queryOne(
            "SELECT last_read_seq FROM room_members WHERE room_id = ? AND user_id = ?",
            [.integer(roomID), .integer(userID)])?[0].int64
    }

    private func search(
        _ query: String, as userID: Int64, in roomID: Int64? = nil, before: Int64? = nil, limit: Int = 50,
        _ db: Database
    ) throws -> [Int64] {
        try store.search(
            terms: query.split(separator: " ").map(String.init), userID: userID, roomID: roomID, beforeID: before,
            limit: limit, db
        ).map(\.message.id)
    }

    /// The message ids the full-text index holds an entry for, read from the index itself.
    private func indexedIDs(_ db: Database) throws -> Set<Int64> {
        try db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_rows USING fts5vocab(main, messages_fts, 'instance')")
        return Set(try db.query("SELECT DISTINCT doc FROM temp.fts_rows").compactMap { $0[0].int64 })
    }

    // MARK: Schema

    @Test func theMigrationRevertsAndReappliesCleanly() throws {
        try withTemporaryDirectory { directory in
            let db = try Database(configuration: configuration(in: directory))
            let migrator = try Migrator(directory: Self.migrations)
            try migrator.up(db, to: 4)
            let alice = try user("alice", db)
            let roomID = try room([alice], db)
            try send("hello", in: roomID, by: alice, db)
            try migrator.down(db, steps: 1)
            let names = try db.query("SELECT name FROM sqlite_master WHERE name LIKE 'message%'").compactMap {
                $0[0].string
            }
            #expect(names.isEmpty)
            try migrator.up(db, to: 4)
            #expect(try count("messages", in: db) == 0)
            // The room kept its counter; the next message continues after it.
            #expect(try send("again", in: roomID, by: alice, db).seq == 2)
        }
    }

    // MARK: Appending

    @Test func userMessagesTakeConsecutiveSeqsAndMoveTheRoomAndTheSender() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            let roomID = try room([alice, bob], db)
            let first = try send("one", in: roomID, by: alice, at: 500, db)
            let second = try send("two", in: roomID, by: bob, at: 400, db)
            #expect(first.seq == 1 && second.seq == 2)
            #expect(second.id > first.id)
            #expect(try store.message(id: first.id, roomID: roomID, db) == first)
            #expect(first.kind == .user && first.senderID == alice && first.event == nil && !first.isDeleted)
            // The activity time never goes back, even when the clock does.
            #expect(try roomState(roomID, db) == (2, 500))
            #expect(try lastReadSeq(roomID, alice, db) == 1)
            #expect(try lastReadSeq(roomID, bob, db) == 2)
            // Seqs are per room.
            let other = try room([alice], db)
            #expect(try send("elsewhere", in: other, by: alice, db).seq == 1)
        }
    }

    @Test func systemMessagesTakeASeqKeepTheirEventAndMoveTheActor() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            let carol = try user("carol", db)
            let roomID = try room([alice, bob], db)
            let event = SystemEventRecord(type: "members_added", actorID: alice, userIDs: [bob, carol], detail: "x\"y")
            let record = try store.appendSystemMessage(
                roomID: roomID, event: event, content: "alice added bob and carol", now: 700, db)
            #expect(record.seq == 1 && record.kind == .system && record.senderID == nil)
            #expect(record.mimeType == "text/plain")
            #expect(try store.message(id: record.id, roomID: roomID, db) == record)
            #expect(try store.message(id: record.id, roomID: roomID, db)?.event == event)
            #expect(try roomState(roomID, db) == (1, 700))
            #expect(try lastReadSeq(roomID, alice, db) == 1)
            #expect(try lastReadSeq(roomID, bob, db) == 0)

            // No actor, or an actor who is not a member: nothing else moves.
            let left = try store.appendSystemMessage(
                roomID: roomID, event: SystemEventRecord(type: "member_left", actorID: carol, userIDs: [carol]),
                content: "carol left", now: 800, db)
            #expect(left.seq == 2 && left.event?.detail == nil)
            #expect(throws: MessageStoreError.roomNotFound) {
                try store.appendSystemMessage(
                    roomID: 9_999, event: SystemEventRecord(type: "room_created"), content: "x", now: 1, db)
            }
            // System messages are never indexed.
            #expect(try search("carol", as: alice, db).isEmpty)
        }
    }

    @Test func nonMembersCannotAppendAndConsumeNoSeq() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let mallory = try user("mallory", db)
            let roomID = try room([alice], db)
            #expect(throws: MessageStoreError.notMember) { try send("hi", in: roomID, by: mallory, db) }
            #expect(throws: MessageStoreError.notMember) { try send("hi", in: 9_999, by: alice, db) }
            #expect(try roomState(roomID, db).lastSeq == 0)
            #expect(try count("messages", in: db) == 0)
        }
    }

    @Test func aClientMessageIDMakesSendingIdempotentPerSenderAndRoom() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            let roomID = try room([alice, bob], db)
            let first = try store.appendUserMessage(
                NewMessageRecord(
                    roomID: roomID, senderID: alice, content: "hello", mimeType: "text/plain", clientMessageID: "k1",
                    createdAt: 100), db)
            #expect(!first.duplicate && first.message.clientMessageID == "k1")
            let again = try store.appendUserMessage(
                NewMessageRecord(
                    roomID: roomID, senderID: alice, content: "different", mimeType: "text/markdown",
                    clientMessageID: "k1", createdAt: 200), db)
            #expect(again.duplicate && again.message == first.message)
            #expect(try roomState(roomID, db).lastSeq == 1)
            // The same key from another sender, or in another room, is another message.
            #expect(try send("hello", in: roomID, by: bob, key: "k1", db).seq == 2)
            let other = try room([alice], db)
            #expect(try send("hello", in: other, by: alice, key: "k1", db).seq == 1)
        }
    }

    @Test func aFailedJobGivesItsSeqBack() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let roomID = try room([alice], db)
            try db.transaction { db in
                try send("one", in: roomID, by: alice, db)
                // As a writer job does: the savepoint fails after the append, which is rolled back with it.
                #expect(throws: TestError(id: 1)) {
                    try db.savepoint { db in
                        #expect(try send("lost", in: roomID, by: alice, db).seq == 2)
                        throw TestError(id: 1)
                    }
                }
                #expect(try send("two", in: roomID, by: alice, db).seq == 2)
            }
            let seqs = try store.history(roomID: roomID, from: .after(0), limit: 10, db).map(\.seq)
            #expect(seqs == [1, 2])
            #expect(try search("lost", as: alice, db).isEmpty)
        }
    }

    // MARK: History

    @Test func historyPagesByAnchor() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let roomID = try room([alice], db)
            for index in 1...7 {
                try send("m\(index)", in: roomID, by: alice, db)
            }
            try send("other room", in: try room([alice], db), by: alice, db)
            #expect(try store.history(roomID: roomID, from: .newest, limit: 3, db).map(\.seq) == [7, 6, 5])
            #expect(try store.history(roomID: roomID, from: .before(5), limit: 3, db).map(\.seq) == [4, 3, 2])
            #expect(try store.history(roomID: roomID, from: .before(2), limit: 3, db).map(\.seq) == [1])
            #expect(try store.history(roomID: roomID, from: .after(0), limit: 3, db).map(\.seq) == [1, 2, 3])
            #expect(try store.history(roomID: roomID, from: .after(5), limit: 3, db).map(\.seq) == [6, 7])
            #expect(try store.history(roomID: roomID, from: .after(7), limit: 3, db).isEmpty)
            #expect(try store.history(roomID: roomID, from: .newest, limit: 0, db).isEmpty)
            #expect(try store.history(roomID: 9_999, from: .newest, limit: 3, db).isEmpty)
        }
    }

    @Test func historyUsesTheRoomSeqIndex() throws {
        try withStore { db in
            let plan = try db.query(
                """
                EXPLAIN QUERY PLAN
                SELECT \(MessageStore.columns()) FROM messages WHERE room_id = 1 AND seq < 9 ORDER BY seq DESC LIMIT 5
                """
            ).compactMap { $0["detail"].string }.joined(separator: "; ")
            #expect(plan.contains("USING INDEX"))
            #expect(!plan.contains("TEMP B-TREE"))
        }
    }

    @Test func lastMessagesAreTheNewestOfEachOfTheViewersRooms() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            let shared = try room([alice, bob], db)
            let alone = try room([alice], db)
            let empty = try room([alice], db)
            let bobs = try room([bob], db)
            try send("first", in: shared, by: alice, db)
            let newest = try send("second", in: shared, by: bob, db)
            let system = try store.appendSystemMessage(
                roomID: alone, event: SystemEventRecord(type: "room_created", actorID: alice), content: "created",
                now: 100, db)
            try send("bob's", in: bobs, by: bob, db)
            let last = try store.lastMessages(roomIDs: [shared, alone, empty, bobs, 9_999], userID: alice, db)
            #expect(last == [shared: newest, alone: system])
            #expect(try store.lastMessages(roomIDs: [], userID: alice, db).isEmpty)
        }
    }

    // MARK: Editing and deleting

    @Test func editingReplacesTheTextAndReindexesIt() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let roomID = try room([alice], db)
            let original = try send("the quick brown fox", in: roomID, by: alice, db)
            let edited = try #require(
                try store.editMessage(id: original.id, content: "the lazy brown dog", now: 900, db))
            #expect(edited.content == "the lazy brown dog" && edited.editedAt == 900 && edited.seq == original.seq)
            #expect(try search("quick", as: alice, db).isEmpty)
            #expect(try search("lazy", as: alice, db) == [original.id])
            // A word in both versions stays indexed.
            #expect(try search("brown", as: alice, db) == [original.id])

            let system = try store.appendSystemMessage(
                roomID: roomID, event: SystemEventRecord(type: "room_renamed"), content: "renamed", now: 1, db)
            #expect(try store.editMessage(id: system.id, content: "x", now: 1, db) == nil)
            #expect(try store.editMessage(id: 9_999, content: "x", now: 1, db) == nil)
        }
    }

    @Test func deletingLeavesATombstoneWithoutReactionsOrIndexEntry() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            let roomID = try room([alice, bob], db)
            let message = try send("secret plans", in: roomID, by: alice, key: "k", db)
            try store.addReaction(messageID: message.id, userID: bob, emoji: "👍", now: 1, db)
            let tombstone = try #require(try store.deleteMessage(id: message.id, now: 950, db))
            #expect(tombstone.isDeleted && tombstone.deletedAt == 950 && tombstone.content.isEmpty)
            #expect(tombstone.id == message.id && tombstone.seq == message.seq && tombstone.senderID == alice)
            #expect(tombstone.createdAt == message.createdAt && tombstone.clientMessageID == "k")
            #expect(try store.reactionCounts(messageIDs: [message.id], viewerID: bob, db).isEmpty)
            #expect(try search("secret", as: alice, db).isEmpty)
            // Deleted once only; a tombstone cannot be edited.
            #expect(try store.deleteMessage(id: message.id, now: 960, db) == nil)
            #expect(try store.editMessage(id: message.id, content: "secret again", now: 970, db) == nil)
            #expect(try search("secret", as: alice, db).isEmpty)
            #expect(try store.history(roomID: roomID, from: .newest, limit: 5, db) == [tombstone])
        }
    }

    // MARK: Reactions

    @Test func reactionsAreCountedPerEmojiWithTheViewer() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            let carol = try user("carol", db)
            let roomID = try room([alice, bob, carol], db)
            let first = try send("one", in: roomID, by: alice, db)
            let second = try send("two", in: roomID, by: alice, db)
            let third = try send("three", in: roomID, by: alice, db)
            #expect(try store.addReaction(messageID: first.id, userID: bob, emoji: "🎉", now: 10, db))
            #expect(try store.addReaction(messageID: first.id, userID: carol, emoji: "👍", now: 20, db))
            #expect(try store.addReaction(messageID: first.id, userID: alice, emoji: "🎉", now: 30, db))
            #expect(try !store.addReaction(messageID: first.id, userID: alice, emoji: "🎉", now: 40, db))
            #expect(try store.addReaction(messageID: second.id, userID: carol, emoji: "👍", now: 50, db))

            let counts = try store.reactionCounts(messageIDs: [first.id, second.id, third.id], viewerID: alice, db)
            #expect(
                counts == [
                    ReactionCountRecord(messageID: first.id, emoji: "🎉", count: 2, includesViewer: true),
                    ReactionCountRecord(messageID: first.id, emoji: "👍", count: 1, includesViewer: false),
                    ReactionCountRecord(messageID: second.id, emoji: "👍", count: 1, includesViewer: false),
                ])

            #expect(try store.removeReaction(messageID: first.id, userID: alice, emoji: "🎉", db))
            #expect(try !store.removeReaction(messageID: first.id, userID: alice, emoji: "🎉", db))
            #expect(
                try store.reactionCounts(messageIDs: [first.id], viewerID: alice, db).map(\.count) == [1, 1])
            #expect(try store.reactionCounts(messageIDs: [], viewerID: alice, db).isEmpty)
        }
    }

    // MARK: Read positions

    @Test func readPositionsMoveOnlyForwardAndStopAtTheNewestSeq() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            let mallory = try user("mallory", db)
            let roomID = try room([alice, bob], db)
            for index in 1...5 {
                try send("m\(index)", in: roomID, by: alice, db)
            }
            #expect(
                try store.markRead(roomID: roomID, userID: bob, seq: 3, db)
                    == ReadStateRecord(roomID: roomID, userID: bob, lastReadSeq: 3, lastSeq: 5))
            #expect(try store.markRead(roomID: roomID, userID: bob, seq: 2, db)?.lastReadSeq == 3)
            let clamped = try #require(try store.markRead(roomID: roomID, userID: bob, seq: 1_000, db))
            #expect(clamped.lastReadSeq == 5 && clamped.unreadCount == 0)
            #expect(try store.markRead(roomID: roomID, userID: mallory, seq: 1, db) == nil)
            #expect(try store.readState(roomID: roomID, userID: mallory, db) == nil)

            try send("m6", in: roomID, by: alice, db)
            #expect(try store.readState(roomID: roomID, userID: bob, db)?.unreadCount == 1)
            #expect(
                try store.readStates(roomID: roomID, db).map { [$0.userID, $0.lastReadSeq] } == [
                    [alice, 6], [bob, 5],
                ]
            )
        }
    }

    @Test func readStatesOfAUserCoverEveryRoomMostRecentFirst() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            let quiet = try room([bob, alice], db)
            let busy = try room([bob, alice], db)
            let bobsOwn = try room([bob], db)
            try send("a", in: quiet, by: bob, at: 100, db)
            for _ in 1...3 {
                try send("b", in: busy, by: bob, at: 200, db)
            }
            try send("c", in: busy, by: alice, at: 300, db)
            try send("d", in: busy, by: bob, at: 400, db)
            try send("e", in: bobsOwn, by: bob, at: 500, db)
            let states = try store.readStates(userID: alice, db)
            #expect(states.map(\.roomID) == [busy, quiet])
            #expect(states.map(\.unreadCount) == [1, 1])
            #expect(states.map(\.lastReadSeq) == [4, 0])
            #expect(states.map(\.lastSeq) == [5, 1])
        }
    }

    // MARK: Search

    @Test func searchFindsWordsRegardlessOfCaseAndDiacritics() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let roomID = try room([alice], db)
            let cafe = try send("Meet at the Café Crème, bring the crème brûlée", in: roomID, by: alice, db)
            let other = try send("Nothing to see here", in: roomID, by: alice, db)
            #expect(try search("cafe", as: alice, db) == [cafe.id])
            #expect(try search("CAFÉ creme", as: alice, db) == [cafe.id])
            #expect(try search("brulee", as: alice, db) == [cafe.id])
            // Every word must occur.
            #expect(try search("cafe nothing", as: alice, db).isEmpty)
            #expect(try search("see", as: alice, db) == [other.id])
            let hit = try #require(
                try store.search(terms: ["creme"], userID: alice, roomID: nil, beforeID: nil, limit: 5, db).first)
            let open = String(MessageStore.snippetOpen)
            let close = String(MessageStore.snippetClose)
            #expect(hit.snippet.contains("\(open)Crème\(close)") && hit.snippet.contains("\(open)crème\(close)"))
            #expect(hit.message == cafe)
        }
    }

    @Test func searchOnlyLooksInTheViewersRoomsNewestFirstInPages() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            let shared = try room([alice, bob], db)
            let alicesOwn = try room([alice], db)
            let bobsOwn = try room([bob], db)
            var sharedIDs: [Int64] = []
            for index in 1...5 {
                sharedIDs.append(try send("report \(index)", in: shared, by: bob, db).id)
            }
            let own = try send("report mine", in: alicesOwn, by: alice, db)
            try send("report hidden", in: bobsOwn, by: bob, db)

            let all = try search("report", as: alice, db)
            #expect(all == [own.id] + sharedIDs.reversed())
            #expect(try search("report", as: alice, in: shared, db) == sharedIDs.reversed())
            #expect(try search("hidden", as: alice, db).isEmpty)
            #expect(try search("report", as: alice, in: bobsOwn, db).isEmpty)

            // Keyset pages: below the last id of the previous page, with nothing skipped or repeated.
            var pages: [Int64] = []
            var before: Int64?
            while true {
                let page = try search("report", as: alice, before: before, limit: 2, db)
                if page.isEmpty { break }
                pages += page
                before = page.last
            }
            #expect(pages == all)
        }
    }

    @Test func searchTreatsQuerySyntaxAsPlainText() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let roomID = try room([alice], db)
            let both = try send("foo OR bar", in: roomID, by: alice, db)
            let onlyFoo = try send("foo alone", in: roomID, by: alice, db)
            let near = try send("NEAR the e-mail (draft)", in: roomID, by: alice, db)
            // As FTS5 syntax, `foo OR bar` would also find the message without "or" and "bar".
            #expect(try search("foo OR bar", as: alice, db) == [both.id])
            #expect(try search("foo", as: alice, db) == [onlyFoo.id, both.id])
            #expect(try search("e-mail", as: alice, db) == [near.id])
            #expect(try search("NEAR(", as: alice, db) == [near.id])
            #expect(try search("draft)", as: alice, db) == [near.id])
            let hostile = [
                "\"", "\"foo", "foo\"", "*", "fo*", "^foo", "NEAR(foo bar)", "content:foo", "{content}:foo",
                "foo AND", "NOT", "(", ")", "-foo", "+", ":", "'", "\\", "foo\u{0}bar", "\u{1}", "AND OR NOT",
                "\"\"\"", "foo\"bar", "col : foo", "NEAR(\"foo\" \"bar\", 2)",
            ]
            for query in hostile {
                // Never an SQLite error, whatever the text.
                _ = try store.search(terms: [query], userID: alice, roomID: nil, beforeID: nil, limit: 10, db)
                _ = try store.search(
                    terms: query.split(separator: " ").map(String.init), userID: alice, roomID: nil, beforeID: nil,
                    limit: 10, db)
            }
            // Text without words matches nothing (instead of everything or an error).
            #expect(
                try store.search(terms: ["*", "\""], userID: alice, roomID: nil, beforeID: nil, limit: 10, db).isEmpty)
            // `fo*` is not a prefix query: it is the word "fo".
            #expect(try search("fo*", as: alice, db).isEmpty)
        }
    }

    @Test func theMatchExpressionQuotesEveryTerm() {
        #expect(MessageStore.matchExpression(terms: ["foo", "OR", "bar"]) == "\"foo\" \"OR\" \"bar\"")
        #expect(MessageStore.matchExpression(terms: ["a\"b"]) == "\"a\"\"b\"")
        #expect(MessageStore.matchExpression(terms: ["NEAR(x"]) == "\"NEAR(x\"")
        #expect(MessageStore.matchExpression(terms: ["x\u{0}y\ty"]) == "\"x\" \"y\" \"y\"")
        #expect(MessageStore.matchExpression(terms: ["*", "\"", "()"]) == nil)
        #expect(MessageStore.matchExpression(terms: []) == nil)
        #expect(MessageStore.matchExpression(terms: ["Ünïcödé"]) == "\"Ünïcödé\"")
    }

    @Test func searchReadsTheIndexInIdOrder() throws {
        try withStore { db in
            let plan = try db.query(
                """
                EXPLAIN QUERY PLAN
                SELECT m.id FROM messages_fts
                JOIN messages m ON m.id = messages_fts.rowid
                JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = 1
                WHERE messages_fts MATCH '"x"' AND messages_fts.rowid < 10 AND (NULL IS NULL OR m.room_id = NULL)
                  AND m.kind = 'user' AND m.deleted_at IS NULL
                ORDER BY messages_fts.rowid DESC LIMIT 5
                """
            ).compactMap { $0["detail"].string }
            #expect(plan.first?.contains("VIRTUAL TABLE") == true)
            #expect(!plan.joined().contains("TEMP B-TREE"))
        }
    }

    // MARK: Consistency of the index

    @Test func theIndexHoldsExactlyTheLiveUserMessagesThroughEveryChange() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            let kept = try room([alice, bob], db)
            let doomed = try room([alice], db)
            var live: Set<Int64> = []
            for index in 0..<30 {
                let target = index % 3 == 0 ? doomed : kept
                let message = try send("word\(index) common", in: target, by: alice, db)
                live.insert(message.id)
                if index % 5 == 0 {
                    _ = try store.appendSystemMessage(
                        roomID: target, event: SystemEventRecord(type: "topic_changed"), content: "common topic",
                        now: 1, db)
                }
                if index % 4 == 1 {
                    _ = try store.editMessage(id: message.id, content: "edited\(index) common", now: 2, db)
                }
                if index % 7 == 2 {
                    _ = try store.deleteMessage(id: message.id, now: 3, db)
                    live.remove(message.id)
                }
            }
            #expect(try indexedIDs(db) == live)
            let common = Set(try search("common", as: alice, db))
            #expect(common == live)

            // Deleting a room (as the rooms layer does) takes its messages, reactions and index entries along.
            let doomedIDs = Set(try store.history(roomID: doomed, from: .after(0), limit: 100, db).map(\.id))
            if let some = doomedIDs.first {
                try store.addReaction(messageID: some, userID: alice, emoji: "x", now: 1, db)
            }
            try db.run("DELETE FROM rooms WHERE id = ?", [.integer(doomed)])
            live.subtract(doomedIDs)
            #expect(try indexedIDs(db) == live)
            #expect(Set(try search("common", as: alice, db)) == live)
            #expect(try count("message_reactions", in: db) == 0)

            // Ids are never reused, even those of the deleted room's newest messages.
            let next = try send("after", in: kept, by: alice, db)
            #expect(next.id > (doomedIDs.max() ?? 0))
        }
    }

    @Test func aCorruptEventIsReportedNotTrapped() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let roomID = try room([alice], db)
            let record = try store.appendSystemMessage(
                roomID: roomID, event: SystemEventRecord(type: "room_created"), content: "x", now: 1, db)
            try db.run("UPDATE messages SET event_json = '{not json' WHERE id = ?", [.integer(record.id)])
            #expect(throws: MessageStoreError.corruptRow(table: "messages", column: "event_json")) {
                try store.message(id: record.id, roomID: roomID, db)
            }
        }
    }
}
