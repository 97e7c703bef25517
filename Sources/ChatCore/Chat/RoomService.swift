import Logging
import Storage

/// Rooms: direct rooms (one per pair of users), groups with an owner, admins and members, and the system
/// messages that record every change in the room's timeline.
///
/// **Visibility.** A room the caller is not a member of does not exist for them (``ChatError/notFound``),
/// whether it exists or not. Likewise a user who blocked the caller.
///
/// **Atomicity.** Each change is one writer job: the permission checks, the change and its system message
/// (``MessageStore/appendSystemMessage(roomID:event:content:now:_:)``, which takes the room's next seq)
/// commit together or not at all. Concurrent changes are serialized by the writer, so e.g. two members
/// added at once both count against the size cap, and a direct room opened from both sides at once is
/// created once.
///
/// **Access cache.** After every change of membership or role commits, ``RoomAccess`` forgets the
/// memberships concerned, so access checks (the message routes') follow at once.
public final class RoomService: Sendable {
    public let policy: ChatPolicy
    let database: RoomDatabase
    let access: RoomAccess
    /// Unix milliseconds; injectable so tests control time.
    let clock: @Sendable () -> Int64
    let rooms = RoomStore()
    let social = SocialStore()
    let accounts = AccountStore()

    /// - Parameters:
    ///   - access: told about every change of membership, so cached access checks follow at once.
    ///   - clock: the current time in unix milliseconds; the system clock by default.
    ///   - events: told of every committed change (system messages, members added and removed).
    public init(
        writer: DatabaseWriter, readers: DatabaseReaderPool, access: RoomAccess, policy: ChatPolicy = ChatPolicy(),
        events: any PubSub = LocalPubSub(), clock: @escaping @Sendable () -> Int64 = AccountService.systemClock
    ) {
        precondition(policy.maxRoomMembers >= 2, "a room must hold at least two members")
        database = RoomDatabase(writer: writer, readers: readers, logger: Logger("rooms"), events: events)
        self.access = access
        self.policy = policy
        self.clock = clock
    }

    // MARK: Direct rooms

    /// The direct room of `userID` and `peerID`, created if it does not exist yet (`created` tells which).
    ///
    /// Throws ``ChatError/validation(_:)`` (`user_id`) for oneself; ``ChatError/notFound`` if the peer
    /// does not exist, is deleted or disabled, or blocked the caller; ``ChatError/notAllowed`` if the
    /// caller blocked the peer, or, to create the room under `dm_policy = friends`, they are not friends.
    /// An existing room is returned whatever the friendship (reading it stays possible after unfriending).
    public func openDirectRoom(userID: Int64, peerID: Int64) async throws(ChatError) -> DirectRoomResult {
        guard userID != peerID else { throw .validation(["user_id": "cannot be yourself"]) }
        let now = clock()
        let policy = policy
        // Nothing to invalidate afterwards: only positive memberships are cached, and new ones had none.
        return try await database.write { [rooms, social, accounts] db, outbox in
            _ = try SocialService.reachableUser(
                peerID, from: userID, callerBlocked: .notAllowed, accounts: accounts, social: social, db)
            if let existing = try rooms.directRoom(between: userID, peerID, db) {
                return DirectRoomResult(room: try Self.view(existing.id, for: userID, rooms, db), created: false)
            }
            if policy.dmPolicy == .friends, try social.friendship(userID, peerID, db) == nil {
                throw ChatError.notAllowed
            }
            let (room, created) = try rooms.findOrCreateDirectRoom(createdBy: userID, peer: peerID, now: now, db)
            if created {
                outbox.post(.membersAdded(roomID: room.id, kind: .direct, userIDs: [userID, peerID], actorID: userID))
            }
            return DirectRoomResult(room: try Self.view(room.id, for: userID, rooms, db), created: created)
        }
    }

    // MARK: Groups

