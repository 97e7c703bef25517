import Storage
import Synchronization
import Testing

@testable import ChatCore

@Suite struct MessageServiceSendTests {
    // MARK: Sending

    @Test func sendingAssignsSeqsAndMovesTheSendersReadPosition() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let bob = try await fixture.user("bob")
            let roomID = try await fixture.direct(alice, bob)
            fixture.clock.advance(seconds: 1)
            let (first, duplicate) = try await fixture.service.send(
                roomID: roomID, senderID: alice, content: "  *hello*  ", mimeType: "text/markdown",
                clientMessageID: "c-1")
            #expect(!duplicate)
            #expect(first.seq == 1 && first.roomID == roomID && first.senderID == alice && first.kind == .user)
            // Kept as sent: only the emptiness test trims.
            #expect(first.content == "  *hello*  " && first.mimeType == "text/markdown")
            #expect(first.clientMessageID == "c-1" && first.replyTo == nil && first.attachments.isEmpty)
            #expect(first.createdAt == fixture.clock.now && first.editedAt == nil && !first.isDeleted)
            #expect(first.event == nil && first.reactions.isEmpty)

            let reply = try await fixture.service.send(
                roomID: roomID, senderID: bob, content: "hi", mimeType: "TEXT/PLAIN", replyTo: first.id
            ).message
            #expect(reply.seq == 2 && reply.replyTo == first.id && reply.mimeType == "text/plain")
            let defaulted = try await fixture.send("plain", in: roomID, by: alice)
            #expect(defaulted.mimeType == "text/plain" && defaulted.seq == 3)

