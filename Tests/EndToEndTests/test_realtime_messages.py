"""Realtime protocol, messages: SEND_MESSAGE answered with ACK once committed (with the seq), NEW_MESSAGE to every
other connection of every member (the sender's other devices included, the sending connection never), REST writes
(post, edit, delete, reactions, room changes) producing the same events, idempotent resends of a client_msg_id,
and who may send (members only, not into a blocked direct room)."""

from __future__ import annotations

from chathelpers import THUMBS_UP, assert_status
from wshelpers import (  # noqa: F401
    assert_ack,
    assert_ws_message,
    rt,
    start_rt,
    without_me,
)

PARTY = "\U0001F389"


def stored(chat, account, room_id, message_id):
    for message in chat.all_messages(account, room_id):
        if message["id"] == message_id:
            return message
    raise AssertionError(f"message {message_id} is not in the history of room {room_id}")


def test_two_users_chat(rt):
    chat = rt.chat
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.dm(alice, bob)["id"]
    start = chat.room(alice, room)["last_seq"]
    a, b = rt.connect(alice), rt.connect(bob)

    ack = a.send_message(room, "hi bob", client_msg_id="a-1")
    assert ack["seq"] == start + 1 and ack["duplicate"] is False, ack
    # The ACK comes after the commit: the message is readable at once, by anyone.
    message = stored(chat, bob, room, ack["message_id"])
    assert message["seq"] == ack["seq"] and message["content"] == "hi bob" and message["client_msg_id"] == "a-1"

    event = b.expect("NEW_MESSAGE", lambda d: d.get("id") == ack["message_id"])
    assert event["sender_id"] == alice.id, event
    assert assert_ws_message(event["data"], room) == without_me(message), "NEW_MESSAGE carries the stored message"

    reply = b.send_message(room, "**hi** alice", mime_type="text/markdown", reply_to=ack["message_id"],
                           client_msg_id="b-1")
    assert reply["seq"] == start + 2, reply
    got = a.expect("NEW_MESSAGE", lambda d: d.get("id") == reply["message_id"])
    data = assert_ws_message(got["data"], room)
    assert got["sender_id"] == bob.id
    assert data["mime_type"] == "text/markdown" and data["reply_to"] == ack["message_id"], data
    assert data["sender_id"] == bob.id and data["kind"] == "user" and data["client_msg_id"] == "b-1", data

    # Bob's message reached alice after her own ACK: had she been sent her own NEW_MESSAGE, it would be here.
    a.never_got("NEW_MESSAGE", lambda d: d.get("id") == ack["message_id"], "own NEW_MESSAGE on the sending connection")
    b.never_got("NEW_MESSAGE", lambda d: d.get("id") == reply["message_id"])

    # Many in a row: ACKs in order, seqs consecutive, the other side sees them all in seq order.
    acks = [a.send_message(room, f"m{index}") for index in range(10)]
    assert [ack["seq"] for ack in acks] == list(range(start + 3, start + 13))
    seen = b.collect("NEW_MESSAGE", 10, lambda d: d.get("content", "").startswith("m"))
    assert [frame["data"]["seq"] for frame in seen] == [ack["seq"] for ack in acks]

    # Events flow from CONNECTED on: nothing committed before the connections opened (the DM's creation).
    for ws in (a, b):
        ws.never_got("NEW_MESSAGE", lambda d: d["seq"] <= start, what="an event from before CONNECTED")


