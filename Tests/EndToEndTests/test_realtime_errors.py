"""Realtime protocol, errors and limits: malformed frames get ERROR with a code and the connection stays open;
rate limits (ERROR rate_limited and the message dropped, then 1008 for a client that keeps flooding); frames over
`realtime.max_message_bytes` (1009); a slow consumer is closed (1013) while the others in the room receive
everything; the heartbeat closes a peer that never answers pings."""

from __future__ import annotations

import json
import time

from wshelpers import WAIT, Closed, assert_ws_error, rt, start_rt, wait_until  # noqa: F401


def test_malformed_frames_get_errors_and_the_connection_stays(rt):
    chat = rt.chat
    alice = chat.user("alice")
    room = chat.group(alice, name="errors")["id"]
    a = rt.connect(alice)

    def error_for(raw, code, ref=None):
        a.send_raw(raw)
        frame = a.expect("ERROR", lambda d: d.get("ref") == ref and d.get("code") == code,
                         what=f"ERROR {code} for {raw!r:.60}")
        assert_ws_error(frame, code, ref)
        assert a.ping()  # still open, still served

    error_for("{not json", "invalid_json")
    error_for("", "invalid_json")
    error_for("[1, 2, 3]", "invalid_message")
    error_for('"PING"', "invalid_message")
    error_for("42", "invalid_message")
    error_for("{}", "invalid_message")
    error_for('{"type": 5}', "invalid_message")
    error_for('{"data": {}}', "invalid_message")
    error_for('{"type": "NO_SUCH_THING", "id": "u1"}', "unknown_type", "u1")
    error_for('{"type": "ping", "id": "u2"}', "unknown_type", "u2")
    error_for('{"type": "CONNECTED", "id": "u3", "data": {}}', "unknown_type", "u3")
    error_for('{"type": "SEND_MESSAGE", "id": "v1", "data": {}}', "validation_failed", "v1")
    error_for('{"type": "SEND_MESSAGE", "id": 7, "data": {"chat_room_id": %d}}' % room, "validation_failed", 7)

    # Ids: strings or numbers up to 64 characters.
    long_id = "i" * 64
    assert a.ping(long_id)["data"]["ref"] == long_id
    a.send_raw(json.dumps({"type": "PING", "id": "i" * 65}))
    frame = a.expect("ERROR")
    assert frame["data"]["code"] in ("invalid_message", "validation_failed"), frame
    a.send_raw(json.dumps({"type": "PING", "id": {"nested": 1}}))
    frame = a.expect("ERROR")
    assert frame["data"]["code"] in ("invalid_message", "validation_failed"), frame
    a.send_raw(b'{"type": "PING", "id": "bin"}')  # a binary frame
    reply = a.expect(lambda f: f["type"] in ("PONG", "ERROR"))
    assert reply["type"] == "PONG" or reply["data"]["code"] == "invalid_message", reply
    assert a.ping()

    # `data` that is not an object is invalid_message, even for a type that needs no data.
    error_for('{"type": "PING", "id": "d1", "data": 5}', "invalid_message", "d1")
    error_for('{"type": "PING", "id": "d2", "data": []}', "invalid_message", "d2")
    error_for('{"type": "SEND_MESSAGE", "id": "d3", "data": "text"}', "invalid_message", "d3")

    # Validation errors name their fields; nothing was stored by any of this.
    error = a.call_error("SEND_MESSAGE", {"chat_room_id": room}, "validation_failed")
    assert "content" in error.get("fields", {}), error
    assert [m for m in chat.all_messages(alice, room) if m["kind"] == "user"] == []
    assert a.send_message(room, "and sending still works")["seq"] > 0


