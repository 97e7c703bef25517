"""Realtime protocol, resume: after a dropped connection, RESUME {room: last_seq} replays the missed messages as
NEW_MESSAGE in seq order (after any that arrived live before the server read the RESUME), then RESUMED, then live
traffic, with no gap and no duplicate (seqs exactly contiguous), also while messages keep arriving; more than `realtime.resume_max` missed gives `complete:false` and the rest is
paged over REST."""

from __future__ import annotations

import threading

import pytest

from chathelpers import assert_status
from wshelpers import WS, joined, rt, run_in_thread, start_rt  # noqa: F401


def room_seqs(ws, room_id) -> list[int]:
    return [frame["data"]["seq"] for frame in ws.got("NEW_MESSAGE", chat_room_id=room_id)]


def resumed_of(ws, id_, room_id) -> dict:
    frame = ws.expect("RESUMED", chat_room_id=room_id, ref=id_)
    data = frame["data"]
    assert set(data) == {"ref", "chat_room_id", "from_seq", "to_seq", "complete"}, frame
    assert frame["sender_id"] is None, frame
    return data


def test_resume_after_a_dropped_connection(start_rt):
    rt = start_rt(env={"CHAT_REALTIME_RESUME_MAX": "100"})
    chat = rt.chat
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.group(alice, [bob], name="resume")["id"]
    quiet = chat.group(alice, [bob], name="quiet")["id"]
    a, b = rt.connect(alice), rt.connect(bob)

    first = a.send_message(room, "before the tunnel")
    b.expect("NEW_MESSAGE", id=first["message_id"])
    last_seen = max(room_seqs(b, room))
    quiet_seq = chat.room(bob, quiet)["last_seq"]
    b.drop()

    # While bob is away: messages over the socket and REST, an edit and a deletion (tombstones keep their seq).
    missed = [a.send_message(room, f"missed {index}") for index in range(6)]
    assert_status(chat.edit(alice, room, missed[1]["message_id"], "missed 1, edited"), 200, "edit")
    assert chat.delete_message(alice, room, missed[2]["message_id"]).status in (200, 204)
    missed.append({"seq": chat.send(alice, room, "missed over REST")["seq"]})

    b2 = rt.connect(bob, "bob-back")
    id_ = b2.send("RESUME", {"rooms": {str(room): last_seen, str(quiet): quiet_seq}})
    data = resumed_of(b2, id_, room)
    replayed = room_seqs(b2, room)
    assert replayed == list(range(last_seen + 1, last_seen + 8)), replayed
    assert data == {"ref": id_, "chat_room_id": room, "from_seq": last_seen + 1, "to_seq": last_seen + 7,
                    "complete": True}, data
    by_seq = {f["data"]["seq"]: f["data"] for f in b2.got("NEW_MESSAGE", chat_room_id=room)}
    assert by_seq[missed[1]["seq"]]["content"] == "missed 1, edited", "the replay carries messages as stored now"
    assert by_seq[missed[2]["seq"]]["deleted"] is True and by_seq[missed[2]["seq"]]["content"] == ""
    assert by_seq[missed[0]["seq"]]["sender_id"] == alice.id
    # Replayed frames come before RESUMED.
    position = next(i for i, f in enumerate(b2.frames) if f["type"] == "RESUMED" and f["data"]["chat_room_id"] == room)
    assert all(b2.frames.index(f) < position for f in b2.got("NEW_MESSAGE", chat_room_id=room))

    nothing = resumed_of(b2, id_, quiet)
    assert nothing == {"ref": id_, "chat_room_id": quiet, "from_seq": quiet_seq + 1, "to_seq": quiet_seq,
                       "complete": True}, nothing
    assert room_seqs(b2, quiet) == []

    # Then live, contiguous with the replay.
    live = [a.send_message(room, f"live {index}") for index in range(3)]
    b2.collect("NEW_MESSAGE", 3, chat_room_id=room, predicate=lambda d: d["content"].startswith("live"))
    assert room_seqs(b2, room) == list(range(last_seen + 1, live[-1]["seq"] + 1))