def test_three_devices_of_one_user(rt):
    chat = rt.chat
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.group(alice, [bob], name="devices")["id"]
    phone = rt.connect(alice, "phone")
    laptop = rt.connect(alice, "laptop", token=chat.login_account(alice).access)
    tablet = rt.connect(alice, "tablet", token=chat.login_account(alice).access)
    b = rt.connect(bob)

    ack = phone.send_message(room, "from my phone", client_msg_id="phone-1")
    for device in (laptop, tablet, b):
        frame = device.expect("NEW_MESSAGE", lambda d: d.get("id") == ack["message_id"])
        assert frame["sender_id"] == alice.id and frame["data"]["seq"] == ack["seq"], frame
        assert frame["data"]["client_msg_id"] == "phone-1", "the other devices can match their own outbox"
    for device in (laptop, tablet):
        device.never_got("ACK", what="an ACK for another connection's message")

    # Barrier: bob's answer reaches the phone after anything about the phone's own message would have.
    answer = b.send_message(room, "hello all of you")
    for device in (phone, laptop, tablet):
        device.expect("NEW_MESSAGE", lambda d: d.get("id") == answer["message_id"])
    phone.never_got("NEW_MESSAGE", lambda d: d.get("id") == ack["message_id"], "its own message back")

    # A REST post by alice was sent by no connection: all three devices get it.
    posted = chat.send(alice, room, "from the web")
    for device in (phone, laptop, tablet, b):
        frame = device.expect("NEW_MESSAGE", lambda d: d.get("id") == posted["id"])
        assert frame["sender_id"] == alice.id


def test_rest_writes_produce_the_same_events(rt):
    chat = rt.chat
    alice, bob, carol = chat.user("alice"), chat.user("bob"), chat.user("carol")
    room = chat.group(alice, [bob, carol], name="rest")["id"]
    a, b = rt.connect(alice), rt.connect(bob)

    posted = chat.send(alice, room, "over REST", client_msg_id="r-1")
    for ws in (a, b):
        frame = ws.expect("NEW_MESSAGE", lambda d: d.get("id") == posted["id"])
        assert frame["sender_id"] == alice.id
        assert assert_ws_message(frame["data"], room) == without_me(posted)

    over_ws = b.send_message(room, "over the socket")

    # Edit (REST) -> MESSAGE_UPDATED with the edited message, to every connection including the editor's.
    assert_status(chat.edit(alice, room, posted["id"], "over REST, edited"), 200, "edit")
    for ws in (a, b):
        frame = ws.expect("MESSAGE_UPDATED", lambda d: d.get("id") == posted["id"])
        assert frame["sender_id"] == alice.id
        data = assert_ws_message(frame["data"], room, updated=True)
        assert data["content"] == "over REST, edited" and data["edited_at"] is not None, data
        assert data["seq"] == posted["seq"] and data["client_msg_id"] == "r-1", data
        assert data == without_me(stored(chat, carol, room, posted["id"]))

    # Reactions: REACTION with the summary after each change.
    assert_status(chat.react(bob, room, posted["id"], THUMBS_UP), 200, "react")
    for ws in (a, b):
        frame = ws.expect("REACTION", lambda d: d.get("user_id") == bob.id and d.get("added") is True)
        assert frame["sender_id"] == bob.id
        assert frame["data"] == {"chat_room_id": room, "message_id": posted["id"], "user_id": bob.id,
                                 "emoji": THUMBS_UP, "added": True, "reactions": [{"emoji": THUMBS_UP, "count": 1}]}
    assert_status(chat.react(alice, room, posted["id"], THUMBS_UP), 200, "react again")
    data = b.expect_data("REACTION", user_id=alice.id, added=True)
    assert data["reactions"] == [{"emoji": THUMBS_UP, "count": 2}], data
    assert_status(chat.react(alice, room, posted["id"], PARTY), 200, "another emoji")
    data = b.expect_data("REACTION", emoji=PARTY, added=True)
    assert sorted(data["reactions"], key=lambda r: r["emoji"]) == sorted(
        [{"emoji": THUMBS_UP, "count": 2}, {"emoji": PARTY, "count": 1}], key=lambda r: r["emoji"]), data
    assert chat.react(bob, room, posted["id"], THUMBS_UP, "DELETE").status in (200, 204)
    data = a.expect_data("REACTION", user_id=bob.id, added=False)
    assert data["emoji"] == THUMBS_UP and data["message_id"] == posted["id"], data
    assert {r["emoji"]: r["count"] for r in data["reactions"]} == {THUMBS_UP: 1, PARTY: 1}, data

    # A message sent over the socket is edited and deleted over REST like any other.
    assert_status(chat.edit(bob, room, over_ws["message_id"], "socket, edited"), 200, "edit")
    data = a.expect_data("MESSAGE_UPDATED", id=over_ws["message_id"])
    assert data["content"] == "socket, edited"
    assert chat.delete_message(bob, room, over_ws["message_id"]).status in (200, 204)
    for ws in (a, b):
        frame = ws.expect("MESSAGE_DELETED", message_id=over_ws["message_id"])
        assert frame["sender_id"] == bob.id
        assert frame["data"] == {"chat_room_id": room, "message_id": over_ws["message_id"], "seq": over_ws["seq"]}

    # Room changes are system messages, delivered as NEW_MESSAGE; the envelope names who caused them.
    system_senders = []
    assert_status(chat.patch(f"rooms/{room}", {"name": "renamed"}, alice.access), 200, "rename")
    for ws in (a, b):
        frame = ws.expect("NEW_MESSAGE", lambda d: d.get("kind") == "system"
                          and (d.get("event") or {}).get("type") == "room_renamed")
        data = assert_ws_message(frame["data"], room)
        assert data["sender_id"] is None, frame
        system_senders.append(frame["sender_id"])

    # The whole stream of one connection matches the history, seq for seq.
    history = chat.all_messages(carol, room)
    new_seqs = [f["data"]["seq"] for f in b.got("NEW_MESSAGE")]
    assert new_seqs == sorted(new_seqs) and len(set(new_seqs)) == len(new_seqs), new_seqs
    assert set(new_seqs) | {over_ws["seq"]} == {m["seq"] for m in history if m["seq"] >= posted["seq"]}
    assert system_senders == [alice.id, alice.id], f"envelope sender_id of the rename: {system_senders}"