def test_odd_inputs_never_break_the_connection(rt):
    """Values at the edges of the types, for every request type: whatever the answer (an ERROR or a reply), the
    connection stays open and served, and the server stays up."""
    chat = rt.chat
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.group(alice, [bob], name="odd")["id"]
    a = rt.connect(alice)
    huge = 2**63
    values = [None, True, 0, -1, 1.5, huge, 2**70, "", "x" * 300, [], {}, {"a": [1]}, "a\u0000b"]
    fields = {
        "SEND_MESSAGE": ["chat_room_id", "content", "mime_type", "client_msg_id", "reply_to", "attachments"],
        "JOIN_ROOM": ["chat_room_id"], "LEAVE_ROOM": ["chat_room_id"],
        "TYPING": ["chat_room_id", "is_typing"], "READ_RECEIPT": ["chat_room_id", "seq"],
        "AUTH": ["token"], "RESUME": ["rooms"],
    }
    base = {"chat_room_id": room, "content": "odd", "is_typing": True, "seq": 1, "token": "x",
            "rooms": {str(room): 0}}
    sent = 0
    for type_, names in fields.items():
        for name in names:
            for value in values:
                data = {key: base[key] for key in names if key in base}
                data[name] = value
                id_ = a.send(type_, data)
                sent += 1
                # TYPING and READ_RECEIPT have no reply when they succeed, nor RESUME of no rooms at all.
                silent = type_ in ("TYPING", "READ_RECEIPT") or (type_ == "RESUME" and value == {})
                reply = None if silent else a.reply(
                    id_, ("ACK", "JOIN_SUCCESS", "LEAVE_SUCCESS", "AUTH_SUCCESS", "RESUMED"), timeout=WAIT)
                if reply is not None and reply["type"] == "ERROR":
                    assert_ws_error(reply, None, id_)
        assert a.ping(), f"after odd {type_}s"
    assert rt.server.alive()
    stored = [m for m in chat.all_messages(bob, room) if m["kind"] == "user"]
    assert len(stored) == len(a.got("ACK", duplicate=False)), "exactly the ACKed messages are stored"


def test_rate_limit_then_flood_closes_1008(start_rt):
    rt = start_rt(env={"CHAT_REALTIME_MESSAGES_PER_SECOND": "1", "CHAT_REALTIME_MESSAGES_BURST": "5"})
    chat = rt.chat
    alice = chat.user("alice")
    room = chat.group(alice, name="limited")["id"]
    a = rt.connect(alice)
    other = rt.connect(alice, "alice-other")

    ids = [a.send("SEND_MESSAGE", {"chat_room_id": room, "content": f"burst {index}"}) for index in range(8)]
    replies = [a.reply(id_, "ACK") for id_ in ids]
    acked = [reply for reply in replies if reply["type"] == "ACK"]
    limited = [reply for reply in replies if reply["type"] == "ERROR"]
    assert len(acked) >= 5, f"the burst of 5 was not allowed: {replies}"
    assert limited, f"8 messages at once with a burst of 5 and 1/s: none refused: {replies}"
    for reply in limited:
        assert reply["data"]["code"] == "rate_limited", reply
    stored = [m["content"] for m in chat.all_messages(alice, room) if m["kind"] == "user"]
    assert len(stored) == len(acked), "a refused message is dropped, not stored"

    # The limit is per connection: alice's other connection is not affected.
    assert other.ping()

    # The bucket refills (1 a second): the same connection is served again.
    refilled = time.monotonic() + 1.5
    wait_until(lambda: time.monotonic() > refilled, message="the bucket to refill")
    assert a.ping()

    # Flooding: far more than another burst's worth of refusals closes the connection with 1008.
    try:
        for index in range(300):
            a.send("PING")
    except Exception:  # noqa: BLE001 - the server may close while we are still sending
        pass
    assert a.expect_close() == 1008
    assert a.got("ERROR", code="rate_limited"), "refusals come before the close"
    assert other.ping(), "other connections stay"


