"""Rooms: direct rooms (one per pair, also under concurrent creation; dm_policy), group rooms (create, list, rename,
topic, delete), members (add, remove, leave, roles, owner hand-over, the size cap) and the system messages that
record all of it in the timeline."""

from __future__ import annotations

from authhelpers import PASSWORD, check_cases
from chathelpers import (
    assert_error,
    assert_member,
    assert_room,
    assert_status,
    events,
    run_threads,
    tick,
)


def member_ids(members):
    return sorted(member["user"]["id"] for member in members)


def system_events_since(chat, account, room_id, after_seq):
    messages, _ = chat.history(account, room_id, after_seq=after_seq, limit=200)
    return events(messages)


# -- direct rooms ------------------------------------------------------------------------------------------------


def test_direct_room_is_one_per_pair(chat):
    alice, bob, carol = chat.user("alice"), chat.user("bob"), chat.user("carol")
    assert_error(chat.open_dm(alice, bob.id), 403, "not_allowed", "strangers under dm_policy=friends")
    chat.befriend(alice, bob)

    created = chat.open_dm(alice, bob.id)
    assert_status(created, 201, "first DM")
    room = assert_room(created.json())
    assert room["kind"] == "direct" and room["name"] == "" and room["topic"] == "", room
    assert room["member_count"] == 2, room
    assert room["peer"]["id"] == bob.id and room["peer"]["username"] == "bob", room

    again = chat.open_dm(alice, bob.id)
    assert_status(again, 200, "same pair again")
    assert again.json()["id"] == room["id"]
    other_side = chat.open_dm(bob, alice.id)
    assert_status(other_side, 200, "from the other side")
    seen_by_bob = assert_room(other_side.json())
    assert seen_by_bob["id"] == room["id"] and seen_by_bob["peer"]["id"] == alice.id, seen_by_bob

    for account, peer in ((alice, bob), (bob, alice)):
        direct = [r for r in chat.rooms(account) if r["kind"] == "direct"]
        assert [(r["id"], r["peer"]["id"]) for r in direct] == [(room["id"], peer.id)], direct
        assert chat.room(account, room["id"])["peer"]["id"] == peer.id
    assert room["id"] not in [r["id"] for r in chat.rooms(carol)]
    assert sorted(member["user"]["id"] for member in chat.members(alice, room["id"])) == sorted([alice.id, bob.id])


def test_direct_room_concurrent_creation(chat):
    pairs = []
    for index in range(4):
        a, b = chat.user(f"racea{index}x"), chat.user(f"raceb{index}x")
        chat.befriend(a, b)
        pairs.append((a, b))

    for a, b in pairs:
        calls = [(lambda x=x, y=y: chat.open_dm(x, y.id)) for x, y in [(a, b), (b, a)] * 4]
        responses = run_threads(calls)
        for response in responses:
            assert response.status in (200, 201), response.describe()
        ids = {response.json()["id"] for response in responses}
        assert len(ids) == 1, f"{a.username}/{b.username}: concurrent creation made rooms {sorted(ids)}"
        created = [response.status for response in responses].count(201)
        assert created == 1, f"{a.username}/{b.username}: {created} responses said 201 (created) for one room"
        (room_id,) = ids
        for account in (a, b):
            direct = [r["id"] for r in chat.rooms(account) if r["kind"] == "direct"]
            assert direct == [room_id], direct
        assert chat.room(a, room_id)["member_count"] == 2


def test_direct_room_and_blocks(chat):
    alice, bob, carol, dave = (chat.user(name) for name in ("alice", "bob", "carol", "dave"))
    chat.befriend(alice, carol)
    chat.befriend(alice, dave)
    chat.block(carol, alice.id)  # carol blocked alice: alice must not learn it
    chat.block(alice, dave.id)  # alice blocked dave: she knows
    unknown = assert_error(chat.open_dm(alice, 987654), 404, "not_found", "unknown user")
    hidden = assert_error(chat.open_dm(alice, carol.id), 404, "not_found", "peer blocked the caller")
    assert set(hidden) == set(unknown) and "block" not in hidden["message"].lower(), hidden
    assert_error(chat.open_dm(alice, dave.id), 403, "not_allowed", "caller blocked the peer")
    assert_error(chat.open_dm(dave, alice.id), 404, "not_found", "dave was blocked by alice")
    assert_error(chat.open_dm(alice, bob.id), 403, "not_allowed", "not friends")
    assert [r for r in chat.rooms(alice) if r["kind"] == "direct"] == []