def test_idempotent_resend(rt):
    chat = rt.chat
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.group(alice, [bob], name="idempotent")["id"]
    a, b = rt.connect(alice), rt.connect(bob)

    first = a.send_message(room, "exactly once", client_msg_id="once-1")
    again = a.call("SEND_MESSAGE", {"chat_room_id": room, "content": "exactly once", "client_msg_id": "once-1"},
                   "ACK")
    resent = assert_ack(again, room, "once-1", duplicate=True)
    assert (resent["message_id"], resent["seq"]) == (first["message_id"], first["seq"]), (first, resent)

    # After a reconnect (the usual reason to resend), from another device, and over REST: still the original.
    a.drop()
    a2 = rt.connect(alice, "alice-again")
    third = assert_ack(a2.call("SEND_MESSAGE", {"chat_room_id": room, "content": "exactly once",
                                                "client_msg_id": "once-1"}, "ACK"), room, "once-1", duplicate=True)
    assert third["message_id"] == first["message_id"] and third["seq"] == first["seq"]
    rest = chat.post_message(alice, room, "exactly once", client_msg_id="once-1")
    assert_status(rest, 200, "REST retry")
    assert rest.json()["id"] == first["message_id"]

    barrier = a2.send_message(room, "next", client_msg_id="once-2")
    assert barrier["seq"] == first["seq"] + 1, "nothing was stored in between"
    b.expect("NEW_MESSAGE", lambda d: d.get("id") == barrier["message_id"])
    copies = b.got("NEW_MESSAGE", lambda d: d.get("client_msg_id") == "once-1")
    assert len(copies) == 1, f"bob got the message {len(copies)} times"
    contents = [m["content"] for m in chat.all_messages(bob, room) if m["kind"] == "user"]
    assert contents == ["exactly once", "next"], contents

    # The same client_msg_id from bob, or in another room, is a new message.
    other = chat.group(alice, [bob], name="other")["id"]
    assert b.send_message(room, "bob's", client_msg_id="once-1")["duplicate"] is False
    assert a2.send_message(other, "elsewhere", client_msg_id="once-1")["duplicate"] is False


