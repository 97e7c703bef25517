"""Who may do what in a room: every room and message route against owner, admin, member, non-member, removed
member and no token (plus a direct room where one side blocked the other), and bad or unknown ids on every route.
Both tables run on one server each; mutating cases get a fresh room so that no case depends on another."""

from __future__ import annotations

from authhelpers import assert_unauthorized, check_cases
from chathelpers import THUMBS_UP, assert_error, assert_message
from helpers import assert_json_error

EMOJI = "%F0%9F%91%8D"  # 👍

OWNER, ADMIN, MEMBER, OUTSIDER, REMOVED, ANONYMOUS = "owner", "admin", "member", "non-member", "removed", "no-token"
ACTORS = (OWNER, ADMIN, MEMBER, OUTSIDER, REMOVED, ANONYMOUS)


def members_all(status):
    return {OWNER: status, ADMIN: status, MEMBER: status}


# (route name, method, path, body, statuses for the three member roles). Paths name the acting user `{me}`, the
# member's own message `{msg}`, a message of another plain member `{other_msg}`, that member `{other}`, the owner
# `{owner}`, a second admin `{admin2}` and a user who is not in the room yet `{newcomer}`. Non-members and
# removed members always get 404, a request without a token 401.
GROUP_ROUTES = [
    ("GET room", "GET", "rooms/{room}", None, members_all(200)),
    ("PATCH room", "PATCH", "rooms/{room}", {"topic": "a new topic"}, {OWNER: 200, ADMIN: 200, MEMBER: 403}),
    ("DELETE room", "DELETE", "rooms/{room}", None, {OWNER: 204, ADMIN: 403, MEMBER: 403}),
    ("GET members", "GET", "rooms/{room}/members", None, members_all(200)),
    ("POST members", "POST", "rooms/{room}/members", {"user_ids": ["{newcomer}"]},
     {OWNER: 200, ADMIN: 200, MEMBER: 403}),
    ("DELETE member (a plain member)", "DELETE", "rooms/{room}/members/{other}", None,
     {OWNER: 204, ADMIN: 204, MEMBER: 403}),
    ("DELETE member (the owner)", "DELETE", "rooms/{room}/members/{owner}", None, {ADMIN: 403, MEMBER: 403}),
    ("DELETE member (another admin)", "DELETE", "rooms/{room}/members/{admin2}", None,
     {OWNER: 204, ADMIN: 403, MEMBER: 403}),
    ("DELETE member (self: leave)", "DELETE", "rooms/{room}/members/{me}", None, members_all(204)),
    ("PATCH member role", "PATCH", "rooms/{room}/members/{other}", {"role": "admin"},
     {OWNER: 200, ADMIN: 403, MEMBER: 403}),
    ("GET messages", "GET", "rooms/{room}/messages", None, members_all(200)),
    ("POST message", "POST", "rooms/{room}/messages", {"content": "hello"}, members_all(201)),
    ("PATCH the member's message", "PATCH", "rooms/{room}/messages/{msg}", {"content": "edited"},
     {OWNER: 403, ADMIN: 403, MEMBER: 200}),
    ("DELETE the member's message", "DELETE", "rooms/{room}/messages/{msg}", None, members_all(204)),
    ("DELETE another member's message", "DELETE", "rooms/{room}/messages/{other_msg}", None,
     {OWNER: 204, ADMIN: 204, MEMBER: 403}),
    ("PUT reaction", "PUT", "rooms/{room}/messages/{msg}/reactions/" + EMOJI, None, members_all(200)),
    ("DELETE reaction", "DELETE", "rooms/{room}/messages/{msg}/reactions/" + EMOJI, None, members_all(200)),
    ("POST read", "POST", "rooms/{room}/read", {"seq": 1}, members_all(200)),
    ("GET receipts", "GET", "rooms/{room}/receipts", None, members_all(200)),
]


def fill(template, values: dict):
    if isinstance(template, str):
        if template.startswith("{") and template.endswith("}") and template[1:-1] in values:
            return values[template[1:-1]]  # a whole-value placeholder keeps the id an integer
        return template.format(**values)
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    return template