@pytest.mark.parametrize("attempt", [1, 2, 3])  # a race: three tries find a wrong interleaving more often
def test_resume_while_messages_keep_coming(start_rt, attempt):
    rt = start_rt(env={"CHAT_REALTIME_RESUME_MAX": "1000"})
    chat = rt.chat
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.group(alice, [bob], name="busy")["id"]
    b = rt.connect(bob)
    a = rt.connect(alice)
    first = a.send_message(room, "start")
    b.expect("NEW_MESSAGE", id=first["message_id"])
    last_seen = first["seq"]
    b.drop()

    # Alice keeps sending from her own thread (ACK by ACK) through the reconnect, the replay and after.
    stop = threading.Event()
    acked: list[int] = []
    halfway = threading.Event()

    def keep_sending():
        sender = WS(rt.port, token=chat.login_account(alice).access, name="alice-sender")
        try:
            for index in range(400):
                acked.append(sender.send_message(room, f"n{index}")["seq"])
                if index == 60:
                    halfway.set()
                if stop.is_set() and index >= 120:
                    return len(acked)
            return len(acked)
        finally:
            sender.close()

    thread, outcome = run_in_thread(keep_sending)
    assert halfway.wait(30), "the sender did not get going"
    b2 = rt.connect(bob, "bob-back")
    id_ = b2.send("RESUME", {"rooms": {str(room): last_seen}})
    data = resumed_of(b2, id_, room)
    assert data["complete"] is True and data["from_seq"] == last_seen + 1, data
    stop.set()
    joined(thread, outcome)
    newest = acked[-1]
    b2.expect("NEW_MESSAGE", chat_room_id=room, seq=newest)
    stream = room_seqs(b2, room)
    where = f"RESUMED {data}; stream: {_stream(b2)}"
    # No gap and no duplicate over the whole stream of the new connection.
    duplicates = sorted(seq for seq in set(stream) if stream.count(seq) > 1)
    assert not duplicates, f"duplicates: {duplicates[:20]}; {where}"
    assert sorted(stream) == list(range(last_seen + 1, newest + 1)), f"gap: {where}"
    resumed_at = next(i for i, f in enumerate(b2.frames) if f["type"] == "RESUMED")
    before = [f["data"]["seq"] for f in b2.frames[:resumed_at] if f["type"] == "NEW_MESSAGE"]
    after = [f["data"]["seq"] for f in b2.frames[resumed_at:] if f["type"] == "NEW_MESSAGE"]
    # In seq order from the replay on (doc, "Resume"): only messages that arrived live between CONNECTED and the
    # server reading the RESUME may come first, and the replay then leaves them out.
    replay_start = before.index(last_seen + 1)
    replay = before[replay_start:]
    assert replay == sorted(replay) and after == sorted(after), f"out of order: {where}"
    assert all(seq > last_seen + 1 for seq in before[:replay_start]), f"out of order: {where}"
    assert before and data["to_seq"] == max(before), f"to_seq is not the last seq replayed: {where}"
    assert all(seq > data["to_seq"] for seq in after), f"live traffic repeats the replay: {where}"


def _stream(ws) -> str:
    """The connection's NEW_MESSAGE seqs and RESUMED, compressed into runs ("4-81 RESUMED(4..81) 103-114")."""
    parts, run = [], []

    def flush():
        if run:
            parts.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
            run.clear()

    for frame in ws.frames:
        if frame["type"] == "NEW_MESSAGE":
            seq = frame["data"]["seq"]
            if run and seq != run[-1] + 1:
                flush()
            run.append(seq)
        elif frame["type"] == "RESUMED":
            flush()
            parts.append(f"RESUMED({frame['data']['from_seq']}..{frame['data']['to_seq']})")
    flush()
    return " ".join(parts)


def _first_break(seqs):
    for previous, current in zip(seqs, seqs[1:]):
        if current != previous + 1:
            return (previous, current)
    return None


def test_resume_beyond_resume_max(start_rt):
    rt = start_rt(env={"CHAT_REALTIME_RESUME_MAX": "5"})
    chat = rt.chat
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.group(alice, [bob], name="long away")["id"]
    last_seen = chat.room(bob, room)["last_seq"]
    sent = [chat.send(alice, room, f"while away {index}")["seq"] for index in range(12)]

    b = rt.connect(bob)
    id_ = b.send("RESUME", {"rooms": {str(room): last_seen}})
    data = resumed_of(b, id_, room)
    assert data == {"ref": id_, "chat_room_id": room, "from_seq": last_seen + 1, "to_seq": last_seen + 5,
                    "complete": False}, data
    assert room_seqs(b, room) == list(range(last_seen + 1, last_seen + 6))

    # The rest over REST, from to_seq on.
    rest, has_more = chat.history(bob, room, after_seq=data["to_seq"], limit=200)
    assert [m["seq"] for m in rest] == sent[5:] and has_more is False

    # Live traffic after an incomplete resume is still delivered.
    live = chat.send(alice, room, "now")
    b.expect("NEW_MESSAGE", id=live["id"])

    # Resuming again from where the replay stopped gives the next page.
    id2 = b.send("RESUME", {"rooms": {str(room): data["to_seq"]}})
    again = resumed_of(b, id2, room)
    assert again["from_seq"] == data["to_seq"] + 1 and again["to_seq"] == data["to_seq"] + 5, again
    assert again["complete"] is False


def test_resume_errors(rt):
    chat = rt.chat
    alice, bob = chat.user("alice"), chat.user("bob")
    mine = chat.group(alice, name="mine")["id"]
    foreign = chat.group(bob, name="bob's")["id"]
    a = rt.connect(alice)
    a.call_error("RESUME", {"rooms": {str(foreign): 0}}, "not_found")
    a.call_error("RESUME", {}, "validation_failed")
    a.call_error("RESUME", {"rooms": {str(mine): "x"}}, "validation_failed")
    a.call_error("RESUME", {"rooms": {"abc": 0}}, "validation_failed")
    a.call_error("RESUME", {"rooms": [mine]}, "validation_failed")
    assert a.ping()
    # A room whose last_seq the client has is at least as new as the server's: nothing to replay.
    last = chat.room(alice, mine)["last_seq"]
    id_ = a.send("RESUME", {"rooms": {str(mine): last}})
    data = resumed_of(a, id_, mine)
    assert data == {"ref": id_, "chat_room_id": mine, "from_seq": last + 1, "to_seq": last, "complete": True}