def test_frame_over_max_message_bytes_closes_1009(start_rt):
    rt = start_rt(env={"CHAT_REALTIME_MAX_MESSAGE_BYTES": "4k"})
    alice = rt.chat.user("alice")
    room = rt.chat.group(alice, name="big")["id"]
    a = rt.connect(alice)
    assert a.send_message(room, "x" * 3000)["seq"] > 0
    a.send_raw(json.dumps({"type": "SEND_MESSAGE", "data": {"chat_room_id": room, "content": "y" * 5000}}))
    assert a.expect_close() == 1009
    assert [m["content"][:1] for m in rt.chat.all_messages(alice, room) if m["kind"] == "user"] == ["x"]
    assert rt.connect(alice, "after").ping()


def test_slow_consumer_is_closed_and_others_get_everything(start_rt):
    rt = start_rt(env={"CHAT_REALTIME_MAX_OUTBOUND_BYTES": "128k"})
    chat = rt.chat
    alice, bob, slow = chat.user("alice"), chat.user("bob"), chat.user("slow")
    room = chat.group(alice, [bob, slow], name="firehose")["id"]
    b = rt.connect(bob)
    stalled = rt.raw(slow, rcvbuf=4096)  # completes the handshake, then never reads

    # More than the kernel can buffer for the stalled socket (its send buffer grows up to tcp_wmem's maximum),
    # plus max_outbound_bytes, plus a margin: past that, only the server's own queue can be holding the rest.
    size = 15_000
    count = (_kernel_send_buffer_max() + (2 << 20)) // size + 1
    # Paced by bob: each message is posted once bob has the previous one, so bob is never behind (a Python client
    # sharing the GIL with the poster could otherwise fall behind for real) while the stalled reader's queue grows.
    first, frames = None, []
    for index in range(count):
        message = chat.send(alice, room, f"{index:04d} " + "z" * size)
        first = first or message["seq"]
        frames.append(b.expect("NEW_MESSAGE", id=message["id"]))

    got = [f["data"]["seq"] for f in frames]
    assert got == list(range(first, first + count)), f"bob's NEW_MESSAGE seqs: {got[:5]}...{got[-3:]}; first={first}"
    assert all(len(f["data"]["content"]) == size + 5 for f in frames)

    # The stalled reader was cut off: reading what is left ends in a 1013 close frame, or the stream just ends.
    stalled.raw.sock.settimeout(15)
    try:
        texts, code, seen_close = stalled.read_until_closed()
    except TimeoutError:
        raise AssertionError(f"the stalled reader's connection is still open after {count * size} bytes "
                             "it could not take") from None
    assert not seen_close or code == 1013, f"closed with {code}, expected 1013"
    assert len(texts) < count, "the stalled reader received everything: it was never slow"
    assert b.ping()
    assert rt.connect(slow, "slow-again").ping(), "a slow consumer may reconnect (and RESUME)"
    b.never_got("NEW_MESSAGE", lambda d: d["seq"] < first, what="NEW_MESSAGE for messages from before CONNECTED")


def _kernel_send_buffer_max() -> int:
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as handle:
            return int(handle.read().split()[2])
    except (OSError, ValueError, IndexError):
        return 4 << 20


def test_heartbeat_closes_a_silent_peer(start_rt):
    rt = start_rt(env={"CHAT_REALTIME_PING_INTERVAL": "1s"})
    alice = rt.chat.user("alice")
    live = rt.connect(alice, "answers-pings")  # the library answers pings by itself
    silent = rt.raw(alice)
    silent.raw.sock.settimeout(15)
    started = time.monotonic()
    texts, _, _ = silent.read_until_closed()  # reads, but never answers a ping: closed (or cut off)
    assert silent.pings >= 1, "the server never pinged the quiet connection"
    assert any(b"CONNECTED" in text for text in texts)

    # The peer that answers pings outlives several intervals.
    horizon = started + 3.5
    wait_until(lambda: time.monotonic() > horizon, message="three ping intervals to pass")
    try:
        assert live.ping()
    except Closed as closed:
        raise AssertionError(f"a connection that answers pings was closed: {closed}") from None