            let unread = try await fixture.service.unread(userID: bob)
            #expect(unread.rooms == [UnreadEntry(roomID: roomID, unreadCount: 1, lastReadSeq: 2, lastSeq: 3)])
            #expect(try await fixture.service.unread(userID: alice).total == 0)
        }
    }

    @Test func invalidMessagesAreRefusedWithEveryBadField() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let roomID = try await fixture.direct(alice, try await fixture.user("bob"))
            let otherRoom = try await fixture.direct(alice, try await fixture.user("carol"))
            let elsewhere = try await fixture.send("elsewhere", in: otherRoom, by: alice)

            let all = await messageError {
                try await fixture.service.send(
                    roomID: roomID, senderID: alice, content: " \n\t ", mimeType: "text/html",
                    clientMessageID: String(repeating: "k", count: 65), replyTo: 0,
                    attachments: Array(repeating: "blob-1", count: MessageService.maxAttachments + 1))
            }
            #expect(
                all
                    == .validation([
                        "content": "must not be empty", "mime_type": "must be one of text/plain, text/markdown",
                        "client_msg_id": "must be 1 to 64 characters", "reply_to": MessageService.replyToProblem,
                        "attachments": "at most \(MessageService.maxAttachments) uploads",
                    ]))
            let tooLong = await messageError {
                try await fixture.service.send(
                    roomID: roomID, senderID: alice, content: String(repeating: "é", count: 8_193))
            }
            #expect(tooLong == .validation(["content": "must be at most 16384 bytes"]))
            // Terminal escapes and other control characters garble what others see; tabs and line breaks do not.
            for garbled in ["\u{1B}[2Jgone", "bell\u{07}", "nul\u{00}", "del\u{7F}"] {
                let refused = await messageError {
                    try await fixture.service.send(roomID: roomID, senderID: alice, content: garbled)
                }
                #expect(
                    refused
                        == .validation(["content": "must not contain control characters other than tab and line breaks"]
                        ))
            }
            // Exactly the limit in bytes is fine (8,192 two-byte characters).
            #expect(
                try await fixture.service.send(
                    roomID: roomID, senderID: alice, content: String(repeating: "é", count: 8_192)
                ).message.seq == 1)
            #expect(
                try await fixture.service.send(roomID: roomID, senderID: alice, content: "a\tb\r\nc").message.seq == 2)
            let controlKey = await messageError {
                try await fixture.service.send(roomID: roomID, senderID: alice, content: "x", clientMessageID: "a\nb")
            }
            #expect(controlKey == .validation(["client_msg_id": "must not contain control characters"]))
            // A reply must be to a message of the same room.
            for target in [elsewhere.id, 9_999] {
                let badReply = await messageError {
                    try await fixture.service.send(roomID: roomID, senderID: alice, content: "x", replyTo: target)
                }
                #expect(badReply == .validation(["reply_to": MessageService.replyToProblem]))
            }
            // Refusals took no seq (the two accepted sends above took 1 and 2).
            #expect(try fixture.lastSeq(roomID) == 2)
            #expect(try await fixture.send("next", in: roomID, by: alice).seq == 3)
        }
    }

    @Test func nonMembersGetNotFoundForEveryRoomOperation() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let mallory = try await fixture.user("mallory")
            let roomID = try await fixture.group(owner: alice)
            let message = try await fixture.send("private", in: roomID, by: alice)
            let service = fixture.service
            let attempts: [(String, @Sendable () async throws -> Void)] = [
                ("send", { _ = try await service.send(roomID: roomID, senderID: mallory, content: "x") }),
                ("history", { _ = try await service.history(roomID: roomID, userID: mallory) }),
                (
                    "edit",
                    { _ = try await service.edit(roomID: roomID, messageID: message.id, userID: mallory, content: "x") }
                ),
                ("delete", { _ = try await service.delete(roomID: roomID, messageID: message.id, userID: mallory) }),
                (
                    "react",
                    { _ = try await service.react(roomID: roomID, messageID: message.id, userID: mallory, emoji: "👍") }
                ),
                (
                    "unreact",
                    {
                        _ = try await service.unreact(
                            roomID: roomID, messageID: message.id, userID: mallory, emoji: "👍")
                    }
                ),
                ("markRead", { _ = try await service.markRead(roomID: roomID, userID: mallory, seq: 1) }),
                ("receipts", { _ = try await service.receipts(roomID: roomID, userID: mallory) }),
                ("search", { _ = try await service.search(userID: mallory, query: "private", roomID: roomID) }),
                ("unknown room", { _ = try await service.history(roomID: 9_999, userID: alice) }),
            ]
            for (name, attempt) in attempts {
                let error = await messageError { try await attempt() }
                #expect(error == .notFound, "\(name)")
            }
            // Even invalid input gets 404 first: nothing about the room leaks.
            let invalid = await messageError { try await service.send(roomID: roomID, senderID: mallory, content: "") }
            #expect(invalid == .notFound)
            #expect(try await service.unread(userID: mallory).rooms.isEmpty)
        }
    }

    @Test func aRemovedMemberLosesAccessAtOnce() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let bob = try await fixture.user("bob")
            let roomID = try await fixture.group(owner: alice, members: [bob])
            try await fixture.send("before", in: roomID, by: bob)
            // Cached now.
            _ = try await fixture.service.history(roomID: roomID, userID: bob)
            try await fixture.removeMember(roomID: roomID, by: alice, userID: bob)
            let lastSeq = try fixture.lastSeq(roomID)
            #expect(await messageError { try await fixture.send("after", in: roomID, by: bob) } == .notFound)
            #expect(await messageError { try await fixture.service.history(roomID: roomID, userID: bob) } == .notFound)
            #expect(try await fixture.service.search(userID: bob, query: "before").results.isEmpty)
            #expect(try fixture.lastSeq(roomID) == lastSeq)
        }
    }

    @Test func aMembershipEndedAfterTheAccessCheckStillStopsTheSend() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let bob = try await fixture.user("bob")
            let roomID = try await fixture.group(owner: alice, members: [bob])
            let lastSeq = try fixture.lastSeq(roomID)
            _ = try await fixture.service.history(roomID: roomID, userID: bob)
            // Removed behind the cache's back (no invalidation): the writer job's own check refuses.
            try await fixture.accounts.writer.write { db in
                try db.run("DELETE FROM room_members WHERE user_id = ?", [.integer(bob)])
            }
            #expect(await messageError { try await fixture.send("sneaky", in: roomID, by: bob) } == .notFound)
            #expect(try fixture.lastSeq(roomID) == lastSeq)
        }
    }

    @Test func blockedDirectRoomsRefuseSendingButStillShowHistory() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let bob = try await fixture.user("bob")
            let carol = try await fixture.user("carol")
            let direct = try await fixture.direct(alice, bob)
            let group = try await fixture.group(owner: alice, members: [bob])
            let withCarol = try await fixture.direct(alice, carol)
            try await fixture.send("hello bob", in: direct, by: alice)
            try await fixture.block(bob, alice)
            for sender in [alice, bob] {
                let error = await messageError { try await fixture.send("still there?", in: direct, by: sender) }
                #expect(error == .notAllowed)
            }
            #expect(try await fixture.service.history(roomID: direct, userID: alice).messages.count == 1)
            // Groups and other direct rooms are not affected.
            #expect(try await fixture.send("group", in: group, by: alice).content == "group")
            #expect(try await fixture.send("carol", in: withCarol, by: alice).seq == 1)
        }
    }

    // MARK: Concurrency

    @Test func seqsStayGapFreeUnderConcurrentSends() async throws {
        try await withMessages { fixture in
            var users: [Int64] = []
            for index in 0..<4 {
                users.append(try await fixture.user("user\(index)"))
            }
            let roomID = try await fixture.group(owner: users[0], members: Array(users.dropFirst()))
            let base = try fixture.lastSeq(roomID)
            let service = fixture.service
            let tasks = 20
            let perTask = 50
            let perTaskSeqs = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for task in 0..<tasks {
                    let sender = users[task % users.count]
                    group.addTask {
                        var seqs: [Int64] = []
                        for index in 0..<perTask {
                            seqs.append(
                                try await service.send(roomID: roomID, senderID: sender, content: "t\(task) m\(index)")
                                    .message.seq)
                        }
                        return seqs
                    }
                }
                var all: [[Int64]] = []
                for try await seqs in group {
                    all.append(seqs)
                }
                return all
            }
            // Each task's messages got increasing seqs, and together they are exactly the next 1,000.
            for seqs in perTaskSeqs {
                #expect(seqs == seqs.sorted())
            }
            let all = perTaskSeqs.flatMap { $0 }.sorted()
            #expect(all == Array((base + 1)...(base + Int64(tasks * perTask))))
            #expect(try fixture.lastSeq(roomID) == base + Int64(tasks * perTask))
            // The timeline agrees, read back in pages.
            var timeline: [Int64] = []
            var after = base
            while true {
                let page = try await service.history(roomID: roomID, userID: users[0], afterSeq: after, limit: 200)
                timeline += page.messages.map(\.seq)
                guard page.hasMore, let last = page.messages.last else { break }
                after = last.seq
            }
            #expect(timeline == all)
        }
    }

    @Test func aClientMessageIDMakesSendingIdempotentEvenConcurrently() async throws {
        try await withMessages { fixture in
            let alice = try await fixture.user("alice")
            let bob = try await fixture.user("bob")
            let roomID = try await fixture.direct(alice, bob)
            let (original, firstDuplicate) = try await fixture.service.send(
                roomID: roomID, senderID: alice, content: "once", clientMessageID: "retry-me")
            #expect(!firstDuplicate)
            _ = try await fixture.service.react(roomID: roomID, messageID: original.id, userID: bob, emoji: "👀")
            let (again, duplicate) = try await fixture.service.send(
                roomID: roomID, senderID: alice, content: "once, edited by a confused client",
                clientMessageID: "retry-me")
            #expect(duplicate)
            #expect(again.id == original.id && again.content == "once")
            #expect(again.reactions == [ReactionSummary(emoji: "👀", count: 1, me: false)])

            // Twenty identical requests at once: one message, nineteen duplicates of it.
            let service = fixture.service
            let outcomes = try await withThrowingTaskGroup(of: (Int64, Bool).self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        let result = try await service.send(
                            roomID: roomID, senderID: bob, content: "racy", clientMessageID: "double-click")
                        return (result.message.id, result.duplicate)
                    }
                }
                var outcomes: [(Int64, Bool)] = []
                for try await outcome in group {
                    outcomes.append(outcome)
                }
                return outcomes
            }
            #expect(Set(outcomes.map(\.0)).count == 1)
            #expect(outcomes.filter { !$0.1 }.count == 1)
            #expect(try fixture.lastSeq(roomID) == 2)
        }
    }
}