def test_dm_policy_anyone(start_chat):
    chat = start_chat(env={"CHAT_CHAT_DM_POLICY": "anyone"})
    alice, bob, carol, dave = (chat.user(name) for name in ("alice", "bob", "carol", "dave"))
    room = chat.open_dm(alice, bob.id)
    assert_status(room, 201, "strangers under dm_policy=anyone")
    assert assert_room(room.json())["peer"]["id"] == bob.id
    assert_status(chat.open_dm(bob, alice.id), 200, "the other side")
    chat.block(carol, alice.id)
    chat.block(alice, dave.id)
    assert_error(chat.open_dm(alice, carol.id), 404, "not_found", "the peer blocked the caller")
    assert_error(chat.open_dm(alice, dave.id), 403, "not_allowed", "the caller blocked the peer")


# -- group rooms -------------------------------------------------------------------------------------------------


def test_create_group(chat):
    owner, bob, carol = chat.user("owner"), chat.user("bob"), chat.user("carol")
    response = chat.create_group(owner, "  Team Room  ", "what we do", [bob.id, carol.id, bob.id, owner.id])
    assert_status(response, 201, "create")
    room = assert_room(response.json())
    assert room["kind"] == "group" and room["name"] == "Team Room" and room["topic"] == "what we do", room
    assert room["role"] == "owner" and room["member_count"] == 3 and room["peer"] is None, room

    assert chat.room(bob, room["id"])["role"] == "member"
    members = chat.members(carol, room["id"])
    assert member_ids(members) == sorted([owner.id, bob.id, carol.id]), members
    assert chat.roles(owner, room["id"]) == {owner.id: "owner", bob.id: "member", carol.id: "member"}
    assert room["id"] in [r["id"] for r in chat.rooms(carol)]

    timeline = chat.all_messages(owner, room["id"])
    assert timeline and timeline[0]["kind"] == "system", timeline
    first = timeline[0]["event"]
    assert first["type"] == "room_created" and first["actor_id"] == owner.id, timeline[0]
    assert [message["seq"] for message in timeline] == list(range(1, len(timeline) + 1)), timeline

    alone = chat.group(owner, name="solo")
    assert alone["member_count"] == 1 and alone["role"] == "owner", alone
    default_topic = chat.group(owner, name="no topic")
    assert default_topic["topic"] == "", default_topic


def test_create_group_validation(chat):
    owner, friend, gone, blocker = chat.user("owner"), chat.user("friend"), chat.user("gone"), chat.user("blocker")
    assert_status(chat.delete("users/me", {"password": PASSWORD}, gone.access), 204, "delete account")
    chat.block(blocker, owner.id)

    def refused(body, field):
        response = chat.post("rooms", body, owner.access)
        error = assert_error(response, 422, None, f"POST /rooms {body!r}")
        if field is not None:
            assert field in (error.get("fields") or {}), f"{field} not named: {response.describe()}"

    check_cases([
        ("empty name", {"name": ""}, "name"),
        ("blank name", {"name": "   "}, "name"),
        ("name of 101", {"name": "n" * 101}, "name"),
        ("control char in name", {"name": "bad\x01name"}, "name"),
        ("topic of 501", {"name": "ok", "topic": "t" * 501}, "topic"),
        ("control char in topic", {"name": "ok", "topic": "bell\x07"}, "topic"),
        ("unknown member", {"name": "ok", "member_ids": [friend.id, 987654]}, "member_ids"),
        ("deleted member", {"name": "ok", "member_ids": [gone.id]}, "member_ids"),
        ("member who blocked the creator", {"name": "ok", "member_ids": [blocker.id]}, "member_ids"),
    ], refused)
    assert chat.rooms(owner) == [] and chat.rooms(friend) == [], "no refused create left a room behind"

    check_cases([
        ("name of 100", {"name": "n" * 100}),
        ("topic of 500", {"name": "ok", "topic": "t" * 500}),
    ], lambda body: assert_status(chat.post("rooms", body, owner.access), 201, repr(body)))


