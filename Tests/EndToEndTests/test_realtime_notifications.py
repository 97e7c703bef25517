"""Realtime protocol, notifications: friend requests (asked, accepted, cancelled, unfriended) and room membership
(ROOM_ADDED when created, added or a DM is opened; ROOM_REMOVED when removed, left or deleted). A connection
follows its user's rooms as they change: events of a new room arrive at once, those of a room left stop."""

from __future__ import annotations

from chathelpers import assert_status
from wshelpers import QUIET, rt, start_rt  # noqa: F401


def test_friend_request_notifications(rt):
    chat = rt.chat
    alice, bob, carol = chat.user("alice"), chat.user("bob"), chat.user("carol")
    a, b, c = rt.connect(alice), rt.connect(bob), rt.connect(carol)

    asked = chat.request_friend(alice, bob.id)
    assert_status(asked, 201, "alice asks bob")
    request_id = asked.json()["id"]
    frame = b.expect("FRIEND_REQUEST")
    assert frame["data"] == {"request_id": request_id, "user_id": alice.id} and frame["sender_id"] == alice.id, frame

    assert chat.delete(f"friends/requests/{request_id}", token=alice.access).status == 204
    frame = b.expect("FRIEND_REQUEST_CANCELLED")
    assert frame["data"] == {"request_id": request_id, "user_id": alice.id}, frame

    again = chat.request_friend(alice, bob.id)
    assert_status(again, 201, "alice asks again")
    again_id = again.json()["id"]
    assert b.expect("FRIEND_REQUEST")["data"]["request_id"] == again_id
    assert_status(chat.post(f"friends/requests/{again_id}/accept", token=bob.access), 200, "bob accepts")
    frame = a.expect("FRIEND_REQUEST_ACCEPTED")
    assert frame["data"] == {"request_id": again_id, "user_id": bob.id} and frame["sender_id"] == bob.id, frame

    assert chat.delete(f"friends/{alice.id}", token=bob.access).status in (200, 204)
    frame = a.expect("FRIEND_REMOVED")
    assert frame["data"] == {"user_id": bob.id}, frame

    # Asking someone who already asked you makes you friends at once: the first asker hears it was accepted.
    first = chat.request_friend(carol, alice.id)
    assert_status(first, 201, "carol asks alice")
    first_id = first.json()["id"]
    assert a.expect("FRIEND_REQUEST", user_id=carol.id)["data"]["request_id"] == first_id
    assert_status(chat.request_friend(alice, carol.id), 200, "alice asks carol back")
    assert c.expect("FRIEND_REQUEST_ACCEPTED")["data"]["user_id"] == alice.id

    # Nobody else heard any of it, and the actors got no copy of their own notifications.
    c.no_frame("FRIEND_REQUEST", within=QUIET, user_id=alice.id)
    c.never_got("FRIEND_REMOVED")
    a.never_got("FRIEND_REQUEST", user_id=alice.id)
    b.never_got("FRIEND_REQUEST_ACCEPTED")


def test_room_membership_notifications(rt):
    chat = rt.chat
    alice, bob, carol, dave = (chat.user(name) for name in ("alice", "bob", "carol", "dave"))
    a, b, c, d = rt.connect(alice), rt.connect(bob), rt.connect(carol), rt.connect(dave)

    room = chat.group(alice, [bob], name="new")["id"]
    creators = []
    for ws in (a, b):
        frame = ws.expect("ROOM_ADDED", chat_room_id=room)
        assert frame["data"] == {"chat_room_id": room, "kind": "group"}, frame
        creators.append(frame["sender_id"])
    # Bob's connection follows the new room at once: messages, viewing, typing.
    said = chat.send(alice, room, "welcome")
    b.expect("NEW_MESSAGE", id=said["id"])
    b.join(room)
    assert b.send_message(room, "thanks")["seq"] > said["seq"]

    chat.add_members(alice, room, carol)
    frame = c.expect("ROOM_ADDED", chat_room_id=room)
    assert frame["data"] == {"chat_room_id": room, "kind": "group"}, frame
    event = b.expect("NEW_MESSAGE", lambda m: m.get("kind") == "system"
                     and (m.get("event") or {}).get("type") == "members_added")
    assert event["data"]["chat_room_id"] == room
    said = chat.send(alice, room, "hello carol")
    c.expect("NEW_MESSAGE", id=said["id"])

    # Removed: ROOM_REMOVED, and nothing from the room afterwards.
    assert_status(chat.remove_member(alice, room, carol.id), 204, "remove carol")
    frame = c.expect("ROOM_REMOVED", chat_room_id=room)
    assert frame["data"] == {"chat_room_id": room, "reason": "removed"}, frame
    c.call_error("SEND_MESSAGE", {"chat_room_id": room, "content": "still here?"}, "not_found")
    c.call_error("JOIN_ROOM", {"chat_room_id": room}, "not_found")
    after = chat.send(alice, room, "carol is gone")
    carol_dm = chat.dm(alice, carol)["id"]
    frame = c.expect("ROOM_ADDED", chat_room_id=carol_dm)
    assert frame["data"] == {"chat_room_id": carol_dm, "kind": "direct"}, frame
    assert a.expect("ROOM_ADDED", chat_room_id=carol_dm)["data"]["kind"] == "direct"
    barrier = chat.send(alice, carol_dm, "only to you now")
    c.expect("NEW_MESSAGE", id=barrier["id"])
    c.never_got("NEW_MESSAGE", id=after["id"], what="a message of a room carol was removed from")

    # Left.
    assert_status(chat.remove_member(bob, room, bob.id), 204, "bob leaves")
    frame = b.expect("ROOM_REMOVED", chat_room_id=room)
    assert frame["data"] == {"chat_room_id": room, "reason": "left"}, frame
    left_event = a.expect("NEW_MESSAGE", lambda m: (m.get("event") or {}).get("type") == "member_left")
    assert left_event["data"]["chat_room_id"] == room

    # Deleted.
    chat.add_members(alice, room, dave)
    d.expect("ROOM_ADDED", chat_room_id=room)
    assert_status(chat.delete(f"rooms/{room}", token=alice.access), 204, "delete the room")
    for ws in (a, d):
        frame = ws.expect("ROOM_REMOVED", chat_room_id=room)
        assert frame["data"] == {"chat_room_id": room, "reason": "deleted"}, frame
    d.call_error("JOIN_ROOM", {"chat_room_id": room}, "not_found")

    # A new connection lists the rooms as they are now.
    assert sorted(rt.connect(carol, "carol-2").connected["data"]["rooms"]) == [carol_dm]
    assert rt.connect(bob, "bob-2").connected["data"]["rooms"] == []
    b.never_got("ROOM_ADDED", chat_room_id=carol_dm)
    assert creators == [alice.id, alice.id], f"ROOM_ADDED envelope sender_id (who created the room): {creators}"
