import Storage

/// A system message to append: the event clients interpret, and the sentence they may show as is.
struct RoomEvent: Sendable, Equatable {
    var record: SystemEventRecord
    var content: String

    /// Appends it to the room's timeline, inside the caller's writer job (so in the same transaction as
    /// the change it records), with the room's next seq, and posts it as a new message.
    func append(roomID: Int64, now: Int64, _ db: Database, _ outbox: RealtimeWrite.Outbox) throws {
        let record = try MessageStore().appendSystemMessage(
            roomID: roomID, event: record, content: content, now: now, db)
        outbox.post(.messageCreated(Message(record), origin: nil))
    }

    /// Names beyond this many are summarized as "and N others": a sentence about 10,000 new members
    /// would be as long as the list, which the event carries anyway.
    static let namesListed = 5

    static func roomCreated(by actor: UserRecord, name: String) -> RoomEvent {
        RoomEvent(
            record: SystemEventRecord(type: "room_created", actorID: actor.id, detail: name),
            content: "\(actor.username) created the room \"\(name)\"")
    }

    static func membersAdded(by actor: UserRecord, _ added: [UserRecord]) -> RoomEvent {
        RoomEvent(
            record: SystemEventRecord(type: "members_added", actorID: actor.id, userIDs: added.map(\.id)),
            content: "\(actor.username) added \(names(added))")
    }

    static func memberRemoved(by actor: UserRecord, _ removed: UserRecord) -> RoomEvent {
        RoomEvent(
            record: SystemEventRecord(type: "member_removed", actorID: actor.id, userIDs: [removed.id]),
            content: "\(actor.username) removed \(removed.username)")
    }

    static func memberLeft(_ member: UserRecord) -> RoomEvent {
        RoomEvent(
            record: SystemEventRecord(type: "member_left", actorID: member.id, userIDs: [member.id]),
            content: "\(member.username) left")
    }

    /// Ownership passed to `heir` because `previous` left.
    static func ownerChanged(from previous: UserRecord, to heir: UserRecord) -> RoomEvent {
        RoomEvent(
            record: SystemEventRecord(type: "owner_changed", actorID: previous.id, userIDs: [heir.id]),
            content: "\(heir.username) is now the owner")
    }

    static func renamed(by actor: UserRecord, to name: String) -> RoomEvent {
        RoomEvent(
            record: SystemEventRecord(type: "room_renamed", actorID: actor.id, detail: name),
            content: "\(actor.username) renamed the room to \"\(name)\"")
    }

    static func topicChanged(by actor: UserRecord, to topic: String) -> RoomEvent {
        RoomEvent(
            record: SystemEventRecord(type: "topic_changed", actorID: actor.id, detail: topic),
            content: topic.isEmpty
                ? "\(actor.username) cleared the topic" : "\(actor.username) changed the topic to \"\(topic)\"")
    }

    static func roleChanged(by actor: UserRecord, of member: UserRecord, to role: RoomRole) -> RoomEvent {
        RoomEvent(
            record: SystemEventRecord(
                type: "role_changed", actorID: actor.id, userIDs: [member.id], detail: role.rawValue),
            content: "\(actor.username) made \(member.username) \(role == .admin ? "an admin" : "a member")")
    }

    /// "bob", "bob and carol", "bob, carol and dave", "bob, …, frank and 3 others".
    static func names(_ users: [UserRecord]) -> String {
        let shown = users.prefix(namesListed).map(\.username)
        let hidden = users.count - shown.count
        if hidden > 0 {
            return shown.joined(separator: ", ") + " and \(hidden) \(hidden == 1 ? "other" : "others")"
        }
        guard let last = shown.last, shown.count > 1 else { return shown.first ?? "" }
        return shown.dropLast().joined(separator: ", ") + " and " + last
    }
}