def test_rooms_list_is_ordered_by_activity(chat):
    owner, reader = chat.user("owner"), chat.user("reader")
    rooms = []
    for name in ("one", "two", "three"):
        room = chat.group(owner, [reader], name=name)
        rooms.append(room["id"])
        tick(room["last_activity_at"])
    one, two, three = rooms

    def order(account):
        listed = chat.rooms(account)
        stamps = [room["last_activity_at"] for room in listed]
        assert stamps == sorted(stamps, reverse=True), listed
        return [room["id"] for room in listed]

    assert order(reader) == [three, two, one]

    said = chat.send(owner, one, "news in room one")
    tick(said["created_at"])
    assert order(reader) == [one, three, two]
    listed = {room["id"]: room for room in chat.rooms(reader)}
    assert listed[one]["last_message"]["id"] == said["id"], listed[one]
    assert listed[one]["last_message"]["content"] == "news in room one"
    assert listed[one]["unread_count"] >= 1 and listed[one]["member_count"] == 2, listed[one]
    assert listed[one]["last_activity_at"] >= said["created_at"], listed[one]
    assert listed[one] == chat.room(reader, one), "the list and GET /rooms/:id agree"

    own = chat.send(reader, two, "reader speaks in two")
    assert order(reader) == [two, one, three]
    mine = chat.room(reader, two)
    assert mine["last_message"]["id"] == own["id"] and mine["unread_count"] == 0, mine
    assert order(owner) == [two, one, three]


def test_rename_and_topic(chat):
    owner, admin, member = chat.user("owner"), chat.user("admin"), chat.user("member")
    room = chat.group(owner, [admin, member], name="Before", topic="old topic")["id"]
    assert_status(chat.set_role(owner, room, admin.id, "admin"), 200, "promote")
    start = chat.room(owner, room)["last_seq"]

    renamed = chat.patch(f"rooms/{room}", {"name": "  After  "}, admin.access)
    assert_status(renamed, 200, "admin renames")
    document = assert_room(renamed.json())
    assert document["name"] == "After" and document["topic"] == "old topic" and document["role"] == "admin", document

    topic = chat.patch(f"rooms/{room}", {"topic": "new topic"}, owner.access)
    assert_status(topic, 200, "owner sets the topic")
    assert assert_room(topic.json())["topic"] == "new topic"
    assert_status(chat.patch(f"rooms/{room}", {"topic": ""}, owner.access), 200, "clearing the topic")
    assert_status(chat.patch(f"rooms/{room}", {"topic": "final topic"}, owner.access), 200, "topic again")

    check_cases([
        ("member renames", member, {"name": "mine now"}, 403),
        ("member sets topic", member, {"topic": "mine"}, 403),
        ("empty name", owner, {"name": " "}, 422),
        ("long name", owner, {"name": "n" * 101}, 422),
        ("long topic", admin, {"topic": "t" * 501}, 422),
    ], lambda account, body, status: assert_error(chat.patch(f"rooms/{room}", body, account.access), status,
                                                  "forbidden" if status == 403 else None, repr(body)))

    seen = chat.room(member, room)
    assert seen["name"] == "After" and seen["topic"] == "final topic", seen
    found = system_events_since(chat, member, room, start)
    assert [event["type"] for event in found] == ["room_renamed", "topic_changed", "topic_changed",
                                                  "topic_changed"], found
    assert found[0]["actor_id"] == admin.id and found[1]["actor_id"] == owner.id, found


