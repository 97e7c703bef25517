"""GET /search/messages: words with <mark> snippets, case and diacritics folding, only the caller's rooms, the
room_id filter, deleted and system messages never found, edits re-indexed, FTS syntax in the query treated as
words, and cursor pagination."""

from __future__ import annotations

from authhelpers import check_cases
from chathelpers import assert_error, assert_status


def test_words_snippets_and_folding(chat):
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.group(alice, [bob], name="words")["id"]
    fox = chat.send(alice, room, "The quick brown fox jumps over the lazy dog")
    cafe = chat.send(bob, room, "Meet me at the café tomorrow")
    naive = chat.send(alice, room, "Such a NAÏVE plan")
    chat.send(bob, room, "nothing to see here")

    def finds(q, expected, mark):
        results, cursor = chat.search(bob, q)
        assert [r["message"]["id"] for r in results] == [m["id"] for m in expected], (q, results)
        assert cursor is None
        for result in results:
            assert f"<mark>{mark}</mark>" in result["snippet"], (q, result["snippet"])
            assert result["message"]["room_id"] == room

    check_cases([
        ("one word", "fox", [fox], "fox"),
        ("upper case", "FOX", [fox], "fox"),
        ("two words, anywhere", "dog quick", [fox], "quick"),
        ("all words must match", "quick cat", [], None),
        ("without the accent", "cafe", [cafe], "café"),
        ("with the accent", "café", [cafe], "café"),
        ("upper case with accent", "CAFÉ", [cafe], "café"),
        ("diaeresis", "naive", [naive], "NAÏVE"),
        ("absent", "zebra", [], None),
    ], finds)
    results, _ = chat.search(alice, "fox")
    messages, _ = chat.history(alice, room)
    assert results[0]["message"] == next(m for m in messages if m["id"] == fox["id"]), "the whole message"


def test_only_the_callers_rooms(chat):
    alice, bob, carol, dave = (chat.user(name) for name in ("alice", "bob", "carol", "dave"))
    shared = chat.group(alice, [bob], name="shared")["id"]
    private = chat.group(carol, [dave], name="private")["id"]
    ours = chat.send(alice, shared, "the pineapple plan")
    theirs = chat.send(carol, private, "a pineapple for carol")
    direct = chat.dm(alice, carol)["id"]
    whisper = chat.send(carol, direct, "pineapple whisper")

    assert chat.found_ids(alice, "pineapple") == [whisper["id"], ours["id"]], "newest first, own rooms only"
    assert chat.found_ids(bob, "pineapple") == [ours["id"]]
    assert chat.found_ids(carol, "pineapple") == [whisper["id"], theirs["id"]]
    assert chat.found_ids(alice, "pineapple", room_id=shared) == [ours["id"]]
    assert chat.found_ids(carol, "pineapple", room_id=direct) == [whisper["id"]]
    assert_error(chat.search_response(alice, "pineapple", room_id=private), 404, "not_found", "not a member")
    assert_error(chat.search_response(alice, "pineapple", room_id=987654), 404, "not_found", "unknown room")

    assert_status(chat.remove_member(alice, shared, bob.id), 204, "remove bob")
    assert chat.found_ids(bob, "pineapple") == [], "a removed member finds nothing of the room"
    assert_error(chat.search_response(bob, "pineapple", room_id=shared), 404, "not_found", "removed member")

    assert_status(chat.delete(f"rooms/{private}", token=carol.access), 204, "delete the room")
    assert chat.found_ids(dave, "pineapple") == [], "a deleted room's messages are gone"
    assert chat.found_ids(carol, "pineapple") == [whisper["id"]]


