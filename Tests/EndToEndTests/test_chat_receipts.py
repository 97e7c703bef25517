"""Read receipts (forward only, clamped to the newest seq, per member) and unread counts (per room, in the room
list, and the /unread totals across rooms; own messages never count)."""

from __future__ import annotations

from chathelpers import assert_status


def read(chat, account, room, seq):
    response = chat.mark_read(account, room, seq)
    assert_status(response, 200, f"read {seq}")
    document = response.json()
    assert set(document) == {"room_id", "last_read_seq", "unread_count"}, document
    assert document["room_id"] == room, document
    return document["last_read_seq"], document["unread_count"]


def test_read_receipts(chat):
    alice, bob, carol = chat.user("alice"), chat.user("bob"), chat.user("carol")
    room = chat.group(alice, [bob, carol], name="receipts")["id"]
    for index in range(5):
        chat.send(alice, room, f"m{index}")
    last = chat.room(bob, room)["last_seq"]
    assert last >= 5

    assert read(chat, bob, room, last - 2) == (last - 2, 2)
    assert read(chat, bob, room, last - 4) == (last - 2, 2), "a receipt never moves back"
    assert read(chat, bob, room, 0) == (last - 2, 2)
    assert read(chat, bob, room, last + 1000) == (last, 0), "clamped to the newest seq"
    seen = chat.room(bob, room)
    assert seen["last_read_seq"] == last and seen["unread_count"] == 0, seen

    receipts = chat.receipts(carol, room)
    assert set(receipts) == {alice.id, bob.id, carol.id}, receipts
    assert receipts[alice.id] == last, "sending moved alice's receipt to her message"
    assert receipts[bob.id] == last
    assert receipts[carol.id] < last, receipts
    members = {m["user"]["id"]: m["last_read_seq"] for m in chat.members(carol, room)}
    assert members == receipts, (members, receipts)

    chat.send(carol, room, "carol catches up by talking")
    newest = last + 1
    receipts = chat.receipts(alice, room)
    assert receipts == {alice.id: last, bob.id: last, carol.id: newest}, receipts
    assert chat.room(bob, room)["unread_count"] == 1

    assert_status(chat.remove_member(alice, room, carol.id), 204, "remove carol")
    receipts = chat.receipts(bob, room)
    assert set(receipts) == {alice.id, bob.id}, "a removed member has no receipt"


def test_unread_counts(chat):
    me, alice, bob = chat.user("myself"), chat.user("alice"), chat.user("bob")
    one = chat.group(alice, [me, bob], name="one")["id"]
    two = chat.group(bob, [me], name="two")["id"]
    direct = chat.dm(me, alice)["id"]
    elsewhere = chat.group(alice, [bob], name="not mine")["id"]
    for room in (one, two, direct):
        chat.read_all(me, room)

    rooms, total = chat.unread(me)
    assert set(rooms) == {one, two, direct}, rooms
    assert total == 0 and all(entry["unread_count"] == 0 for entry in rooms.values()), rooms

    for index in range(3):
        chat.send(alice, one, f"one {index}")
    chat.send(bob, two, "two")
    chat.send(alice, direct, "psst")
    chat.send(alice, elsewhere, "not for me")
    rooms, total = chat.unread(me)
    assert {room: entry["unread_count"] for room, entry in rooms.items()} == {one: 3, two: 1, direct: 1}, rooms
    assert total == 5
    listed = {room["id"]: room for room in chat.rooms(me)}
    for room, entry in rooms.items():
        assert listed[room]["unread_count"] == entry["unread_count"], (listed[room], entry)
        assert listed[room]["last_seq"] == entry["last_seq"] and listed[room]["last_read_seq"] == entry[
            "last_read_seq"], (listed[room], entry)

    # My own messages never count, and sending reads everything before it.
    chat.send(me, one, "I was away")
    rooms, total = chat.unread(me)
    assert rooms[one]["unread_count"] == 0 and total == 2, rooms
    chat.send(me, two, "me too")
    chat.send(me, two, "and again")
    assert chat.unread(me)[1] == 1

    # Others' new messages raise it again, one for one; reading part of them lowers it.
    for index in range(4):
        chat.send(bob, one, f"bob {index}")
    rooms, total = chat.unread(me)
    assert rooms[one]["unread_count"] == 4 and total == 5, rooms
    assert read(chat, me, one, rooms[one]["last_seq"] - 1) == (rooms[one]["last_seq"] - 1, 1)
    assert read(chat, me, direct, 1 << 40)[1] == 0
    assert chat.unread(me)[1] == 1

    # The others' view: alice sent in `one` and has read up to her message only.
    alice_rooms, _ = chat.unread(alice)
    assert alice_rooms[one]["unread_count"] == 1 + 4, alice_rooms[one]
    assert set(alice_rooms) == {one, direct, elsewhere}
