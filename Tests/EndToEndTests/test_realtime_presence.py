"""Realtime protocol, presence: a user is online while a connection is open and offline `realtime.presence_grace`
(1 s here) after the last one closed, with `last_seen_at` stored; PRESENCE goes to friends and co-members only,
and `GET /users/:id/presence` answers the user, friends and co-members (404 for anyone else)."""

from __future__ import annotations

from authhelpers import assert_recent_ms, now_ms
from chathelpers import assert_error, assert_status
from wshelpers import QUIET, rt, start_rt  # noqa: F401


def presence(chat, viewer, user):
    response = chat.get(f"users/{user.id}/presence", viewer.access)
    assert_status(response, 200, f"presence of {user.username} for {viewer.username}")
    document = response.json()
    assert set(document) == {"user_id", "status", "last_seen_at"} and document["user_id"] == user.id, document
    assert document["status"] in ("online", "offline"), document
    return document


def test_online_then_offline(rt):
    chat = rt.chat
    alice, friend, comember, stranger = (chat.user(name) for name in ("alice", "friend", "comember", "stranger"))
    chat.befriend(alice, friend)
    room = chat.group(comember, [alice], name="shared")["id"]

    before = presence(chat, friend, alice)
    assert before == {"user_id": alice.id, "status": "offline", "last_seen_at": None}, "never seen yet"
    assert_error(chat.get(f"users/{alice.id}/presence", stranger.access), 404, "not_found", "a stranger asks")
    assert_error(chat.get("users/987654/presence", friend.access), 404, "not_found", "no such user")

    f, m, s = rt.connect(friend), rt.connect(comember), rt.connect(stranger)
    a = rt.connect(alice)
    for ws in (f, m):
        frame = ws.expect("PRESENCE", user_id=alice.id)
        assert frame["data"] == {"user_id": alice.id, "status": "online", "last_seen_at": None}, frame
        assert frame["sender_id"] == alice.id, frame
    for viewer in (alice, friend, comember):
        assert presence(chat, viewer, alice) == {"user_id": alice.id, "status": "online", "last_seen_at": None}

    # A second device changes nothing; closing one of two changes nothing either.
    a2 = rt.connect(alice, "alice-2", token=chat.login_account(alice).access)
    a2.close()
    closed_at = now_ms()
    a.close()
    for ws in (f, m):
        frame = ws.expect("PRESENCE", user_id=alice.id, status="offline", timeout=10)
        seen = frame["data"]["last_seen_at"]
        assert_recent_ms(seen)
        assert seen >= closed_at - 1000, (seen, closed_at)  # the last connection's close, not an earlier moment
        assert frame["data"] == {"user_id": alice.id, "status": "offline", "last_seen_at": seen}, frame
    for ws in (f, m):
        statuses = [x["data"]["status"] for x in ws.got("PRESENCE", user_id=alice.id)]
        assert statuses == ["online", "offline"], statuses
    offline = presence(chat, friend, alice)
    assert offline["status"] == "offline" and offline["last_seen_at"] == seen, offline
    assert presence(chat, comember, alice) == offline

    # The stranger heard nothing, and still gets 404.
    s.no_frame("PRESENCE", within=QUIET)
    assert_error(chat.get(f"users/{alice.id}/presence", stranger.access), 404, "not_found", "a stranger asks")

    # last_seen_at is stored: the next connection is online again, and the value survives in the account.
    a3 = rt.connect(alice, "alice-3")
    assert f.expect("PRESENCE", user_id=alice.id, status="online")["data"]["last_seen_at"] is None
    a3.close()
    later = f.expect("PRESENCE", user_id=alice.id, status="offline", timeout=10)["data"]["last_seen_at"]
    assert later >= seen
    connection = rt.server.db()
    try:
        row = connection.execute("SELECT last_seen_at FROM users WHERE id = ?", (alice.id,)).fetchone()
    finally:
        connection.close()
    assert row is not None and row[0] is not None, "users.last_seen_at is stored"

    # Unfriending and leaving the shared room stop the events and the answers.
    assert chat.delete(f"friends/{friend.id}", token=alice.access).status in (200, 204)
    assert_status(chat.remove_member(alice, room, alice.id), 204, "alice leaves")
    for viewer in (friend, comember):
        assert_error(chat.get(f"users/{alice.id}/presence", viewer.access), 404, "not_found", viewer.username)
    rt.connect(alice, "alice-4")
    f.drain(QUIET)
    m.drain(QUIET)
    assert len(f.got("PRESENCE", user_id=alice.id, status="online")) == 2, "PRESENCE to a former friend"
    assert len(m.got("PRESENCE", user_id=alice.id, status="online")) == 2, "PRESENCE to a former co-member"


def test_reconnect_within_the_grace_changes_nothing(start_rt):
    rt = start_rt(env={"CHAT_REALTIME_PRESENCE_GRACE": "2s"})
    chat = rt.chat
    alice, friend = chat.user("alice"), chat.user("friend")
    chat.befriend(alice, friend)
    f = rt.connect(friend)
    a = rt.connect(alice)
    f.expect("PRESENCE", user_id=alice.id, status="online")

    a.drop()
    again = rt.connect(alice, "alice-again")  # well within the 2 s grace
    again.close()
    f.expect("PRESENCE", user_id=alice.id, status="offline", timeout=10)
    statuses = [x["data"]["status"] for x in f.got("PRESENCE", user_id=alice.id)]
    assert statuses == ["online", "offline"], f"the reconnect showed: {statuses}"
