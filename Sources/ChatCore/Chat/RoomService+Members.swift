import Storage

extension RoomService {
    /// The members of a room the caller is in, by join time. ``ChatError/notFound`` for a non-member.
    public func members(roomID: Int64, userID: Int64) async throws(ChatError) -> [RoomMember] {
        let records = try await database.read { [rooms] db in
            guard try rooms.member(roomID: roomID, userID: userID, db) != nil else { throw ChatError.notFound }
            return try rooms.members(roomID: roomID, db)
        }
        return records.map(RoomMember.init)
    }

    /// Adds users to a group as plain members (already-members are ignored) and records `members_added`.
    /// Returns the full member list after the change. Owner or admin only.
    ///
    /// Throws ``ChatError/notFound`` for a non-member caller; ``ChatError/validation(_:)`` for a direct
    /// room, an empty list, or `user_ids` naming users that do not exist, are deleted or disabled, or
    /// blocked the caller; ``ChatError/forbidden`` for a plain member; ``ChatError/conflict(code:)``
    /// `room_full` past `policy.maxRoomMembers`.
    public func addMembers(roomID: Int64, userID: Int64, userIDs: [Int64]) async throws(ChatError) -> [RoomMember] {
        let ids = Self.unique(userIDs)
        guard !ids.isEmpty else { throw .validation(["user_ids": "must name at least one user"]) }
        // More than the cap cannot all be members already, so some would be new: full either way, and
        // refusing now bounds the work an oversized request can cause.
        guard ids.count <= policy.maxRoomMembers else { throw .conflict(code: "room_full") }
        let now = clock()
        let maximum = policy.maxRoomMembers
        let (records, added) = try await database.write { [rooms, accounts] db, outbox in
            let (room, member) = try Self.groupMembership(roomID, userID, rooms, db)
            guard RoomRole(member.role).canManage else { throw ChatError.forbidden }
            let existing = try rooms.memberIDs(roomID: roomID, among: ids, db)
            let newIDs = ids.filter { !existing.contains($0) }
            let newUsers = try Self.addableUsers(newIDs, by: userID, field: "user_ids", rooms, db)
            guard room.memberCount + newIDs.count <= maximum else { throw ChatError.conflict(code: "room_full") }
            if !newIDs.isEmpty {
                try rooms.insertMembers(roomID: roomID, userIDs: newIDs, role: .member, now: now, db)
                outbox.post(.membersAdded(roomID: roomID, kind: .group, userIDs: newIDs, actorID: userID))
                let actor = try Self.user(userID, accounts, db)
                try RoomEvent.membersAdded(by: actor, newUsers).append(roomID: roomID, now: now, db, outbox)
                try Self.markCaughtUp(roomID, newIDs, db)
            }
            return (try rooms.members(roomID: roomID, db), newIDs)
        }
        // Only positive memberships are cached, so there is nothing stale to drop; forgetting is cheap and
        // keeps the rule simple: every membership write invalidates what it touched.
        for id in added {
            access.invalidate(roomID: roomID, userID: id)
        }
        return records.map(RoomMember.init)
    }

    /// Removes `memberID` from a group, or, when `memberID` is the caller, leaves it.
    ///
    /// Leaving is open to every member and records `member_left`. An owner who leaves hands the room to the
    /// admin who joined first, else the member who joined first, and `owner_changed` records it; the last
    /// member leaving deletes nothing. Removing someone else needs the owner, or an admin removing a plain
    /// member, and records `member_removed`.
    ///
    /// Throws ``ChatError/notFound`` if the caller or `memberID` is not a member; ``ChatError/validation(_:)``
    /// for a direct room; ``ChatError/forbidden`` for a plain member removing someone, or an admin removing
    /// the owner or another admin.
    public func removeMember(roomID: Int64, userID: Int64, memberID: Int64) async throws(ChatError) {
        let now = clock()
        let changed = try await database.write { [rooms, accounts] db, outbox -> [Int64] in
            let (_, member) = try Self.groupMembership(roomID, userID, rooms, db)
            let actor = try Self.user(userID, accounts, db)
            if memberID == userID {
                return try Self.leave(member, actor: actor, now: now, rooms, accounts, db, outbox)
            }
            let actorRole = RoomRole(member.role)
            guard actorRole.canManage else { throw ChatError.forbidden }
            guard let target = try rooms.member(roomID: roomID, userID: memberID, db) else {
                throw ChatError.notFound
            }
            guard actorRole == .owner || target.role == .member else { throw ChatError.forbidden }
            try rooms.deleteMember(roomID: roomID, userID: memberID, db)
            let removed = try Self.user(memberID, accounts, db)
            try RoomEvent.memberRemoved(by: actor, removed).append(roomID: roomID, now: now, db, outbox)
            // After the system message, so the removed member's connections see why.
            outbox.post(.membersRemoved(roomID: roomID, userIDs: [memberID], reason: "removed", actorID: userID))
            return [memberID]
        }
        for id in changed {
            access.invalidate(roomID: roomID, userID: id)
        }
    }

