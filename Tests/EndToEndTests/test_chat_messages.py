"""Messages: sending (fields, validation, size limits, reply_to), idempotent client_msg_id, gap-free seqs under
concurrent posting over keep-alive connections, history pagination that never skips or repeats while messages
arrive, editing, deleting (tombstones) and reactions."""

from __future__ import annotations

from authhelpers import check_cases
from chathelpers import (
    THUMBS_UP,
    KeepAlive,
    assert_error,
    assert_message,
    assert_status,
    run_threads,
)

PARTY = "\U0001F389"  # 🎉


def user_contents(messages):
    return [message["content"] for message in messages if message["kind"] == "user"]


# -- sending -----------------------------------------------------------------------------------------------------


def test_send_message(chat):
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.group(alice, [bob], name="send")
    start = room["last_seq"]

    first = chat.send(alice, room["id"], "hello *world*", mime_type="text/markdown", client_msg_id="c-1")
    assert first["seq"] == start + 1, first
    assert first["content"] == "hello *world*" and first["mime_type"] == "text/markdown", first
    assert first["client_msg_id"] == "c-1" and first["reply_to"] is None and first["attachments"] == [], first
    assert first["edited_at"] is None and first["deleted"] is False and first["reactions"] == [], first
    assert first.get("event") is None, first

    second = chat.send(alice, room["id"], "plain\nwith a second line")
    assert second["seq"] == start + 2 and second["id"] != first["id"], second
    assert second["mime_type"] == "text/plain" and second["client_msg_id"] is None, second
    assert second["content"] == "plain\nwith a second line"

    mine = chat.room(alice, room["id"])
    assert mine["last_seq"] == second["seq"] and mine["last_read_seq"] == second["seq"], mine
    assert mine["unread_count"] == 0 and mine["last_message"]["id"] == second["id"], mine
    assert chat.room(bob, room["id"])["unread_count"] >= 2

    messages, _ = chat.history(bob, room["id"])
    assert [m["id"] for m in messages[:2]] == [second["id"], first["id"]], "newest first"
    assert messages[1] == first, "history returns the message as it was sent"

    check_cases([
        ("empty", {"content": ""}),
        ("blank", {"content": " \n\t "}),
        ("html", {"content": "x", "mime_type": "text/html"}),
        ("attachments", {"content": "x", "attachments": [{"id": 1}]}),
        ("attachment ids", {"content": "x", "attachments": [1]}),
        ("client_msg_id of 65", {"content": "x", "client_msg_id": "c" * 65}),
    ], lambda body: assert_error(chat.post(f"rooms/{room['id']}/messages", body, alice.access), 422, None,
                                 repr(body)[:80]))
    check_cases([
        ("client_msg_id of 64", {"content": "x", "client_msg_id": "c" * 64}),
        ("empty attachments", {"content": "x", "attachments": []}),
        ("explicit text/plain", {"content": "x", "mime_type": "text/plain"}),
    ], lambda body: assert_status(chat.post(f"rooms/{room['id']}/messages", body, alice.access), 201, repr(body)))
    assert chat.room(bob, room["id"])["last_seq"] == start + 5, "refused messages take no seq"


