import Storage
import Testing

@testable import ChatCore

/// History, edits, deletions and reactions.
@Suite struct MessageServiceTimelineTests {
    // MARK: History

    @Test func historyPagesInBothDirectionsAndClampsTheLimit() async throws {
        try await withMessages(policy: ChatPolicy(historyPageMax: 4)) { fixture in
            let alice = try await fixture.user("alice")
            let roomID = try await fixture.direct(alice, try await fixture.user("bob"))
            for index in 1...9 {
                try await fixture.send("m\(index)", in: roomID, by: alice)
            }
            let service = fixture.service
            let newest = try await service.history(roomID: roomID, userID: alice, limit: 3)
            #expect(newest.messages.map(\.seq) == [9, 8, 7] && newest.hasMore)
            #expect(newest.messages.map(\.content) == ["m9", "m8", "m7"])
            let older = try await service.history(roomID: roomID, userID: alice, beforeSeq: 3, limit: 3)
            #expect(older.messages.map(\.seq) == [2, 1] && !older.hasMore)
            let exact = try await service.history(roomID: roomID, userID: alice, beforeSeq: 4, limit: 3)
            #expect(exact.messages.map(\.seq) == [3, 2, 1] && !exact.hasMore)
            let newer = try await service.history(roomID: roomID, userID: alice, afterSeq: 5, limit: 3)
            #expect(newer.messages.map(\.seq) == [6, 7, 8] && newer.hasMore)
            let caughtUp = try await service.history(roomID: roomID, userID: alice, afterSeq: 9)
            #expect(caughtUp.messages.isEmpty && !caughtUp.hasMore)

            // Clamped to 1...historyPageMax, not refused.
            #expect(try await service.history(roomID: roomID, userID: alice, limit: 0).messages.map(\.seq) == [9])
            #expect(try await service.history(roomID: roomID, userID: alice, limit: -5).messages.count == 1)
            #expect(try await service.history(roomID: roomID, userID: alice, limit: 1_000).messages.count == 4)
            #expect(try await service.history(roomID: roomID, userID: alice).messages.count == 4)

            let both = await messageError {
                try await service.history(roomID: roomID, userID: alice, beforeSeq: 5, afterSeq: 2)
            }
            #expect(both == .validation(["before_seq": "cannot be combined with after_seq"]))
        }
    }

    @Test func pagingNeitherSkipsNorRepeatsWhileMessagesArrive() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let bob = try await fixture.user("bob")
            let roomID = try await fixture.direct(alice, bob)
            for index in 1...25 {
                try await fixture.send("old \(index)", in: roomID, by: bob)
            }
            let service = fixture.service

            // Backwards from the newest page, with three new messages between every two pages.
            var backwards: [Int64] = []
            var page = try await service.history(roomID: roomID, userID: alice, limit: 4)
            let top = try #require(page.messages.first?.seq)
            while true {
                backwards += page.messages.map(\.seq)
                for index in 0..<3 {
                    try await fixture.send("new \(index)", in: roomID, by: bob)
                }
                guard page.hasMore, let last = page.messages.last else { break }
                page = try await service.history(roomID: roomID, userID: alice, beforeSeq: last.seq, limit: 4)
            }
            #expect(backwards == Array((1...top).reversed()))