def test_deleted_system_and_edited(chat):
    alice, zebedee = chat.user("alice"), chat.user("zebedee")
    room = chat.group(alice, name="quagga")["id"]
    chat.add_members(alice, room, zebedee)  # a system message naming zebedee
    assert_status(chat.patch(f"rooms/{room}", {"name": "okapi"}, alice.access), 200, "rename")
    for word in ("zebedee", "quagga", "okapi"):
        assert chat.found_ids(alice, word) == [], f"a system message was found for {word!r}"

    gone = chat.send(alice, room, "mango smoothie")
    assert chat.found_ids(zebedee, "mango") == [gone["id"]]
    assert_status(chat.delete_message(alice, room, gone["id"]), 204, "delete")
    assert chat.found_ids(zebedee, "mango") == [], "a deleted message is not found"

    edited = chat.send(alice, room, "banana split")
    assert_status(chat.edit(alice, room, edited["id"], "cherry split"), 200, "edit")
    assert chat.found_ids(zebedee, "banana") == [], "the old words are gone after an edit"
    results, _ = chat.search(zebedee, "cherry")
    assert [r["message"]["id"] for r in results] == [edited["id"]]
    assert results[0]["message"]["content"] == "cherry split" and results[0]["message"]["edited_at"] is not None
    assert chat.found_ids(zebedee, "split") == [edited["id"]]


def test_query_syntax_is_never_fts_syntax(chat):
    alice = chat.user("alice")
    room = chat.group(alice, name="syntax")["id"]
    fox = chat.send(alice, room, "fox and hound")
    quoted = chat.send(alice, room, 'she said "hello" twice')
    chat.send(alice, room, "alpha beta gamma")

    # Whatever the user types, the answer is a search (or 422 when nothing searchable is left), never a 500
    # (the fixture fails the test on any 5xx) and never an FTS5 syntax error.
    odd = ['"', '"unbalanced', '""', "*", "fox*", "*fox", "NEAR(fox", "NEAR(fox hound)", "NEAR(fox, 2)", "-fox",
           "fox -hound", "fox AND", "AND", "OR", "NOT", "fox NOT hound", "(", ")", "fox)", "(fox", "{fox}",
           "content:fox", "room_id:1", "^fox", "fox^2", "'", "\\", "%", "_", "+fox", ":", "a\"b",
           "\u200b", "🦊", "fox" * 200]

    def answered(q):
        response = chat.search_response(alice, q)
        assert response.status in (200, 422), f"q={q!r}: {response.describe()}"
        if response.status == 422:
            assert not any(ch.isalnum() for ch in q), f"q={q!r} has words but was refused: {response.describe()}"

    check_cases([(repr(q)[:40], q) for q in odd], answered)
    check_cases([
        ("OR is a word, not an operator", "fox OR zebra", []),
        ("NOT is a word too", "fox NOT zebra", []),
        ("AND is harmless", "fox AND hound", [fox["id"]]),
        ("a minus is no negation", "-fox", [fox["id"]]),
        ("a star is no prefix operator", "fox*", [fox["id"]]),
        ("quotes are no phrase syntax", '"hello"', [quoted["id"]]),
        ("an unbalanced quote", '"hello', [quoted["id"]]),
        ("NEAR is a word", "NEAR(fox hound)", []),
        ("a column filter is text", "content:fox", []),
    ], lambda q, expected: _found(chat, alice, q, expected))


def _found(chat, account, q, expected):
    assert chat.found_ids(account, q) == expected, q


def test_pagination(chat):
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.group(alice, [bob], name="pages")["id"]
    sent = [chat.send(alice if index % 2 else bob, room, f"needle number {index}")["id"] for index in range(25)]
    chat.send(alice, room, "haystack only")

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 10} if cursor is None else {"limit": 10, "cursor": cursor}
        results, cursor = chat.search(bob, "needle", **params)
        assert len(results) <= 10, len(results)
        seen += [r["message"]["id"] for r in results]
        pages += 1
        chat.send(alice, room, f"needle that arrives later {pages}")  # newer than the walk: never in it
        assert pages < 20, "the cursor walk does not end"
        if cursor is None:
            break
    assert seen == sorted(sent, reverse=True), "every match once, newest first"
    assert pages == 3
    first, _ = chat.search(bob, "needle", limit=1)
    assert len(first) == 1 and "later" in first[0]["message"]["content"]