    /// Takes a deleted account out of every group it was in, as if it had left each one: owners hand over to
    /// the oldest admin, else the oldest member, so no group is left with an owner who can never act again.
    /// Direct rooms stay (the peer keeps the history, shown as from a deleted user).
    public func leaveAllGroups(userID: Int64) async throws(ChatError) {
        let now = clock()
        let changed = try await database.write { [rooms, accounts] db, outbox -> [(roomID: Int64, userIDs: [Int64])] in
            let actor = try Self.user(userID, accounts, db)
            return try rooms.groupMemberships(userID: userID, db).map { member in
                (member.roomID, try Self.leave(member, actor: actor, now: now, rooms, accounts, db, outbox))
            }
        }
        for (roomID, userIDs) in changed {
            for id in userIDs { access.invalidate(roomID: roomID, userID: id) }
        }
    }

    /// The caller leaves; an owner hands over first. Returns the users whose membership changed.
    private static func leave(
        _ member: RoomMemberRecord, actor: UserRecord, now: Int64, _ rooms: RoomStore, _ accounts: AccountStore,
        _ db: Database, _ outbox: RealtimeWrite.Outbox
    ) throws -> [Int64] {
        let roomID = member.roomID
        // Deleted first: the room may hold one owner only, and the heir is promoted below.
        try rooms.deleteMember(roomID: roomID, userID: member.userID, db)
        outbox.post(
            .membersRemoved(roomID: roomID, userIDs: [member.userID], reason: "left", actorID: member.userID))
        try RoomEvent.memberLeft(actor).append(roomID: roomID, now: now, db, outbox)
        guard member.role == .owner, let heir = try rooms.successor(roomID: roomID, excluding: member.userID, db)
        else { return [member.userID] }
        try rooms.setRole(roomID: roomID, userID: heir.userID, role: .owner, db)
        let heirUser = try user(heir.userID, accounts, db)
        try RoomEvent.ownerChanged(from: actor, to: heirUser).append(roomID: roomID, now: now, db, outbox)
        return [member.userID, heir.userID]
    }

    /// Makes a member of a group an admin or a plain member, and records `role_changed` (if it changed).
    /// Owner only; ownership itself only passes when the owner leaves.
    ///
    /// Throws ``ChatError/validation(_:)`` for `role` owner, the caller's own role, or a direct room;
    /// ``ChatError/notFound`` if the caller or `memberID` is not a member; ``ChatError/forbidden`` for
    /// anyone but the owner.
    public func setRole(
        roomID: Int64, userID: Int64, memberID: Int64, role: RoomRole
    ) async throws(ChatError) -> RoomMember {
        guard role != .owner else { throw .validation(["role": "must be admin or member"]) }
        let now = clock()
        let record = try await database.write { [rooms, accounts] db, outbox in
            let (_, member) = try Self.groupMembership(roomID, userID, rooms, db)
            guard member.role == .owner else { throw ChatError.forbidden }
            guard memberID != userID else { throw ChatError.validation(["user_id": "cannot change your own role"]) }
            guard let target = try rooms.memberDetails(roomID: roomID, userID: memberID, db) else {
                throw ChatError.notFound
            }
            guard RoomRole(target.member.role) != role else { return target }
            try rooms.setRole(roomID: roomID, userID: memberID, role: role.record, db)
            let actor = try Self.user(userID, accounts, db)
            try RoomEvent.roleChanged(by: actor, of: target.user, to: role).append(roomID: roomID, now: now, db, outbox)
            var updated = target
            updated.member.role = role.record
            return updated
        }
        access.invalidate(roomID: roomID, userID: memberID)
        return RoomMember(record)
    }
}