def test_delete_room(chat):
    owner, admin, member = chat.user("owner"), chat.user("admin"), chat.user("member")
    room = chat.group(owner, [admin, member], name="doomed")["id"]
    assert_status(chat.set_role(owner, room, admin.id, "admin"), 200, "promote")
    chat.send(member, room, "soon gone")
    keep = chat.group(owner, [member], name="kept")["id"]
    chat.send(member, keep, "still here")

    assert_error(chat.delete(f"rooms/{room}", token=admin.access), 403, "forbidden", "admin deletes")
    assert_error(chat.delete(f"rooms/{room}", token=member.access), 403, "forbidden", "member deletes")
    response = chat.delete(f"rooms/{room}", token=owner.access)
    assert_status(response, 204, "owner deletes")

    def gone(account, method, path):
        assert_error(chat.call(method, path, token=account.access), 404, "not_found", f"{method} {path}")

    cases = []
    for account in (owner, admin, member):
        for method, path in (("GET", f"rooms/{room}"), ("GET", f"rooms/{room}/messages"),
                             ("GET", f"rooms/{room}/members"), ("DELETE", f"rooms/{room}")):
            cases.append((f"{account.username} {method} {path}", account, method, path))
    check_cases(cases, gone)
    assert_error(chat.post_message(member, room, "anyone there?"), 404, "not_found", "send to a deleted room")
    for account in (owner, admin, member):
        assert room not in [r["id"] for r in chat.rooms(account)]
        assert room not in chat.unread(account)[0]
    assert [m["content"] for m in chat.history(member, keep)[0] if m["kind"] == "user"] == ["still here"]

    alice, bob = chat.user("alice"), chat.user("bob")
    direct = chat.dm(alice, bob)["id"]
    response = chat.delete(f"rooms/{direct}", token=alice.access)
    assert response.status in (403, 422), f"deleting a direct room: {response.describe()}"
    assert chat.room(bob, direct)["id"] == direct


# -- members -----------------------------------------------------------------------------------------------------


def test_add_remove_and_leave(chat):
    owner, admin, member, carol, dave, erin = (chat.user(name) for name in
                                               ("owner", "admin", "member", "carol", "dave", "erin"))
    room = chat.group(owner, [admin, member], name="members")["id"]
    assert_status(chat.set_role(owner, room, admin.id, "admin"), 200, "promote")
    start = chat.room(owner, room)["last_seq"]

    members = chat.add_members(admin, room, carol, dave)
    assert member_ids(members) == sorted([owner.id, admin.id, member.id, carol.id, dave.id]), members
    assert {m["user"]["id"]: m["role"] for m in members}[carol.id] == "member"
    again = chat.add_members(owner, room, carol, member)
    assert member_ids(again) == member_ids(members), "already-members are ignored"
    assert chat.room(carol, room)["member_count"] == 5
    assert room in [r["id"] for r in chat.rooms(dave)]

    response = chat.post(f"rooms/{room}/members", {"user_ids": [erin.id, 987654]}, owner.access)
    assert_error(response, 422, None, "adding an unknown user")
    assert_error(chat.post(f"rooms/{room}/members", {"user_ids": [erin.id]}, member.access), 403, "forbidden",
                 "a member adds")

    assert_status(chat.remove_member(admin, room, carol.id), 204, "admin removes carol")
    for method, path in (("GET", f"rooms/{room}"), ("GET", f"rooms/{room}/messages"),
                         ("GET", f"rooms/{room}/members"), ("GET", f"rooms/{room}/receipts")):
        assert_error(chat.call(method, path, token=carol.access), 404, "not_found", f"removed: {method} {path}")
    assert_error(chat.post_message(carol, room, "still here?"), 404, "not_found", "removed member sends")
    assert room not in [r["id"] for r in chat.rooms(carol)]

    assert_status(chat.remove_member(dave, room, dave.id), 204, "dave leaves")
    assert_error(chat.get(f"rooms/{room}", dave.access), 404, "not_found", "after leaving")
    assert_error(chat.remove_member(owner, room, erin.id), 404, "not_found", "removing a non-member")
    assert_error(chat.remove_member(member, room, admin.id), 403, "forbidden", "a member removes an admin")

    remaining = chat.members(member, room)
    assert member_ids(remaining) == sorted([owner.id, admin.id, member.id]), remaining
    assert chat.room(owner, room)["member_count"] == 3

    found = system_events_since(chat, owner, room, start)
    assert [event["type"] for event in found] == ["members_added", "member_removed", "member_left"], found
    added, removed, left = found
    assert added["actor_id"] == admin.id and sorted(added["user_ids"]) == sorted([carol.id, dave.id]), added
    assert removed["actor_id"] == admin.id and removed["user_ids"] == [carol.id], removed
    assert left["actor_id"] == dave.id or dave.id in left.get("user_ids", []), left

    # Coming back works.
    chat.add_members(owner, room, carol)
    assert chat.room(carol, room)["id"] == room

    alice, bob = chat.user("alice"), chat.user("bob")
    direct = chat.dm(alice, bob)["id"]
    response = chat.post(f"rooms/{direct}/members", {"user_ids": [erin.id]}, alice.access)
    assert response.status in (403, 422), f"adding to a direct room: {response.describe()}"
    assert chat.room(alice, direct)["member_count"] == 2