def test_client_msg_id_is_idempotent(chat):
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.group(alice, [bob], name="idempotent")["id"]
    other = chat.group(alice, [bob], name="other")["id"]
    start = chat.room(alice, room)["last_seq"]

    first = chat.post_message(alice, room, "only once", client_msg_id="abc-1")
    assert_status(first, 201, "first send")
    again = chat.post_message(alice, room, "only once", client_msg_id="abc-1")
    assert_status(again, 200, "the retry")
    assert again.json() == first.json(), "the retry returns the original message"
    changed = chat.post_message(alice, room, "different text", client_msg_id="abc-1")
    assert_status(changed, 200, "same id, other content")
    assert changed.json()["id"] == first.json()["id"] and changed.json()["content"] == "only once"

    assert_status(chat.post_message(bob, room, "bob's", client_msg_id="abc-1"), 201, "another sender, same id")
    assert_status(chat.post_message(alice, other, "elsewhere", client_msg_id="abc-1"), 201, "another room")
    assert chat.room(alice, room)["last_seq"] == start + 2
    assert user_contents(chat.all_messages(alice, room)) == ["only once", "bob's"]

    # The same retry racing itself still makes one message.
    responses = run_threads([lambda: chat.post_message(alice, room, "raced", client_msg_id="race-1")] * 6)
    statuses = sorted(response.status for response in responses)
    assert statuses == [200] * 5 + [201], [response.describe() for response in responses]
    assert len({response.json()["id"] for response in responses}) == 1
    assert user_contents(chat.all_messages(alice, room)) == ["only once", "bob's", "raced"]


def test_seq_is_gap_free_under_concurrent_posting(chat):
    owner = chat.user("owner")
    senders = chat.users(8, "poster")
    room = chat.group(owner, senders, name="busy")["id"]
    start = chat.room(owner, room)["last_seq"]
    per_thread = 25

    def post_all(account):
        connection = KeepAlive(chat.server.port, account.access)
        sent = []
        try:
            for index in range(per_thread):
                content = f"{account.username} #{index}"
                status, document = connection.call("POST", f"rooms/{room}/messages",
                                                   {"content": content, "client_msg_id": f"{account.id}-{index}"})
                assert status == 201, f"{content}: {status} {document}"
                sent.append((document["seq"], document["id"], content))
        finally:
            connection.close()
        return sent

    results = run_threads([(lambda account=account: post_all(account)) for account in senders], timeout=120)
    total = len(senders) * per_thread
    seqs = sorted(seq for sent in results for seq, _, _ in sent)
    assert seqs == list(range(start + 1, start + total + 1)), f"seqs with gaps or duplicates: {seqs}"
    for sent in results:
        own = [seq for seq, _, _ in sent]
        assert own == sorted(own), f"one client's sequential posts got decreasing seqs: {own}"

    timeline = chat.all_messages(owner, room)
    assert [m["seq"] for m in timeline] == list(range(1, start + total + 1))
    assert len({m["id"] for m in timeline}) == len(timeline), "duplicate ids in history"
    stored = {m["seq"]: (m["id"], m["content"]) for m in timeline}
    for sent in results:
        for seq, message_id, content in sent:
            assert stored[seq] == (message_id, content), (seq, stored[seq], message_id, content)
    assert chat.room(owner, room)["last_seq"] == start + total

    # Page sizes on a room with more than one full page: default 50, clamped to 1..200.
    newest, has_more = chat.history(owner, room)
    assert len(newest) == 50 and has_more, len(newest)
    assert [m["seq"] for m in newest] == list(range(start + total, start + total - 50, -1))
    check_cases([
        ("limit=1000", "1000", 200), ("limit=200", "200", 200), ("limit=201", "201", 200), ("limit=1", "1", 1),
        ("limit=0", "0", 1), ("limit=-5", "-5", 1),
    ], lambda limit, expected: _page_size(chat, owner, room, limit, expected))


def _page_size(chat, account, room, limit, expected):
    messages, has_more = chat.history(account, room, limit=limit)
    assert len(messages) == expected, f"limit={limit}: {len(messages)} messages, expected {expected}"
    assert has_more is True