    /// Creates a group owned by `userID`, with `memberIDs` as plain members (duplicates and the creator
    /// ignored), and records `room_created` and `members_added` in its timeline.
    ///
    /// Throws ``ChatError/validation(_:)`` for a bad `name` (1–100 characters once trimmed, no control
    /// characters) or `topic` (≤ 500), or `member_ids` naming users that do not exist, are deleted or
    /// disabled, or blocked the creator (indistinguishably); ``ChatError/conflict(code:)`` `room_full` if
    /// the members exceed `policy.maxRoomMembers`.
    public func createGroup(
        userID: Int64, name: String, topic: String? = nil, memberIDs: [Int64] = []
    ) async throws(ChatError) -> Room {
        let name = RoomValidation.trimmed(name)
        let topic = RoomValidation.trimmed(topic ?? "")
        var fields: [String: String] = [:]
        fields["name"] = RoomValidation.nameError(name)
        fields["topic"] = RoomValidation.topicError(topic)
        guard fields.isEmpty else { throw .validation(fields) }
        let others = Self.unique(memberIDs).filter { $0 != userID }
        guard others.count < policy.maxRoomMembers else { throw .conflict(code: "room_full") }
        let now = clock()
        return try await database.write { [rooms, accounts] db, outbox in
            guard let creator = try accounts.user(id: userID, db), !creator.isDeleted else { throw ChatError.notFound }
            let added = try Self.addableUsers(others, by: userID, field: "member_ids", rooms, db)
            let room = try rooms.insertGroupRoom(name: name, topic: topic, ownerID: userID, now: now, db)
            try rooms.insertMembers(roomID: room.id, userIDs: others, role: .member, now: now, db)
            // Subscribed first, so the members' connections get the system messages that follow.
            outbox.post(.membersAdded(roomID: room.id, kind: .group, userIDs: [userID] + others, actorID: userID))
            try RoomEvent.roomCreated(by: creator, name: name).append(roomID: room.id, now: now, db, outbox)
            if !added.isEmpty {
                try RoomEvent.membersAdded(by: creator, added).append(roomID: room.id, now: now, db, outbox)
            }
            // The system messages that record how the room began are not news to anyone in it.
            try Self.markCaughtUp(room.id, [userID] + others, db)
            return try Self.view(room.id, for: userID, rooms, db)
        }
    }

    /// Renames a group and/or changes its topic (nil leaves a field as it is) and records `room_renamed`
    /// and `topic_changed` for what actually changed. Owner or admin only.
    ///
    /// Throws ``ChatError/notFound`` for a non-member, ``ChatError/validation(_:)`` for a direct room or
    /// a bad value, ``ChatError/forbidden`` for a plain member.
    public func updateRoom(
        id roomID: Int64, userID: Int64, name: String? = nil, topic: String? = nil
    ) async throws(ChatError) -> Room {
        let name = name.map(RoomValidation.trimmed)
        let topic = topic.map(RoomValidation.trimmed)
        var fields: [String: String] = [:]
        fields["name"] = name.flatMap(RoomValidation.nameError)
        fields["topic"] = topic.flatMap(RoomValidation.topicError)
        guard fields.isEmpty else { throw .validation(fields) }
        let now = clock()
        return try await database.write { [rooms, accounts] db, outbox in
            let (room, member) = try Self.groupMembership(roomID, userID, rooms, db)
            guard RoomRole(member.role).canManage else { throw ChatError.forbidden }
            let newName = name.flatMap { $0 == room.name ? nil : $0 }
            let newTopic = topic.flatMap { $0 == room.topic ? nil : $0 }
            if newName != nil || newTopic != nil {
                let actor = try Self.user(userID, accounts, db)
                try rooms.updateRoom(id: roomID, name: newName, topic: newTopic, now: now, db)
                if let newName {
                    try RoomEvent.renamed(by: actor, to: newName).append(roomID: roomID, now: now, db, outbox)
                }
                if let newTopic {
                    try RoomEvent.topicChanged(by: actor, to: newTopic).append(roomID: roomID, now: now, db, outbox)
                }
            }
            return try Self.view(roomID, for: userID, rooms, db)
        }
    }

    /// Deletes a group with its members and messages, for everyone. Owner only.
    ///
    /// Throws ``ChatError/notFound`` for a non-member, ``ChatError/validation(_:)`` for a direct room,
    /// ``ChatError/forbidden`` for anyone but the owner.
    public func deleteRoom(id roomID: Int64, userID: Int64) async throws(ChatError) {
        try await database.write { [rooms] db, outbox in
            let (_, member) = try Self.groupMembership(roomID, userID, rooms, db)
            guard member.role == .owner else { throw ChatError.forbidden }
            let memberIDs = try rooms.memberIDs(roomID: roomID, db)
            try rooms.deleteRoom(id: roomID, db)
            outbox.post(.membersRemoved(roomID: roomID, userIDs: memberIDs, reason: "deleted", actorID: userID))
        }
        access.invalidate(roomID: roomID)
    }