def test_roles(chat):
    owner, mia, max_ = chat.user("owner"), chat.user("mia"), chat.user("max")
    room = chat.group(owner, [mia, max_], name="roles")["id"]
    start = chat.room(owner, room)["last_seq"]

    response = chat.set_role(owner, room, mia.id, "admin")
    assert_status(response, 200, "promote")
    member = assert_member(response.json())
    assert member["user"]["id"] == mia.id and member["role"] == "admin", member
    assert chat.room(mia, room)["role"] == "admin"

    assert_error(chat.set_role(mia, room, max_.id, "admin"), 403, "forbidden", "an admin promotes")
    assert_error(chat.set_role(max_, room, max_.id, "admin"), 403, "forbidden", "a member promotes themselves")
    own = chat.set_role(owner, room, owner.id, "member")
    assert own.status in (403, 422), f"the owner changes their own role: {own.describe()}"
    assert_error(chat.set_role(owner, room, 987654, "admin"), 404, "not_found", "role of a non-member")

    demoted = chat.set_role(owner, room, mia.id, "member")
    assert_status(demoted, 200, "demote")
    assert demoted.json()["role"] == "member"
    assert chat.roles(max_, room) == {owner.id: "owner", mia.id: "member", max_.id: "member"}

    found = system_events_since(chat, owner, room, start)
    assert [event["type"] for event in found] == ["role_changed", "role_changed"], found
    for event in found:
        assert event["actor_id"] == owner.id and event["user_ids"] == [mia.id], event


def test_owner_hands_over_when_leaving(chat):
    owner, first, second, third = chat.user("owner"), chat.user("first"), chat.user("second"), chat.user("third")
    room = chat.group(owner, name="handover")
    tick(room["created_at"])
    for account in (first, second, third):  # joined in this order, each in a later millisecond
        members = chat.add_members(owner, room["id"], account)
        tick(max(member["joined_at"] for member in members))
    joined = {m["user"]["id"]: m["joined_at"] for m in chat.members(owner, room["id"])}
    assert joined[first.id] < joined[second.id] < joined[third.id], joined
    room = room["id"]
    # Promoted in the other order: seniority is joined_at, not when the role was given.
    assert_status(chat.set_role(owner, room, third.id, "admin"), 200, "promote third")
    assert_status(chat.set_role(owner, room, second.id, "admin"), 200, "promote second")

    def left_and_handed(leaver, heir, expected_roles):
        before = chat.room(heir, room)["last_seq"]
        assert_status(chat.remove_member(leaver, room, leaver.id), 204, f"{leaver.username} leaves")
        assert chat.roles(heir, room) == expected_roles
        assert chat.room(heir, room)["role"] == "owner"
        found = system_events_since(chat, heir, room, before)
        types = [event["type"] for event in found]
        assert sorted(types) == ["member_left", "owner_changed"], found
        changed = found[types.index("owner_changed")]
        assert heir.id in changed.get("user_ids", []), f"owner_changed does not name the new owner: {changed}"

    left_and_handed(owner, second, {first.id: "member", second.id: "owner", third.id: "admin"})
    left_and_handed(second, third, {first.id: "member", third.id: "owner"})
    left_and_handed(third, first, {first.id: "owner"})

    # The new owner can do owner things.
    chat.add_members(first, room, owner)
    assert_status(chat.patch(f"rooms/{room}", {"name": "first's room"}, first.access), 200, "new owner renames")

    # The last member leaving deletes nothing: nobody can see the room any more, but it and its timeline stay
    # (only observable in storage: the `rooms` and `messages` tables of the migrations).
    assert_status(chat.remove_member(owner, room, owner.id), 204, "owner leaves again")
    last_seq = chat.room(first, room)["last_seq"]
    assert_status(chat.remove_member(first, room, first.id), 204, "last member leaves")
    assert_error(chat.get(f"rooms/{room}", first.access), 404, "not_found", "after the last member left")
    connection = chat.server.db()
    try:
        rooms = connection.execute("SELECT count(*) FROM rooms WHERE id = ?", (room,)).fetchone()[0]
        messages = connection.execute("SELECT count(*) FROM messages WHERE room_id = ?", (room,)).fetchone()[0]
    finally:
        connection.close()
    assert rooms == 1, "the room row was deleted when its last member left"
    assert messages >= last_seq, f"{messages} messages stored, the timeline had {last_seq}"