def test_pagination_never_skips_or_repeats(chat):
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.group(alice, [bob], name="pages")["id"]
    for index in range(40):
        chat.send(alice, room, f"m{index}")
    last = chat.room(bob, room)["last_seq"]
    inserted = 0

    # Backwards from the newest page while new messages keep arriving: each message up to `last` exactly once,
    # newest first, and none of the new ones (they are all newer than the first page).
    messages, has_more = chat.history(bob, room, limit=7)
    seen = []
    while True:
        seqs = [m["seq"] for m in messages]
        assert seqs == sorted(seqs, reverse=True), f"not newest first: {seqs}"
        seen += seqs
        chat.send(alice, room, f"backward insert {inserted}")
        inserted += 1
        if not has_more:
            break
        assert len(messages) == 7, f"a short page with has_more: {seqs}"
        messages, has_more = chat.history(bob, room, before_seq=messages[-1]["seq"], limit=7)
        assert len(seen) < 500, "backward walk does not end"
    assert seen == list(range(last, 0, -1)), seen

    # Forwards from the start while messages arrive: everything exactly once, oldest first, the new ones too.
    after, seen, pages = 0, [], 0
    while True:
        messages, has_more = chat.history(bob, room, after_seq=after, limit=9)
        seqs = [m["seq"] for m in messages]
        assert seqs == sorted(seqs), f"not oldest first: {seqs}"
        seen += seqs
        pages += 1
        if pages <= 5:
            chat.send(bob, room, f"forward insert {pages}")
        if not has_more:
            break
        after = seqs[-1]
        assert pages < 100, "forward walk does not end"
    final = chat.room(bob, room)["last_seq"]
    assert seen == list(range(1, final + 1)), seen
    assert final == last + inserted + 5

    check_cases([
        ("after the newest", {"after_seq": final}, [], False),
        ("before the first", {"before_seq": 1}, [], False),
        ("last page exactly", {"after_seq": final - 3, "limit": 3}, [final - 2, final - 1, final], False),
        ("first page exactly", {"before_seq": 4, "limit": 3}, [3, 2, 1], False),
        ("one more than a page", {"after_seq": final - 4, "limit": 3}, [final - 3, final - 2, final - 1], True),
        ("in the middle", {"before_seq": 10, "limit": 2}, [9, 8], True),
        ("far past the end", {"after_seq": final + 1000}, [], False),
    ], lambda params, expected, more: _page(chat, bob, room, params, expected, more))


def _page(chat, account, room, params, expected, more):
    messages, has_more = chat.history(account, room, **params)
    assert [m["seq"] for m in messages] == expected and has_more is more, (params, [m["seq"] for m in messages],
                                                                           has_more)


def test_content_size_limit(chat):
    alice = chat.user("alice")
    room = chat.group(alice, name="sizes")["id"]
    accepted = [("16 KiB ascii", "a" * 16384), ("16 KiB of 2-byte chars", "\u00e9" * 8192),
                ("16 KiB of 4-byte chars", "\U0001F600" * 4096)]
    refused = [("16 KiB + 1 ascii", "a" * 16385), ("2-byte chars one byte over", "\u00e9" * 8192 + "a"),
               ("4-byte chars one byte over", "\U0001F600" * 4096 + "a")]
    check_cases(accepted, lambda content: _stored_exactly(chat, alice, room, content))
    check_cases(refused, lambda content: assert_error(chat.post_message(alice, room, content), 422, None,
                                                      f"{len(content.encode())} bytes"))


def _stored_exactly(chat, account, room, content):
    message = chat.send(account, room, content)
    assert message["content"] == content, f"{len(content.encode())} bytes came back changed"


def test_small_max_message_bytes(start_chat):
    chat = start_chat(env={"CHAT_CHAT_MAX_MESSAGE_BYTES": "100"})
    alice = chat.user("alice")
    room = chat.group(alice, name="tiny")["id"]
    fits = chat.send(alice, room, "a" * 100)
    check_cases([
        ("101 ascii", "a" * 101), ("51 two-byte chars", "\u00e9" * 51),
        ("50 two-byte chars and one", "\u00e9" * 50 + "a"),
    ], lambda content: assert_error(chat.post_message(alice, room, content), 422, None, f"{len(content)} chars"))
    chat.send(alice, room, "\u00e9" * 50)
    assert_error(chat.edit(alice, room, fits["id"], "b" * 101), 422, None, "an edit past the limit")
    assert_status(chat.edit(alice, room, fits["id"], "b" * 100), 200, "an edit at the limit")


