import Storage
import Testing

@testable import ChatCore

/// The room and social services over a fresh migrated database, with real accounts (bcrypt cost 4, see
/// ``AccountFixture``), one shared ``RoomAccess`` and the fixture's hand-moved clock.
final class RoomFixture: Sendable {
    let accounts: AccountFixture
    let access: RoomAccess
    let social: SocialService
    let rooms: RoomService

    init(policy: ChatPolicy = ChatPolicy(), accessCapacity: Int = 1_000) throws {
        accounts = try AccountFixture()
        access = RoomAccess(readers: accounts.readers, capacity: accessCapacity)
        let clock = accounts.clock
        social = SocialService(
            writer: accounts.writer, readers: accounts.readers, access: access, clock: { clock.now })
        rooms = RoomService(
            writer: accounts.writer, readers: accounts.readers, access: access, policy: policy, clock: { clock.now })
    }

    var clock: TestClock { accounts.clock }

    func close() {
        accounts.close()
    }

    /// Registers a user and returns their id.
    func user(_ name: String) async throws -> Int64 {
        try await accounts.register(name).user.id
    }

    /// Registers each name; returns the ids in order.
    func users(_ names: String...) async throws -> [Int64] {
        var ids: [Int64] = []
        for name in names {
            ids.append(try await user(name))
        }
        return ids
    }

    /// Makes two users friends through the service (a request, then its acceptance by asking back).
    func befriend(_ first: Int64, _ second: Int64) async throws {
        _ = try await social.sendFriendRequest(from: first, to: second)
        let outcome = try await social.sendFriendRequest(from: second, to: first)
        guard case .accepted = outcome else {
            Issue.record("asking back did not accept: \(outcome)")
            return
        }
    }

    /// Deletes (anonymises) an account as account deletion does.
    func deleteAccount(_ userID: Int64) async throws {
        let now = clock.now
        try await accounts.writer.write { db in _ = try AccountStore().anonymiseUser(id: userID, now: now, db) }
    }

    /// Disables an account as the `chat user disable` command does.
    func disable(_ name: String) async throws {
        _ = try await accounts.service.setDisabled(username: name, true)
    }

    /// Moves the clock on, so the next change has a later time than the last.
    func tick(_ milliseconds: Int64 = 1) {
        clock.advance(milliseconds: milliseconds)
    }

    /// Every message of a room, oldest first.
    func timeline(_ roomID: Int64) throws -> [MessageRecord] {
        try accounts.read { db in try MessageStore().history(roomID: roomID, from: .after(0), limit: 10_000, db) }
    }

    /// The system events of a room, oldest first.
    func events(_ roomID: Int64) throws -> [SystemEventRecord] {
        try timeline(roomID).compactMap(\.event)
    }

    /// The event types of a room after seq `after`, oldest first.
    func eventTypes(_ roomID: Int64, after seq: Int64 = 0) throws -> [String] {
        try timeline(roomID).filter { $0.seq > seq }.compactMap(\.event?.type)
    }

    /// Member id → role, as the member list shows them to `viewer`.
    func roles(_ roomID: Int64, viewer: Int64) async throws -> [Int64: RoomRole] {
        let members = try await rooms.members(roomID: roomID, userID: viewer)
        return Dictionary(uniqueKeysWithValues: members.map { ($0.user.id, $0.role) })
    }

    func rowCount(_ sql: String, _ arguments: [DatabaseValue] = []) throws -> Int {
        try accounts.read { db in try db.queryOne(sql, arguments)?[0].int ?? -1 }
    }
}

/// Runs `body` with a fresh fixture, closed afterwards.
func withRooms(
    policy: ChatPolicy = ChatPolicy(), accessCapacity: Int = 1_000, _ body: (RoomFixture) async throws -> Void
) async throws {
    let fixture = try RoomFixture(policy: policy, accessCapacity: accessCapacity)
    defer { fixture.close() }
    try await body(fixture)
}

/// The ``ChatError`` `body` throws, or nil if it returns.
func roomError<T>(_ body: () async throws -> T) async -> ChatError? {
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

extension ChatError {
    /// The field names of a validation error, empty for other errors.
    var fieldNames: Set<String> {
        if case .validation(let fields) = self { return Set(fields.keys) }
        return []
    }
}

extension FriendRequestOutcome {
    var pendingRequest: FriendRequest? {
        if case .pending(let request) = self { return request }
        return nil
    }

    var acceptedFriend: Friend? {
        if case .accepted(let friend) = self { return friend }
        return nil
    }
}