def test_max_room_members(start_chat):
    chat = start_chat(env={"CHAT_CHAT_MAX_ROOM_MEMBERS": "3"})
    owner, a, b, c = chat.user("owner"), chat.user("ann"), chat.user("ben"), chat.user("cid")
    room = chat.group(owner, [a, b], name="small")
    assert room["member_count"] == 3
    assert_error(chat.post(f"rooms/{room['id']}/members", {"user_ids": [c.id]}, owner.access), 409, "room_full",
                 "a fourth member")
    assert member_ids(chat.members(owner, room["id"])) == sorted([owner.id, a.id, b.id])
    assert member_ids(chat.add_members(owner, room["id"], a)) == sorted([owner.id, a.id, b.id]), \
        "re-adding a member adds nobody, so it fits"

    too_big = chat.create_group(owner, "too big", member_ids=[a.id, b.id, c.id])
    assert too_big.status in (409, 422), f"creating a room of 4 with a cap of 3: {too_big.describe()}"
    assert "too big" not in [r["name"] for r in chat.rooms(owner)]

    assert_status(chat.remove_member(b, room["id"], b.id), 204, "ben leaves")
    assert member_ids(chat.add_members(owner, room["id"], c)) == sorted([owner.id, a.id, c.id])
    assert_error(chat.post(f"rooms/{room['id']}/members", {"user_ids": [b.id]}, owner.access), 409, "room_full",
                 "full again")


def test_system_messages_record_everything(chat):
    owner, bob, carol, dave = chat.user("owner"), chat.user("bob"), chat.user("carol"), chat.user("dave")
    room = chat.group(owner, [bob], name="history")["id"]
    chat.send(bob, room, "hi all")
    chat.add_members(owner, room, carol, dave)
    chat.patch(f"rooms/{room}", {"name": "renamed"}, owner.access)
    chat.patch(f"rooms/{room}", {"topic": "a topic"}, owner.access)
    chat.set_role(owner, room, bob.id, "admin")
    chat.send(carol, room, "hello")
    chat.remove_member(bob, room, dave.id)
    chat.remove_member(carol, room, carol.id)
    chat.remove_member(owner, room, owner.id)

    timeline = chat.all_messages(bob, room)
    assert [m["seq"] for m in timeline] == list(range(1, len(timeline) + 1)), "one seq per entry, no gaps"
    assert chat.room(bob, room)["last_seq"] == len(timeline)
    # Creating a room with members may also record them as added; that entry names bob alone.
    types = [event["type"] for event in events(timeline)
             if not (event["type"] == "members_added" and event.get("user_ids") == [bob.id])]
    head = ["room_created", "members_added", "room_renamed", "topic_changed", "role_changed", "member_removed",
            "member_left"]
    assert types in (head + ["member_left", "owner_changed"], head + ["owner_changed", "member_left"]), types
    for message in timeline:
        if message["kind"] == "system":
            assert message["sender_id"] is None and message["content"].strip(), message
            assert message["client_msg_id"] is None and message["reactions"] == [], message
    users = [m["content"] for m in timeline if m["kind"] == "user"]
    assert users == ["hi all", "hello"], timeline
    by_type = {event["type"]: event for event in events(timeline)}
    assert by_type["room_created"]["actor_id"] == owner.id
    assert by_type["role_changed"]["user_ids"] == [bob.id]
    assert by_type["member_removed"]["actor_id"] == bob.id and by_type["member_removed"]["user_ids"] == [dave.id]
    assert bob.id in by_type["owner_changed"].get("user_ids", []), by_type["owner_changed"]
    # A system message cannot be edited or deleted like a user's message.
    system_id = timeline[0]["id"]
    refused = chat.edit(bob, room, system_id, "rewritten")
    assert refused.status in (403, 422), f"editing a system message: {refused.describe()}"