def test_non_members_cannot_join_or_send(rt):
    chat = rt.chat
    alice, bob, carol = chat.user("alice"), chat.user("bob"), chat.user("carol")
    room = chat.group(alice, [bob], name="private")["id"]
    start = chat.room(alice, room)["last_seq"]
    own = chat.group(carol, [alice], name="carol's")["id"]
    c, b = rt.connect(carol), rt.connect(bob)

    for room_id in (room, 987654):
        c.call_error("JOIN_ROOM", {"chat_room_id": room_id}, "not_found")
        c.call_error("SEND_MESSAGE", {"chat_room_id": room_id, "content": "let me in"}, "not_found")
        c.call_error("TYPING", {"chat_room_id": room_id, "is_typing": True}, "not_found")
        c.call_error("READ_RECEIPT", {"chat_room_id": room_id, "seq": 1}, "not_found")
    assert c.ping(), "the connection stays open"
    assert chat.room(alice, room)["last_seq"] == start, "nothing was stored"

    # And carol hears nothing from the room, while her own room works.
    said = chat.send(alice, room, "members only")
    b.expect("NEW_MESSAGE", id=said["id"])
    mine = chat.send(alice, own, "for carol")
    c.expect("NEW_MESSAGE", id=mine["id"])
    c.never_got("NEW_MESSAGE", room_id=room)
    c.send_message(own, "carol can still send")


def test_blocked_direct_room_and_validation(rt):
    chat = rt.chat
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.dm(alice, bob)["id"]
    a, b = rt.connect(alice), rt.connect(bob)

    for data, fields in (
        ({"content": "no room"}, {"chat_room_id"}),
        ({"chat_room_id": room}, {"content"}),
        ({"chat_room_id": room, "content": ""}, {"content"}),
        ({"chat_room_id": room, "content": "  \n "}, {"content"}),
        ({"chat_room_id": "abc", "content": "x"}, {"chat_room_id"}),
        ({"chat_room_id": room, "content": 5}, {"content"}),
        ({"chat_room_id": room, "content": "x", "mime_type": "text/html"}, {"mime_type"}),
        ({"chat_room_id": room, "content": "x", "client_msg_id": "c" * 65}, {"client_msg_id"}),
        ({"chat_room_id": room, "content": "x" * (16 * 1024 + 1)}, {"content"}),
    ):
        error = a.call_error("SEND_MESSAGE", data, "validation_failed")
        assert fields <= set(error.get("fields") or {}), (data if len(str(data)) < 200 else fields, error)
    assert a.ping()
    assert a.send_message(room, "x" * (16 * 1024))["seq"] > 0, "16 KiB is allowed"

    chat.block(alice, bob.id)
    b.call_error("SEND_MESSAGE", {"chat_room_id": room, "content": "please"}, "not_allowed")
    assert b.ping()
    b.join(room)  # reading (and viewing) the room is still allowed, as over REST


def test_events_flow_from_connected_on(rt):
    """A connection gets the events committed after its CONNECTED, not those of writes that had already been
    answered before it opened (a client loads history over REST after connecting; replays are RESUME's job)."""
    chat = rt.chat
    alice, bob = chat.user("alice"), chat.user("bob")
    a = rt.connect(alice)
    for round_ in range(15):
        room = chat.group(alice, [bob], name=f"round {round_}")["id"]
        before = chat.send(alice, room, "before bob connects")
        b = rt.connect(bob, f"bob-{round_}")
        assert room in b.connected["data"]["rooms"]
        after = a.send_message(room, "after bob connected")
        b.expect("NEW_MESSAGE", id=after["message_id"])
        early = [f["data"]["seq"] for f in b.got("NEW_MESSAGE", chat_room_id=room) if f["data"]["seq"] <= before["seq"]]
        assert not early, f"round {round_}: NEW_MESSAGE seqs {early} committed before CONNECTED (last {before['seq']})"
        early_rooms = b.got("ROOM_ADDED", chat_room_id=room)
        assert not early_rooms, f"round {round_}: ROOM_ADDED for a room created before CONNECTED: {early_rooms}"
        b.close()
