import Storage
import Testing

@testable import ChatCore

/// A message service over a fresh migrated database, with real accounts (bcrypt cost 4, see
/// ``AccountFixture``), real rooms and blocks (``RoomService``, ``SocialService``), one ``RoomAccess``
/// shared by all, and the fixture's hand-moved clock.
///
/// Creating a group appends system messages (`room_created`, `members_added`), which take seqs; direct
/// rooms start empty, so tests about exact seqs use those.
final class MessageFixture: Sendable {
    let accounts: AccountFixture
    let access: RoomAccess
    let rooms: RoomService
    let social: SocialService
    let service: MessageService

    init(policy: ChatPolicy = ChatPolicy()) throws {
        accounts = try AccountFixture()
        access = RoomAccess(readers: accounts.readers)
        let clock = accounts.clock
        var roomPolicy = policy
        // Direct rooms without befriending first.
        roomPolicy.dmPolicy = .anyone
        rooms = RoomService(
            writer: accounts.writer, readers: accounts.readers, access: access, policy: roomPolicy,
            clock: { clock.now })
        social = SocialService(
            writer: accounts.writer, readers: accounts.readers, access: access, clock: { clock.now })
        service = MessageService(
            writer: accounts.writer, readers: accounts.readers, access: access, policy: policy,
            clock: { clock.now })
    }

    var clock: TestClock { accounts.clock }

    func close() {
        accounts.close()
    }

    /// Registers a user and returns their id.
    func user(_ name: String) async throws -> Int64 {
        try await accounts.register(name).user.id
    }

    /// A group room owned by `owner` with `members` and `admins`.
    func group(owner: Int64, members: [Int64] = [], admins: [Int64] = []) async throws -> Int64 {
        let roomID = try await rooms.createGroup(userID: owner, name: "room", memberIDs: members + admins).id
        for admin in admins {
            _ = try await rooms.setRole(roomID: roomID, userID: owner, memberID: admin, role: .admin)
        }
        return roomID
    }

    /// The direct room of two users.
    func direct(_ first: Int64, _ second: Int64) async throws -> Int64 {
        try await rooms.openDirectRoom(userID: first, peerID: second).room.id
    }

    func block(_ blocker: Int64, _ blocked: Int64) async throws {
        try await social.block(userID: blocker, targetID: blocked)
    }

    func removeMember(roomID: Int64, by remover: Int64, userID: Int64) async throws {
        try await rooms.removeMember(roomID: roomID, userID: remover, memberID: userID)
    }

    func deleteRoom(_ roomID: Int64, by owner: Int64) async throws {
        try await rooms.deleteRoom(id: roomID, userID: owner)
    }

    /// A system message, as the room services append them.
    @discardableResult
    func systemMessage(_ roomID: Int64, type: String = "room_renamed", actor: Int64?, content: String) async throws
        -> MessageRecord
    {
        let now = clock.now
        return try await accounts.writer.write { db in
            try MessageStore().appendSystemMessage(
                roomID: roomID, event: SystemEventRecord(type: type, actorID: actor, detail: "x"), content: content,
                now: now, db)
        }
    }

    /// Sends `content` and returns the message.
    @discardableResult
    func send(_ content: String, in roomID: Int64, by senderID: Int64, key: String? = nil) async throws -> Message {
        try await service.send(roomID: roomID, senderID: senderID, content: content, clientMessageID: key).message
    }

    /// The room's newest seq (-1 for no such room).
    func lastSeq(_ roomID: Int64) throws -> Int64 {
        try accounts.read { db in
            try db.queryOne("SELECT last_seq FROM rooms WHERE id = ?", [.integer(roomID)])?[0].int64 ?? -1
        }
    }
}

/// Runs `body` with a fresh fixture, closed afterwards.
func withMessages(policy: ChatPolicy = ChatPolicy(), _ body: (MessageFixture) async throws -> Void) async throws {
    let fixture = try MessageFixture(policy: policy)
    defer { fixture.close() }
    try await body(fixture)
}

/// The error `body` throws, or nil if it returns.
func messageError<T>(_ body: () async throws -> T) async -> ChatError? {
    do {
        _ = try await body()
        return nil
    } catch let error as ChatError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}