def test_reply_to(chat):
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.group(alice, [bob], name="replies")["id"]
    other = chat.group(alice, [bob], name="other")["id"]
    question = chat.send(alice, room, "question?")
    elsewhere = chat.send(alice, other, "in another room")

    answer = chat.send(bob, room, "answer", reply_to=question["id"])
    assert answer["reply_to"] == question["id"], answer
    messages, _ = chat.history(alice, room, limit=1)
    assert messages[0]["id"] == answer["id"] and messages[0]["reply_to"] == question["id"]

    check_cases([("another room", elsewhere["id"]), ("unknown", 987654)],
                lambda target: assert_error(chat.post_message(bob, room, "reply", reply_to=target), 422, None,
                                            f"reply_to {target}"))
    assert user_contents(chat.all_messages(bob, room)) == ["question?", "answer"]


# -- editing and deleting ----------------------------------------------------------------------------------------


def test_edit_message(chat):
    owner, admin, alice, bob = chat.user("owner"), chat.user("admin"), chat.user("alice"), chat.user("bob")
    room = chat.group(owner, [admin, alice, bob], name="edits")["id"]
    assert_status(chat.set_role(owner, room, admin.id, "admin"), 200, "promote")
    original = chat.send(alice, room, "first version")
    last_seq = chat.room(owner, room)["last_seq"]

    response = chat.edit(alice, room, original["id"], "second version")
    assert_status(response, 200, "sender edits")
    edited = assert_message(response.json())
    assert edited["content"] == "second version" and edited["edited_at"] is not None, edited
    assert edited["edited_at"] >= original["created_at"], edited
    for key in ("id", "seq", "sender_id", "created_at", "room_id"):
        assert edited[key] == original[key], key
    assert chat.room(owner, room)["last_seq"] == last_seq, "an edit takes no seq"
    messages, _ = chat.history(bob, room, limit=1)
    assert messages[0]["content"] == "second version" and messages[0]["edited_at"] == edited["edited_at"]

    check_cases([
        ("another member", bob, "x", 403),
        ("the owner", owner, "x", 403),
        ("an admin", admin, "x", 403),
        ("empty", alice, "", 422),
        ("blank", alice, "   ", 422),
    ], lambda account, content, status: assert_error(chat.edit(account, room, original["id"], content), status,
                                                     "forbidden" if status == 403 else None, account.username))

    gone = chat.send(alice, room, "to be deleted")
    assert_status(chat.delete_message(alice, room, gone["id"]), 204, "delete")
    response = chat.edit(alice, room, gone["id"], "resurrected")
    assert 400 <= response.status < 500, f"editing a deleted message: {response.describe()}"
    messages, _ = chat.history(bob, room, limit=1)
    assert messages[0]["id"] == gone["id"] and messages[0]["content"] == "" and messages[0]["deleted"], messages[0]


def test_delete_message(chat):
    owner, admin, alice, bob = chat.user("owner"), chat.user("admin"), chat.user("alice"), chat.user("bob")
    room = chat.group(owner, [admin, alice, bob], name="deletes")["id"]
    assert_status(chat.set_role(owner, room, admin.id, "admin"), 200, "promote")

    own = chat.send(alice, room, "regrettable", client_msg_id="oops")
    assert_status(chat.react(bob, room, own["id"], THUMBS_UP), 200, "react")
    last_seq = chat.room(owner, room)["last_seq"]
    response = chat.delete_message(alice, room, own["id"])
    assert_status(response, 204, "the sender deletes")
    assert response.body == b""
    (tombstone,) = [m for m in chat.all_messages(bob, room) if m["id"] == own["id"]]
    assert tombstone["deleted"] is True and tombstone["content"] == "" and tombstone["reactions"] == [], tombstone
    for key in ("seq", "sender_id", "created_at", "kind"):
        assert tombstone[key] == own[key], (key, tombstone)
    assert chat.room(owner, room)["last_seq"] == last_seq, "a delete takes no seq and frees none"

    by_bob = chat.send(bob, room, "bob's")
    by_admin = chat.send(admin, room, "admin's")
    by_owner = chat.send(owner, room, "owner's")
    check_cases([
        ("member deletes another member's", alice, by_bob["id"]),
        ("member deletes an admin's", alice, by_admin["id"]),
        ("member deletes the owner's", bob, by_owner["id"]),
    ], lambda account, message_id: assert_error(chat.delete_message(account, room, message_id), 403, "forbidden",
                                                account.username))
    assert_status(chat.delete_message(admin, room, by_bob["id"]), 204, "an admin deletes a member's")
    assert_status(chat.delete_message(owner, room, by_admin["id"]), 204, "the owner deletes an admin's")
    timeline = {m["id"]: m for m in chat.all_messages(alice, room)}
    assert timeline[by_bob["id"]]["deleted"] and timeline[by_admin["id"]]["deleted"]
    assert not timeline[by_owner["id"]]["deleted"] and timeline[by_owner["id"]]["content"] == "owner's"