    // MARK: Reading

    /// The caller's rooms, most recently active first.
    public func rooms(userID: Int64) async throws(ChatError) -> [Room] {
        let summaries = try await database.read { [rooms] db in try rooms.roomSummaries(userID: userID, db) }
        return summaries.map(Room.init)
    }

    /// The ids of all the user's rooms with the seq of each one's newest message (what a realtime connection
    /// subscribes to, and the point from which it gets their messages live).
    public func roomSeqs(userID: Int64) async throws(ChatError) -> [(roomID: Int64, lastSeq: Int64)] {
        try await database.read { [rooms] db in try rooms.roomSeqs(userID: userID, db) }
    }

    /// One of the caller's rooms; ``ChatError/notFound`` if they are not a member.
    public func room(id roomID: Int64, userID: Int64) async throws(ChatError) -> Room {
        let summary = try await database.read { [rooms] db in
            try rooms.roomSummary(roomID: roomID, userID: userID, db)
        }
        guard let summary else { throw .notFound }
        return Room(summary)
    }

    // MARK: Shared steps (in writer jobs)

    /// The room as `userID` sees it, read in the job's transaction.
    static func view(_ roomID: Int64, for userID: Int64, _ rooms: RoomStore, _ db: Database) throws -> Room {
        guard let summary = try rooms.roomSummary(roomID: roomID, userID: userID, db) else {
            throw ChatError.notFound
        }
        return Room(summary)
    }

    /// The room and the caller's membership of it; ``ChatError/notFound`` for a non-member and
    /// ``ChatError/validation(_:)`` for a direct room, whose name, topic and members are fixed.
    static func groupMembership(
        _ roomID: Int64, _ userID: Int64, _ rooms: RoomStore, _ db: Database
    ) throws -> (RoomRecord, RoomMemberRecord) {
        guard let member = try rooms.member(roomID: roomID, userID: userID, db),
            let room = try rooms.room(id: roomID, db)
        else { throw ChatError.notFound }
        guard room.kind == .group else {
            throw ChatError.validation(["room": "a direct room has fixed members and no name or topic"])
        }
        return (room, member)
    }

    static func user(_ id: Int64, _ accounts: AccountStore, _ db: Database) throws -> UserRecord {
        guard let user = try accounts.user(id: id, db) else { throw ChatError.notFound }
        return user
    }

    /// The users of `ids` (in that order) if every one of them may be added by `actorID` (see
    /// ``RoomStore/addableUsers(_:by:_:)``); otherwise ``ChatError/validation(_:)`` on `field`, naming
    /// the refused ids without saying why, so a block looks like an unknown user.
    static func addableUsers(
        _ ids: [Int64], by actorID: Int64, field: String, _ rooms: RoomStore, _ db: Database
    ) throws -> [UserRecord] {
        let found = try rooms.addableUsers(ids, by: actorID, db)
        let byID = Dictionary(found.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let refused = ids.filter { byID[$0] == nil }
        guard refused.isEmpty else {
            let listed = refused.prefix(10).map(String.init).joined(separator: ", ")
            throw ChatError.validation([field: "no such user: \(listed)\(refused.count > 10 ? ", …" : "")"])
        }
        return ids.compactMap { byID[$0] }
    }

    /// Moves members' read positions to the room's newest message (new members do not count the system messages
    /// that recorded their own joining as unread).
    static func markCaughtUp(_ roomID: Int64, _ userIDs: [Int64], _ db: Database) throws {
        let messages = MessageStore()
        for userID in userIDs {
            _ = try messages.markRead(roomID: roomID, userID: userID, seq: Int64.max, db)
        }
    }

    /// `ids` without repetitions, in first-seen order.
    static func unique(_ ids: [Int64]) -> [Int64] {
        var seen = Set<Int64>()
        return ids.filter { seen.insert($0).inserted }
    }
}
