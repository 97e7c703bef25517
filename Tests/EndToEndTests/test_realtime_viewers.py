"""Realtime protocol, viewers and typing: JOIN_ROOM / LEAVE_ROOM answered with JOIN_SUCCESS + USERS /
LEAVE_SUCCESS, USER_JOINED / USER_LEFT for a user's first / last viewing connection (closing a connection leaves
its rooms), TYPING forwarded to the other viewers only, stopped by `is_typing:false` or by itself after
`realtime.typing_timeout` (1 s here), and at most one `true` per user, room and second."""

from __future__ import annotations

import math
import time

from wshelpers import rt, start_rt  # noqa: F401


def users_of(frame) -> list[int]:
    data = frame["data"]
    assert set(data) == {"chat_room_id", "users"}, frame
    assert len(data["users"]) == len(set(data["users"])), f"a user listed twice: {frame}"
    return sorted(data["users"])


def test_join_and_leave(rt):
    chat = rt.chat
    alice, bob, carol = chat.user("alice"), chat.user("bob"), chat.user("carol")
    room = chat.group(alice, [bob, carol], name="viewers")["id"]
    other = chat.group(alice, [bob], name="other")["id"]
    last_seq = chat.room(alice, room)["last_seq"]
    a, b1, c = rt.connect(alice), rt.connect(bob, "bob-1"), rt.connect(carol)
    b2 = rt.connect(bob, "bob-2", token=chat.login_account(bob).access)

    id_ = a.send("JOIN_ROOM", {"chat_room_id": room}, "join-1")
    joined = a.reply(id_, "JOIN_SUCCESS")
    assert joined["type"] == "JOIN_SUCCESS" and joined["sender_id"] is None, joined
    assert joined["data"] == {"ref": "join-1", "chat_room_id": room, "last_seq": last_seq}, joined
    # USERS follows JOIN_SUCCESS.
    index = a.frames.index(joined)
    assert users_of(a.expect("USERS", chat_room_id=room)) == [alice.id]
    assert any(f["type"] == "USERS" for f in a.frames[index + 1:]), "USERS came before JOIN_SUCCESS"

    b1.join(room)
    assert users_of(b1.expect("USERS", chat_room_id=room)) == sorted([alice.id, bob.id])
    frame = a.expect("USER_JOINED", chat_room_id=room)
    assert frame["data"] == {"chat_room_id": room, "user_id": bob.id} and frame["sender_id"] == bob.id, frame

    # Bob's second device: it sees bob once; nobody is told bob joined again. Joining twice is harmless.
    b2.join(room)
    assert users_of(b2.expect("USERS", chat_room_id=room)) == sorted([alice.id, bob.id])
    b2.join(room)
    assert users_of(b2.expect("USERS", chat_room_id=room)) == sorted([alice.id, bob.id])
    b2.leave(room)
    # Bob still views the room from bob-1: no USER_LEFT. Carol joining is the barrier for both.
    c.join(room)
    assert users_of(c.expect("USERS", chat_room_id=room)) == sorted([alice.id, bob.id, carol.id])
    assert a.expect("USER_JOINED", chat_room_id=room)["data"]["user_id"] == carol.id
    assert len(a.got("USER_JOINED", user_id=bob.id)) == 1, "bob's second device announced him again"
    a.never_got("USER_LEFT", what="USER_LEFT while bob still views the room")
    assert b1.expect("USER_JOINED", chat_room_id=room)["data"]["user_id"] == carol.id
    b2.never_got("USER_JOINED", chat_room_id=room, user_id=carol.id)  # bob-2 no longer views the room

    # Viewing is per room: joining `other` tells nobody in `room` anything.
    a.join(other)
    assert users_of(a.expect("USERS", chat_room_id=other)) == [alice.id]

    b1.leave(room)
    for ws in (a, c):
        frame = ws.expect("USER_LEFT", chat_room_id=room)
        assert frame["data"] == {"chat_room_id": room, "user_id": bob.id} and frame["sender_id"] == bob.id, frame
    b1.leave(room)  # leaving a room one does not view is harmless too

    # Closing a connection leaves its rooms.
    c.close()
    frame = a.expect("USER_LEFT", chat_room_id=room)
    assert frame["data"]["user_id"] == carol.id, frame
    b1.join(room)
    assert users_of(b1.expect("USERS", chat_room_id=room)) == sorted([alice.id, bob.id])

    # Viewing does not change what a member receives: messages reach joined and non-joined connections.
    said = chat.send(alice, room, "to everyone")
    for ws in (b1, b2):
        ws.expect("NEW_MESSAGE", id=said["id"])

    a.call_error("JOIN_ROOM", {"chat_room_id": 987654}, "not_found")
    a.call_error("JOIN_ROOM", {}, "validation_failed")
    a.call_error("LEAVE_ROOM", {"chat_room_id": "x"}, "validation_failed")