# -- reactions ---------------------------------------------------------------------------------------------------


def reactions_of(message):
    return {reaction["emoji"]: (reaction["count"], reaction["me"]) for reaction in message["reactions"]}


def test_reactions(chat):
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.group(alice, [bob], name="reactions")["id"]
    message = chat.send(alice, room, "react to me")["id"]
    path = f"rooms/{room}/messages/{message}/reactions"

    response = chat.put(f"{path}/%F0%9F%91%8D", token=alice.access)
    assert_status(response, 200, "PUT 👍 percent-encoded")
    document = assert_message(response.json())
    assert document["id"] == message and document["reactions"] == [{"emoji": THUMBS_UP, "count": 1, "me": True}]
    assert reactions_of(chat.react(alice, room, message, THUMBS_UP).json()) == {THUMBS_UP: (1, True)}, "idempotent"

    assert reactions_of(chat.react(bob, room, message, THUMBS_UP).json()) == {THUMBS_UP: (2, True)}
    assert reactions_of(chat.react(bob, room, message, PARTY).json()) == {THUMBS_UP: (2, True), PARTY: (1, True)}
    messages, _ = chat.history(alice, room, limit=1)
    assert reactions_of(messages[0]) == {THUMBS_UP: (2, True), PARTY: (1, False)}, "`me` is the caller's"

    response = chat.delete(f"{path}/%F0%9F%91%8D", token=alice.access)
    assert_status(response, 200, "DELETE 👍")
    assert reactions_of(response.json()) == {THUMBS_UP: (1, False), PARTY: (1, False)}
    again = chat.react(alice, room, message, THUMBS_UP, method="DELETE")
    assert_status(again, 200, "DELETE twice")
    assert reactions_of(again.json()) == {THUMBS_UP: (1, False), PARTY: (1, False)}
    assert reactions_of(chat.react(bob, room, message, THUMBS_UP, method="DELETE").json()) == {PARTY: (1, True)}

    check_cases([("ascii +1", "+1"), ("32 bytes", THUMBS_UP * 8), ("text", "ok")],
                lambda emoji: _reacts(chat, bob, room, message, emoji))
    check_cases([
        ("space", "a b"), ("tab", "a\tb"), ("control", "\x01"), ("33 bytes", THUMBS_UP * 8 + "a"),
        ("newline", "\n"),
    ], lambda emoji: assert_error(chat.react(bob, room, message, emoji), 422, None, repr(emoji)))
    final = reactions_of(chat.history(alice, room, limit=1)[0][0])
    assert final == {PARTY: (1, False), "+1": (1, False), THUMBS_UP * 8: (1, False), "ok": (1, False)}, final


def _reacts(chat, account, room, message, emoji):
    response = chat.react(account, room, message, emoji)
    assert_status(response, 200, repr(emoji))
    assert reactions_of(response.json()).get(emoji) == (1, True), response.json()