def test_room_and_message_routes_by_role(chat):
    owner, admin, admin2, member, other, outsider, removed, newcomer = (
        chat.user(name) for name in ("owner", "admin", "admintwo", "member", "other", "outsider", "removed",
                                     "newcomer"))
    actors = {OWNER: owner, ADMIN: admin, MEMBER: member, OUTSIDER: outsider, REMOVED: removed, ANONYMOUS: None}

    def fresh_room() -> dict:
        room = chat.group(owner, [admin, admin2, member, other, removed], name="matrix")["id"]
        for promoted in (admin, admin2):
            response = chat.set_role(owner, room, promoted.id, "admin")
            assert response.status == 200, f"setup: promote {promoted.username}: {response.describe()}"
        chat.send(removed, room, "said before being removed")
        response = chat.remove_member(owner, room, removed.id)
        assert response.status == 204, f"setup: remove: {response.describe()}"
        values = {"room": room, "msg": chat.send(member, room, "the member's message")["id"],
                  "other_msg": chat.send(other, room, "another member's message")["id"],
                  "other": other.id, "owner": owner.id, "admin2": admin2.id, "newcomer": newcomer.id}
        chat.react(owner, room, values["msg"], THUMBS_UP)  # something for DELETE reaction to take away
        return values

    cases = []
    for name, method, path, body, statuses in GROUP_ROUTES:
        for actor in ACTORS:
            if actor in (OUTSIDER, REMOVED):
                expected = 404
            elif actor == ANONYMOUS:
                expected = 401
            elif actor in statuses:
                expected = statuses[actor]
            else:
                continue
            cases.append((f"{name} as {actor}", method, path, body, actor, expected))

    def check(method, path, body, actor, expected):
        account = actors[actor]
        values = fresh_room()
        values["me"] = account.id if account else owner.id
        path = fill(path, values)
        kwargs = {} if body is None else {"body": fill(body, values)}
        response = chat.call(method, path, token=account.access if account else None, **kwargs)
        what = f"{method} {path} as {actor}"
        if expected == 401:
            assert_unauthorized(response, "unauthorized")
        elif expected >= 400:
            assert_error(response, expected, {403: "forbidden", 404: "not_found"}[expected], what)
        else:
            assert response.status == expected, f"{what}: expected {expected}, got:\n{response.describe()}"
            if expected == 204:
                assert response.body == b"", f"{what}: 204 with a body {response.body[:200]!r}"

    check_cases(cases, check)


def test_blocked_direct_room_reads_but_does_not_send(chat):
    blocker, blocked = chat.user("blocker"), chat.user("blocked")
    room = chat.dm(blocker, blocked)["id"]
    said = chat.send(blocked, room, "before the block")
    chat.send(blocker, room, "reply before the block")
    chat.block(blocker, blocked.id)

    cases = [
        ("blocked GET room", blocked, "GET", f"rooms/{room}", None, 200),
        ("blocked GET messages", blocked, "GET", f"rooms/{room}/messages", None, 200),
        ("blocked GET members", blocked, "GET", f"rooms/{room}/members", None, 200),
        ("blocked POST read", blocked, "POST", f"rooms/{room}/read", {"seq": 1}, 200),
        ("blocked GET receipts", blocked, "GET", f"rooms/{room}/receipts", None, 200),
        ("blocked POST message", blocked, "POST", f"rooms/{room}/messages", {"content": "let me in"}, 403),
        ("blocker GET messages", blocker, "GET", f"rooms/{room}/messages", None, 200),
        ("blocker POST message", blocker, "POST", f"rooms/{room}/messages", {"content": "go away"}, 403),
        ("blocked PATCH direct room", blocked, "PATCH", f"rooms/{room}", {"topic": "t"}, 422),
        ("blocker PATCH direct room", blocker, "PATCH", f"rooms/{room}", {"name": "n"}, 422),
    ]

    def check(account, method, path, body, expected):
        kwargs = {} if body is None else {"body": body}
        response = chat.call(method, path, token=account.access, **kwargs)
        what = f"{method} {path} as {account.username}"
        if expected == 403:
            assert_error(response, 403, "not_allowed", what)
        elif expected == 422:
            assert_error(response, 422, None, what)
        else:
            assert response.status == expected, f"{what}: expected {expected}, got:\n{response.describe()}"

    check_cases([(name, *case) for name, *case in cases], check)
    # Reading still shows the whole conversation, and nothing was added by the refused sends.
    messages, _ = chat.history(blocked, room)
    contents = [message["content"] for message in messages if message["kind"] == "user"]
    assert contents == ["reply before the block", "before the block"], messages
    assert said["id"] in [assert_message(message)["id"] for message in messages]
    assert room in [listed["id"] for listed in chat.rooms(blocked)], "the room stays in the blocked user's list"

    # Once unblocked, the existing room works again for both (opening a new one is what dm_policy governs).
    assert chat.delete(f"blocks/{blocked.id}", token=blocker.access).status == 204
    chat.send(blocked, room, "after the unblock")
    chat.send(blocker, room, "welcome back")