def test_typing_start_stop_and_expiry(rt):
    chat = rt.chat
    alice, bob, carol = chat.user("alice"), chat.user("bob"), chat.user("carol")
    room = chat.group(alice, [bob, carol], name="typing")["id"]
    a, b, c = rt.connect(alice), rt.connect(bob), rt.connect(carol)  # carol is a member who does not view
    a2 = rt.connect(alice, "alice-2", token=chat.login_account(alice).access)
    for ws in (a, b, a2):
        ws.join(room)

    b.send("TYPING", {"chat_room_id": room, "is_typing": True})
    for ws in (a, a2):
        frame = ws.expect("TYPING", user_id=bob.id, is_typing=True)
        assert frame["data"] == {"chat_room_id": room, "user_id": bob.id, "is_typing": True}, frame
        assert frame["sender_id"] == bob.id, frame
    b.send("TYPING", {"chat_room_id": room, "is_typing": False})
    for ws in (a, a2):
        assert ws.expect("TYPING", user_id=bob.id)["data"]["is_typing"] is False

    # Expiry: a `true` that is not refreshed turns into `false` by itself (typing_timeout is 1 s).
    a.send("TYPING", {"chat_room_id": room, "is_typing": True})
    assert b.expect("TYPING", user_id=alice.id, is_typing=True)
    stopped = b.expect("TYPING", user_id=alice.id, timeout=10)
    assert stopped["data"] == {"chat_room_id": room, "user_id": alice.id, "is_typing": False}, stopped

    # Barrier for the negative checks: a message reaches everyone after every TYPING above.
    said = chat.send(carol, room, "barrier")
    for ws in (a, b, c, a2):
        ws.expect("NEW_MESSAGE", id=said["id"])
    c.never_got("TYPING", what="TYPING for a member who does not view the room")
    b.never_got("TYPING", user_id=bob.id, what="bob's own typing")
    a2.never_got("TYPING", user_id=alice.id, what="a user's own typing on their other device")
    assert len(b.got("TYPING", user_id=alice.id, is_typing=False)) == 1, "one expiry, one false"

    # Nothing is stored: the history has the barrier message only.
    assert [m["content"] for m in chat.all_messages(alice, room) if m["kind"] == "user"] == ["barrier"]

    # is_typing must be a boolean.
    a.call_error("TYPING", {"chat_room_id": room, "is_typing": "yes"}, "validation_failed")
    a.call_error("TYPING", {"chat_room_id": room}, "validation_failed")


def test_typing_true_is_throttled(rt):
    chat = rt.chat
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.group(alice, [bob], name="throttle")["id"]
    a, b = rt.connect(alice), rt.connect(bob)
    a.join(room)
    b.join(room)

    started = time.monotonic()
    for _ in range(10):
        a.send("TYPING", {"chat_room_id": room, "is_typing": True})
    elapsed = time.monotonic() - started
    a.send("TYPING", {"chat_room_id": room, "is_typing": False})
    b.expect("TYPING", user_id=alice.id, is_typing=False)
    trues = b.got("TYPING", user_id=alice.id, is_typing=True)
    # At most one `true` per second: ten sent within `elapsed` seconds allow ceil(elapsed) + 1.
    assert 1 <= len(trues) <= math.ceil(elapsed) + 1, f"{len(trues)} TYPING true forwarded in {elapsed:.2f}s"
