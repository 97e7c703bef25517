import Storage
import Testing

@testable import ChatCore

/// Read positions, unread counts and search.
@Suite struct MessageServiceReadSearchTests {
    // MARK: Read positions

    @Test func markingReadMovesOnlyForwardAndIsClamped() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let bob = try await fixture.user("bob")
            let roomID = try await fixture.direct(alice, bob)
            for index in 1...6 {
                try await fixture.send("m\(index)", in: roomID, by: alice)
            }
            let service = fixture.service
            #expect(try await service.markRead(roomID: roomID, userID: bob, seq: 4) == (4, 2))
            #expect(try await service.markRead(roomID: roomID, userID: bob, seq: 2) == (4, 2))
            #expect(try await service.markRead(roomID: roomID, userID: bob, seq: 0) == (4, 2))
            #expect(try await service.markRead(roomID: roomID, userID: bob, seq: 999) == (6, 0))
            #expect(try await service.markRead(roomID: roomID, userID: bob, seq: Int64.max) == (6, 0))
            #expect(
                await messageError { try await service.markRead(roomID: roomID, userID: bob, seq: -1) }
                    == .validation(["seq": "must be zero or more"]))
            try await fixture.send("m7", in: roomID, by: alice)
            #expect(try await service.markRead(roomID: roomID, userID: bob, seq: 5) == (6, 1))
            #expect(
                try await service.receipts(roomID: roomID, userID: bob)
                    == [ReadReceipt(userID: alice, lastReadSeq: 7), ReadReceipt(userID: bob, lastReadSeq: 6)])
        }
    }

    @Test func unreadCountsCoverEveryRoomOfTheCaller() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let bob = try await fixture.user("bob")
            let carol = try await fixture.user("carol")
            let first = try await fixture.direct(bob, alice)
            let second = try await fixture.direct(alice, carol)
            let silent = try await fixture.direct(alice, try await fixture.user("dave"))
            let notMine = try await fixture.direct(bob, carol)
            for _ in 1...3 {
                try await fixture.send("from bob", in: first, by: bob)
            }
            fixture.clock.advance(seconds: 1)
            try await fixture.send("from carol", in: second, by: carol)
            try await fixture.send("mine", in: second, by: alice)
            try await fixture.send("from carol again", in: second, by: carol)
            try await fixture.send("elsewhere", in: notMine, by: bob)
            // A system message counts like any other (the actor has read it).
            fixture.clock.advance(seconds: 1)
            try await fixture.systemMessage(first, actor: bob, content: "bob renamed the room")

            let unread = try await fixture.service.unread(userID: alice)
            #expect(
                unread.rooms == [
                    UnreadEntry(roomID: first, unreadCount: 4, lastReadSeq: 0, lastSeq: 4),
                    UnreadEntry(roomID: second, unreadCount: 1, lastReadSeq: 2, lastSeq: 3),
                    UnreadEntry(roomID: silent, unreadCount: 0, lastReadSeq: 0, lastSeq: 0),
                ])
            #expect(unread.total == 5)
            _ = try await fixture.service.markRead(roomID: first, userID: alice, seq: 4)
            #expect(try await fixture.service.unread(userID: alice).total == 1)
            #expect(try await fixture.service.unread(userID: bob).total == 0)
        }
    }

    // MARK: Search

    @Test func searchFindsWordsInTheCallersRoomsWithMarkedEscapedSnippets() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let bob = try await fixture.user("bob")
            let shared = try await fixture.group(owner: alice, members: [bob])
            let bobsOwn = try await fixture.group(owner: bob)
            let found = try await fixture.send("Rendez-vous au Café <b>Zoë</b> & co", in: shared, by: bob)
            try await fixture.send("Café for bob only", in: bobsOwn, by: bob)
            try await fixture.systemMessage(shared, actor: alice, content: "alice renamed the room to café")

            let results = try await fixture.service.search(userID: alice, query: "  cafe   ZOE ")
            #expect(results.results.map(\.message.id) == [found.id])
            #expect(results.nextCursor == nil)
            let snippet = try #require(results.results.first?.snippet)
            #expect(snippet == "Rendez-vous au <mark>Café</mark> &lt;b&gt;<mark>Zoë</mark>&lt;/b&gt; &amp; co")
            #expect(results.results.first?.message == found)

            #expect(try await fixture.service.search(userID: bob, query: "café").results.count == 2)
            #expect(try await fixture.service.search(userID: bob, query: "café", roomID: bobsOwn).results.count == 1)
            #expect(
                await messageError { try await fixture.service.search(userID: alice, query: "café", roomID: bobsOwn) }
                    == .notFound)
        }
    }

    @Test func deletedAndEditedMessagesLeaveAndReenterTheIndex() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let roomID = try await fixture.group(owner: alice)
            let message = try await fixture.send("original wording", in: roomID, by: alice)
            let service = fixture.service
            _ = try await service.edit(roomID: roomID, messageID: message.id, userID: alice, content: "revised wording")
            #expect(try await service.search(userID: alice, query: "original").results.isEmpty)
            #expect(try await service.search(userID: alice, query: "revised").results.map(\.message.id) == [message.id])
            #expect(try await service.search(userID: alice, query: "wording").results.first?.message.editedAt != nil)
            _ = try await service.delete(roomID: roomID, messageID: message.id, userID: alice)
            #expect(try await service.search(userID: alice, query: "wording").results.isEmpty)
            // A deleted room's messages are gone from search too.
            let doomed = try await fixture.group(owner: alice)
            try await fixture.send("doomed wording", in: doomed, by: alice)
            try await fixture.deleteRoom(doomed, by: alice)
            #expect(try await service.search(userID: alice, query: "wording").results.isEmpty)
        }
    }

    @Test func queriesAreWordsNeverSearchSyntax() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let roomID = try await fixture.group(owner: alice)
            let both = try await fixture.send("foo or bar", in: roomID, by: alice)
            try await fixture.send("foo alone", in: roomID, by: alice)
            try await fixture.send("bar alone", in: roomID, by: alice)
            let service = fixture.service
            #expect(try await service.search(userID: alice, query: "foo OR bar").results.map(\.message.id) == [both.id])
            let hostile = [
                "\"", "foo\"", "*", "foo*", "NEAR(", "NEAR(foo bar, 1)", "foo AND", "NOT foo", "(foo", "foo)",
                "content:foo", "{content}: foo", "^foo", "-foo", "\"foo\" OR \"bar\"", "'", "foo\u{0}", "\u{1}\u{2}",
            ]
            for query in hostile {
                do {
                    _ = try await service.search(userID: alice, query: query)
                } catch {
                    Issue.record("\(query.debugDescription) failed: \(error)")
                }
            }
            #expect(try await service.search(userID: alice, query: "*").results.isEmpty)
        }
    }

    @Test func searchValidatesTheQueryAndTheCursor() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let service = fixture.service
            for query in ["", "   ", "\n\t"] {
                #expect(
                    await messageError { try await service.search(userID: alice, query: query) }
                        == .validation(["q": "must not be empty"]))
            }
            #expect(
                await messageError {
                    try await service.search(userID: alice, query: String(repeating: "a", count: 1_001))
                } == .validation(["q": "must be at most 1000 characters"]))
            // Long but within bounds: a search like any other.
            #expect(
                try await service.search(userID: alice, query: String(repeating: "fox", count: 200)).results.isEmpty)
            for cursor in ["abc", "-5", "0", "1.5", "99999999999999999999", " 7"] {
                #expect(
                    await messageError { try await service.search(userID: alice, query: "x", cursor: cursor) }
                        == .validation(["cursor": "is not a valid cursor"]), "\(cursor)")
            }
            #expect(try await service.search(userID: alice, query: "x", cursor: "").results.isEmpty)
        }
    }

    @Test func searchPagesNewestFirstWithACursor() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let bob = try await fixture.user("bob")
            let first = try await fixture.group(owner: alice, members: [bob])
            let second = try await fixture.group(owner: bob, members: [alice])
            var ids: [Int64] = []
            for index in 0..<7 {
                ids.append(try await fixture.send("needle \(index)", in: index % 2 == 0 ? first : second, by: bob).id)
                try await fixture.send("hay \(index)", in: first, by: bob)
            }
            var collected: [Int64] = []
            var cursor: String?
            repeat {
                let page = try await fixture.service.search(userID: alice, query: "needle", limit: 3, cursor: cursor)
                #expect(page.results.count <= 3)
                collected += page.results.map(\.message.id)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(collected == ids.reversed())
            // The limit is clamped, not refused.
            #expect(try await fixture.service.search(userID: alice, query: "needle", limit: 0).results.count == 1)
            #expect(try await fixture.service.search(userID: alice, query: "needle", limit: 500).results.count == 7)
        }
    }
}