BAD_IDS = ["abc", "0", "-1", "1.5", "1e3", "0x10", "%201", "1%20", "99999999999999999999999"]


def test_bad_and_unknown_ids(chat):
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.group(alice, [bob], name="ids")["id"]
    message = chat.send(alice, room, "hello")["id"]
    elsewhere = chat.group(bob, name="elsewhere")["id"]
    foreign = chat.send(bob, elsewhere, "not in your room")["id"]

    templates = [
        ("GET", "rooms/{id}", None),
        ("PATCH", "rooms/{id}", {"name": "x"}),
        ("DELETE", "rooms/{id}", None),
        ("GET", "rooms/{id}/members", None),
        ("POST", "rooms/{id}/members", {"user_ids": [bob.id]}),
        ("GET", "rooms/{id}/messages", None),
        ("POST", "rooms/{id}/messages", {"content": "x"}),
        ("POST", "rooms/{id}/read", {"seq": 1}),
        ("GET", "rooms/{id}/receipts", None),
        ("DELETE", f"rooms/{room}/members/{{id}}", None),
        ("PATCH", f"rooms/{room}/members/{{id}}", {"role": "admin"}),
        ("PATCH", f"rooms/{room}/messages/{{id}}", {"content": "x"}),
        ("DELETE", f"rooms/{room}/messages/{{id}}", None),
        ("PUT", f"rooms/{room}/messages/{{id}}/reactions/{EMOJI}", None),
        ("DELETE", f"rooms/{room}/messages/{{id}}/reactions/{EMOJI}", None),
        ("POST", "friends/requests/{id}/accept", None),
        ("POST", "friends/requests/{id}/reject", None),
        ("DELETE", "friends/requests/{id}", None),
        ("DELETE", "friends/{id}", None),
        ("POST", "blocks/{id}", None),
        ("DELETE", "blocks/{id}", None),
    ]
    cases = []
    for method, template, body in templates:
        for bad in BAD_IDS:
            # A number too large for the id type is still "not an id the server can have": 400 or 404.
            statuses = (400, 404) if bad.startswith("999") else (400,)
            cases.append((f"{method} {template} id={bad}", method, template.format(id=bad), body, statuses,
                          "invalid_id" if statuses == (400,) else None))
        cases.append((f"{method} {template} unknown", method, template.format(id=987654), body, (404,), "not_found"))
    cases += [
        ("message of another room", "PATCH", f"rooms/{room}/messages/{foreign}", {"content": "x"}, (404,),
         "not_found"),
        ("delete message of another room", "DELETE", f"rooms/{room}/messages/{foreign}", None, (404,), "not_found"),
        ("react to message of another room", "PUT", f"rooms/{room}/messages/{foreign}/reactions/{EMOJI}", None,
         (404,), "not_found"),
        ("DM with unknown user", "POST", "rooms/direct", {"user_id": 987654}, (404,), "not_found"),
        ("friend request to unknown user", "POST", "friends/requests", {"user_id": 987654}, (404,), "not_found"),
    ]

    def check(method, path, body, statuses, code):
        kwargs = {} if body is None else {"body": body}
        response = chat.call(method, path, token=alice.access, **kwargs)
        assert response.status in statuses, f"{method} {path}: expected {statuses}, got:\n{response.describe()}"
        assert_json_error(response, response.status, code)

    check_cases(cases, check)
    # None of that changed the room or the message.
    assert chat.room(alice, room)["name"] == "ids"
    messages, _ = chat.history(alice, room)
    assert [m["content"] for m in messages if m["id"] == message] == ["hello"]


