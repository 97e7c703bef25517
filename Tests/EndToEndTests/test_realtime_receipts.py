"""Realtime protocol, read receipts: READ_RECEIPT over the socket or `POST /rooms/:id/read` moves the reader's
position and every member connection (the reader's own included) gets READ_RECEIPT, only when the position
moved; the stored receipts agree."""

from __future__ import annotations

from chathelpers import assert_status
from wshelpers import rt, start_rt  # noqa: F401


def test_read_receipts(rt):
    chat = rt.chat
    alice, bob, carol = chat.user("alice"), chat.user("bob"), chat.user("carol")
    room = chat.group(alice, [bob, carol], name="receipts")["id"]
    sent = [chat.send(alice, room, f"m{index}") for index in range(4)]
    seqs = [message["seq"] for message in sent]
    a = rt.connect(alice)
    b1 = rt.connect(bob, "bob-1")
    b2 = rt.connect(bob, "bob-2", token=chat.login_account(bob).access)
    c = rt.connect(carol)  # a member who never joins the room: receipts reach her anyway

    b1.send("READ_RECEIPT", {"chat_room_id": room, "seq": seqs[1]})
    for ws in (a, b1, b2, c):
        frame = ws.expect("READ_RECEIPT", user_id=bob.id)
        assert frame["data"] == {"chat_room_id": room, "user_id": bob.id, "seq": seqs[1]}, frame
        assert frame["sender_id"] == bob.id, frame
    assert chat.receipts(carol, room)[bob.id] == seqs[1]

    # Not moving forward: no event. The next real move is the barrier.
    b1.send("READ_RECEIPT", {"chat_room_id": room, "seq": seqs[1]})
    b2.send("READ_RECEIPT", {"chat_room_id": room, "seq": seqs[0]})
    b1.send("READ_RECEIPT", {"chat_room_id": room, "seq": 0})
    b2.send("READ_RECEIPT", {"chat_room_id": room, "seq": seqs[2]})
    for ws in (a, b1, b2, c):
        assert ws.expect("READ_RECEIPT", user_id=bob.id)["data"]["seq"] == seqs[2]
        assert [f["data"]["seq"] for f in ws.got("READ_RECEIPT", user_id=bob.id)] == [seqs[1], seqs[2]], ws

    # Beyond the newest seq: clamped, as over REST.
    b1.send("READ_RECEIPT", {"chat_room_id": room, "seq": seqs[3] + 1000})
    assert a.expect("READ_RECEIPT", user_id=bob.id)["data"]["seq"] == seqs[3]
    assert chat.receipts(alice, room)[bob.id] == seqs[3]

    # REST receipts produce the same event.
    assert_status(chat.mark_read(carol, room, seqs[2]), 200, "carol reads over REST")
    for ws in (a, b1, b2, c):
        frame = ws.expect("READ_RECEIPT", user_id=carol.id)
        assert frame["data"] == {"chat_room_id": room, "user_id": carol.id, "seq": seqs[2]}, frame

    for data in ({"chat_room_id": room}, {"chat_room_id": room, "seq": "3"}, {"seq": 3}):
        b1.call_error("READ_RECEIPT", data, "validation_failed")
    other = chat.group(carol, name="not bob's")["id"]
    b1.call_error("READ_RECEIPT", {"chat_room_id": other, "seq": 1}, "not_found")
    assert b1.ping()