            // Forwards from what the first page showed: every message that arrived since, once, in order.
            var forwards: [Int64] = []
            var after = top
            while true {
                let next = try await service.history(roomID: roomID, userID: alice, afterSeq: after, limit: 4)
                forwards += next.messages.map(\.seq)
                if forwards.count < 6 {
                    try await fixture.send("newer", in: roomID, by: bob)
                }
                guard next.hasMore, let last = next.messages.last else { break }
                after = last.seq
            }
            let lastSeq = try fixture.lastSeq(roomID)
            #expect(forwards == Array((top + 1)...lastSeq))
        }
    }

    @Test func historyShowsSystemMessagesAndEachViewersReactions() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let bob = try await fixture.user("bob")
            let roomID = try await fixture.group(owner: alice, members: [bob])
            try await fixture.systemMessage(
                roomID, type: "room_renamed", actor: alice, content: "alice renamed the room")
            let message = try await fixture.send("vote here", in: roomID, by: alice)
            // Listed in the order each emoji was first used (ties, within a millisecond, by emoji).
            for (user, emoji) in [(alice, "👍"), (bob, "👍"), (bob, "🎉")] {
                fixture.clock.advance(milliseconds: 1)
                _ = try await fixture.service.react(roomID: roomID, messageID: message.id, userID: user, emoji: emoji)
            }

            let base = try fixture.lastSeq(roomID) - 2
            let seenByAlice = try await fixture.service.history(roomID: roomID, userID: alice).messages
            #expect(seenByAlice.prefix(2).map(\.seq) == [base + 2, base + 1])
            #expect(
                seenByAlice[0].reactions == [
                    ReactionSummary(emoji: "👍", count: 2, me: true), ReactionSummary(emoji: "🎉", count: 1, me: false),
                ])
            let system = seenByAlice[1]
            #expect(system.kind == .system && system.senderID == nil && system.content == "alice renamed the room")
            #expect(system.event == SystemEvent(type: "room_renamed", actorID: alice, userIDs: [], detail: "x"))
            #expect(system.mimeType == "text/plain")

            let seenByBob = try await fixture.service.history(roomID: roomID, userID: bob).messages
            #expect(seenByBob[0].reactions.map(\.me) == [true, true])
        }
    }

    @Test func lastMessagesGiveTheNewestMessageOfEachOfTheCallersRooms() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let bob = try await fixture.user("bob")
            let busy = try await fixture.group(owner: alice, members: [bob])
            let quiet = try await fixture.group(owner: alice)
            let empty = try await fixture.direct(alice, try await fixture.user("carol"))
            let notMine = try await fixture.group(owner: bob)
            try await fixture.send("first", in: busy, by: alice)
            let newest = try await fixture.send("second", in: busy, by: bob)
            _ = try await fixture.service.react(roomID: busy, messageID: newest.id, userID: alice, emoji: "❤️")
            let system = try await fixture.systemMessage(quiet, actor: alice, content: "renamed")
            try await fixture.send("hidden", in: notMine, by: bob)

            let last = try await fixture.service.lastMessages(roomIDs: [busy, quiet, empty, notMine], userID: alice)
            #expect(Set(last.keys) == [busy, quiet])
            #expect(last[busy]?.id == newest.id)
            #expect(last[busy]?.reactions == [ReactionSummary(emoji: "❤️", count: 1, me: true)])
            #expect(last[quiet]?.id == system.id && last[quiet]?.kind == .system)
        }
    }

    // MARK: Editing

    @Test func onlyTheSenderEditsTheirLiveMessages() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let bob = try await fixture.user("bob")
            let roomID = try await fixture.group(owner: alice, members: [bob])
            let message = try await fixture.send("teh typo", in: roomID, by: bob)
            let system = try await fixture.systemMessage(roomID, actor: alice, content: "system")
            let service = fixture.service

            fixture.clock.advance(seconds: 30)
            let edited = try await service.edit(roomID: roomID, messageID: message.id, userID: bob, content: "the typo")
            #expect(edited.content == "the typo" && edited.editedAt == fixture.clock.now)
            #expect(edited.seq == message.seq && edited.createdAt == message.createdAt)
            #expect(
                try await service.history(roomID: roomID, userID: alice).messages.first { $0.id == message.id }
                    == edited)

            // Not even the owner edits someone else's message; nobody edits system messages.
            #expect(
                await messageError {
                    try await service.edit(roomID: roomID, messageID: message.id, userID: alice, content: "x")
                } == .forbidden)
            #expect(
                await messageError {
                    try await service.edit(roomID: roomID, messageID: system.id, userID: alice, content: "x")
                } == .forbidden)
            #expect(
                await messageError {
                    try await service.edit(roomID: roomID, messageID: message.id, userID: bob, content: "  ")
                } == .validation(["content": "must not be empty"]))
            #expect(
                await messageError {
                    try await service.edit(roomID: roomID, messageID: 9_999, userID: bob, content: "x")
                } == .notFound)
            // A message id of another room is not found through this one.
            let other = try await fixture.group(owner: bob)
            #expect(
                await messageError {
                    try await service.edit(roomID: other, messageID: message.id, userID: bob, content: "x")
                } == .notFound)

            _ = try await service.delete(roomID: roomID, messageID: message.id, userID: bob)
            #expect(
                await messageError {
                    try await service.edit(roomID: roomID, messageID: message.id, userID: bob, content: "back")
                } == .notFound)
        }
    }

    // MARK: Deleting

    @Test func senderOwnerAndAdminsDeleteLeavingATombstone() async throws {
        try await withMessages { fixture in
            let owner = try await fixture.user("owner")
            let admin = try await fixture.user("admin")
            let bob = try await fixture.user("bob")
            let carol = try await fixture.user("carol")
            let roomID = try await fixture.group(owner: owner, members: [bob, carol], admins: [admin])
            let service = fixture.service
            let own = try await fixture.send("mine", in: roomID, by: bob, key: "k-1")
            let byAdmin = try await fixture.send("moderate me", in: roomID, by: bob)
            let byOwner = try await fixture.send("me too", in: roomID, by: carol)
            _ = try await service.react(roomID: roomID, messageID: own.id, userID: carol, emoji: "👍")

            // A plain member cannot delete someone else's message.
            #expect(
                await messageError { try await service.delete(roomID: roomID, messageID: own.id, userID: carol) }
                    == .forbidden)

            fixture.clock.advance(seconds: 5)
            let tombstone = try await service.delete(roomID: roomID, messageID: own.id, userID: bob)
            #expect(tombstone.isDeleted && tombstone.content.isEmpty && tombstone.reactions.isEmpty)
            #expect(tombstone.id == own.id && tombstone.seq == own.seq && tombstone.senderID == bob)
            #expect(tombstone.createdAt == own.createdAt)
            #expect(try await service.delete(roomID: roomID, messageID: byAdmin.id, userID: admin).isDeleted)
            #expect(try await service.delete(roomID: roomID, messageID: byOwner.id, userID: owner).isDeleted)
            // Again: the same tombstone.
            #expect(try await service.delete(roomID: roomID, messageID: own.id, userID: bob) == tombstone)

            let timeline = try await service.history(roomID: roomID, userID: carol).messages.prefix(3)
            #expect(timeline.map(\.id) == [byOwner.id, byAdmin.id, own.id] && timeline.allSatisfy(\.isDeleted))
            #expect(timeline.last == tombstone)
            // Reactions on a tombstone are refused, and a resend with its key returns the tombstone.
            #expect(
                await messageError {
                    try await service.react(roomID: roomID, messageID: own.id, userID: carol, emoji: "👍")
                } == .notFound)
            let resent = try await service.send(roomID: roomID, senderID: bob, content: "mine", clientMessageID: "k-1")
            #expect(resent.duplicate && resent.message == tombstone)

            let system = try await fixture.systemMessage(roomID, actor: owner, content: "renamed")
            #expect(
                await messageError { try await service.delete(roomID: roomID, messageID: system.id, userID: owner) }
                    == .forbidden)
            #expect(
                await messageError { try await service.delete(roomID: roomID, messageID: 9_999, userID: owner) }
                    == .notFound)
        }
    }

    // MARK: Reactions

    @Test func reactionsAreIdempotentAndSummarisedPerViewer() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let bob = try await fixture.user("bob")
            let roomID = try await fixture.group(owner: alice, members: [bob])
            let message = try await fixture.send("react to me", in: roomID, by: alice)
            let service = fixture.service
            let family = "👨\u{200D}👩\u{200D}👧"

            var seen = try await service.react(roomID: roomID, messageID: message.id, userID: bob, emoji: "👍")
            #expect(seen.reactions == [ReactionSummary(emoji: "👍", count: 1, me: true)])
            seen = try await service.react(roomID: roomID, messageID: message.id, userID: bob, emoji: "👍")
            #expect(seen.reactions == [ReactionSummary(emoji: "👍", count: 1, me: true)])
            fixture.clock.advance(milliseconds: 1)
            seen = try await service.react(roomID: roomID, messageID: message.id, userID: alice, emoji: family)
            #expect(
                seen.reactions == [
                    ReactionSummary(emoji: "👍", count: 1, me: false),
                    ReactionSummary(emoji: family, count: 1, me: true),
                ])
            seen = try await service.react(roomID: roomID, messageID: message.id, userID: alice, emoji: "👍")
            #expect(seen.reactions.first == ReactionSummary(emoji: "👍", count: 2, me: true))

            seen = try await service.unreact(roomID: roomID, messageID: message.id, userID: bob, emoji: "👍")
            #expect(seen.reactions.first == ReactionSummary(emoji: "👍", count: 1, me: false))
            seen = try await service.unreact(roomID: roomID, messageID: message.id, userID: bob, emoji: "👍")
            #expect(seen.reactions.first == ReactionSummary(emoji: "👍", count: 1, me: false))
            seen = try await service.unreact(roomID: roomID, messageID: message.id, userID: bob, emoji: "never")
            #expect(seen.reactions.count == 2)
            #expect(seen.content == "react to me")
        }
    }

    @Test func emojiMustBeShortWithoutWhitespaceOrControlCharacters() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let roomID = try await fixture.group(owner: alice)
            let message = try await fixture.send("x", in: roomID, by: alice)
            let cases: [(String, String)] = [
                ("", "must be 1 to 32 bytes"),
                (String(repeating: "a", count: 33), "must be 1 to 32 bytes"),
                (String(repeating: "👍", count: 9), "must be 1 to 32 bytes"),
                ("thumbs up", "must not contain whitespace or control characters"),
                ("👍\n", "must not contain whitespace or control characters"),
                ("\u{7}", "must not contain whitespace or control characters"),
                ("a\u{2028}b", "must not contain whitespace or control characters"),
            ]
            for (emoji, problem) in cases {
                let error = await messageError {
                    try await fixture.service.react(roomID: roomID, messageID: message.id, userID: alice, emoji: emoji)
                }
                #expect(error == .validation(["emoji": problem]), "\(emoji.unicodeScalars.map(\.value))")
            }
            // 32 bytes exactly, and a text "emoji", are fine.
            let longest = String(repeating: "👍", count: 8)
            _ = try await fixture.service.react(roomID: roomID, messageID: message.id, userID: alice, emoji: longest)
            _ = try await fixture.service.react(roomID: roomID, messageID: message.id, userID: alice, emoji: "+1")
        }
    }
}