def test_bad_bodies_and_queries(chat):
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.group(alice, [bob], name="bodies")["id"]
    message = chat.send(alice, room, "hello")["id"]

    cases = [
        ("message: invalid JSON", "POST", f"rooms/{room}/messages", b'{"content": ', 400, "invalid_json"),
        ("message: array", "POST", f"rooms/{room}/messages", [], 422, None),
        ("message: no content", "POST", f"rooms/{room}/messages", {}, 422, None),
        ("message: content number", "POST", f"rooms/{room}/messages", {"content": 5}, 422, None),
        ("message: content null", "POST", f"rooms/{room}/messages", {"content": None}, 422, None),
        ("message: reply_to string", "POST", f"rooms/{room}/messages", {"content": "x", "reply_to": "1"}, 422, None),
        ("message: client_msg_id number", "POST", f"rooms/{room}/messages", {"content": "x", "client_msg_id": 7},
         422, None),
        ("edit: invalid JSON", "PATCH", f"rooms/{room}/messages/{message}", b"{", 400, "invalid_json"),
        ("edit: no content", "PATCH", f"rooms/{room}/messages/{message}", {}, 422, None),
        ("room: invalid JSON", "POST", "rooms", b"nope", 400, "invalid_json"),
        ("room: no name", "POST", "rooms", {}, 422, None),
        ("room: member_ids not a list", "POST", "rooms", {"name": "x", "member_ids": bob.id}, 422, None),
        ("room: member_ids strings", "POST", "rooms", {"name": "x", "member_ids": [str(bob.id)]}, 422, None),
        ("direct: user_id string", "POST", "rooms/direct", {"user_id": str(bob.id)}, 422, None),
        ("direct: no user_id", "POST", "rooms/direct", {}, 422, None),
        ("members: user_ids missing", "POST", f"rooms/{room}/members", {}, 422, None),
        ("members: user_ids not a list", "POST", f"rooms/{room}/members", {"user_ids": bob.id}, 422, None),
        ("role: unknown role", "PATCH", f"rooms/{room}/members/{bob.id}", {"role": "superuser"}, 422, None),
        ("role: owner is not grantable", "PATCH", f"rooms/{room}/members/{bob.id}", {"role": "owner"}, 422, None),
        ("role: missing", "PATCH", f"rooms/{room}/members/{bob.id}", {}, 422, None),
        ("read: seq string", "POST", f"rooms/{room}/read", {"seq": "1"}, 422, None),
        ("read: no seq", "POST", f"rooms/{room}/read", {}, 422, None),
        ("friend request: user_id string", "POST", "friends/requests", {"user_id": "x"}, 422, None),
        ("friend request: invalid JSON", "POST", "friends/requests", b"[", 400, "invalid_json"),
        ("history: before and after", "GET", f"rooms/{room}/messages?before_seq=5&after_seq=1", None, 422, None),
        ("search: empty q", "GET", "search/messages?q=", None, 422, None),
        ("search: no q", "GET", "search/messages", None, 422, None),
        ("requests: unknown direction", "GET", "friends/requests?direction=sideways", None, 422, None),
    ]

    def check(method, path, body, status, code):
        if isinstance(body, bytes):
            response = chat.call(method, path, token=alice.access, raw=body)
        elif body is None:
            response = chat.call(method, path, token=alice.access)
        else:
            response = chat.call(method, path, body, token=alice.access)
        assert_error(response, status, code, f"{method} {path} {body!r}")

    check_cases(cases, check)

    # Query parameters that are not numbers: a client error (400 or 422), never a 500 or a silently ignored value.
    def check_query(path):
        response = chat.get(path, alice.access)
        assert response.status in (400, 422), f"{path}: {response.describe()}"
        assert_json_error(response, response.status)

    check_cases([(path, path) for path in (
        f"rooms/{room}/messages?before_seq=abc", f"rooms/{room}/messages?after_seq=1.5",
        f"rooms/{room}/messages?limit=ten",
        "search/messages?q=hello&room_id=abc", "search/messages?q=hello&limit=x",
        "search/messages?q=hello&cursor=%00garbage%FF",
    )], check_query)
    messages, _ = chat.history(alice, room)
    assert [m["content"] for m in messages if m["kind"] == "user"] == ["hello"], messages


def test_odd_inputs_are_never_server_errors(chat):
    """Values at the edges of the types: whatever the answer, it is not a 5xx (the fixture also fails the test on
    any 5xx) and an error answer has the contract's error body."""
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.group(alice, [bob], name="odd")["id"]
    message = chat.send(alice, room, "hello")["id"]
    huge = 2**63
    cases = [
        ("direct room with yourself", "POST", "rooms/direct", {"user_id": alice.id}),
        ("direct room with id 2^63", "POST", "rooms/direct", {"user_id": huge}),
        ("direct room with id 0", "POST", "rooms/direct", {"user_id": 0}),
        ("direct room with a float id", "POST", "rooms/direct", {"user_id": 1.5}),
        ("friend request to 2^64", "POST", "friends/requests", {"user_id": 2**64}),
        ("friend request to -1", "POST", "friends/requests", {"user_id": -1}),
        ("room with member 2^63", "POST", "rooms", {"name": "x", "member_ids": [huge]}),
        ("room with a null name", "POST", "rooms", {"name": None}),
        ("room name an object", "POST", "rooms", {"name": {"x": 1}}),
        ("empty PATCH", "PATCH", f"rooms/{room}", {}),
        ("PATCH name null", "PATCH", f"rooms/{room}", {"name": None}),
        ("add nobody", "POST", f"rooms/{room}/members", {"user_ids": []}),
        ("add 2^63", "POST", f"rooms/{room}/members", {"user_ids": [huge]}),
        ("read 2^63", "POST", f"rooms/{room}/read", {"seq": huge}),
        ("read 1.5", "POST", f"rooms/{room}/read", {"seq": 1.5}),
        ("read -1", "POST", f"rooms/{room}/read", {"seq": -1}),
        ("reply_to 2^63 - 1", "POST", f"rooms/{room}/messages", {"content": "x", "reply_to": huge - 1}),
        ("reply_to 2^63", "POST", f"rooms/{room}/messages", {"content": "x", "reply_to": huge}),
        ("content with NUL", "POST", f"rooms/{room}/messages", {"content": "a\u0000b"}),
        ("content a lone surrogate", "POST", f"rooms/{room}/messages", None),
        ("limit 2^70", "GET", f"rooms/{room}/messages?limit={2**70}", None),
        ("before_seq 2^70", "GET", f"rooms/{room}/messages?before_seq={2**70}", None),
        ("after_seq 2^63", "GET", f"rooms/{room}/messages?after_seq={huge}", None),
        ("before_seq 0", "GET", f"rooms/{room}/messages?before_seq=0", None),
        ("search limit 2^70", "GET", f"search/messages?q=hello&limit={2**70}", None),
        ("search limit 0", "GET", "search/messages?q=hello&limit=0", None),
        ("search room_id 2^70", "GET", f"search/messages?q=hello&room_id={2**70}", None),
        ("search of 10k words", "GET", "search/messages?q=" + "+".join(["w"] * 2000), None),
        ("emoji reaction of a lone percent", "PUT", f"rooms/{room}/messages/{message}/reactions/%", None),
        ("emoji reaction of invalid UTF-8", "PUT", f"rooms/{room}/messages/{message}/reactions/%FF%FE", None),
        ("role of a number", "PATCH", f"rooms/{room}/members/{bob.id}", {"role": 1}),
    ]

    def check(method, path, body):
        if body is None and method == "POST":
            response = chat.call(method, path, token=alice.access, raw=b'{"content": "\\ud800"}')
        elif body is None:
            response = chat.call(method, path, token=alice.access)
        else:
            response = chat.call(method, path, body, token=alice.access)
        assert response.status < 500, f"{method} {path}: {response.describe()}"
        if response.status >= 400:
            assert_json_error(response, response.status)

    check_cases(cases, check)
    assert chat.room(alice, room)["name"] == "odd"
