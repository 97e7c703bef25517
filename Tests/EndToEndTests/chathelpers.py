"""A client for the chat API of issue 5 (friends, blocks, rooms, members, messages, receipts, unread, search) and the
shape checks the chat tests share. The contract is the issue's chat domain contract; every helper here drives the
real server over HTTP.

`Chat` is an `authhelpers.Api` with chat verbs. Helpers whose name says what must happen (`befriend`, `dm`,
`group`, `send`, ...) assert the success status and return the decoded document; the raw `Response` is always
available through `get`/`post`/... for the tests that look at failures. Every response with a 5xx status is
recorded in `Chat.server_errors` and the `chat` fixtures fail the test on teardown when there is any: whatever
a test sends, the server must never answer 500.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from urllib.parse import quote, urlencode

from authhelpers import Account, Api, assert_profile, assert_recent_ms, now_ms
from helpers import HOST, WAIT, Response, assert_json_error, wait_until

ROOM_KEYS = {"id", "kind", "name", "topic", "created_at", "last_activity_at", "member_count", "role", "last_seq",
             "last_read_seq", "unread_count", "last_message", "peer"}
MESSAGE_KEYS = {"id", "room_id", "seq", "sender_id", "kind", "content", "mime_type", "client_msg_id", "reply_to",
                "attachments", "created_at", "edited_at", "deleted", "reactions"}
MEMBER_KEYS = {"user", "role", "joined_at", "last_read_seq"}
FRIEND_REQUEST_KEYS = {"id", "from", "to", "created_at"}
FRIEND_KEYS = {"user", "since"}
EVENT_TYPES = {"room_created", "members_added", "member_removed", "member_left", "room_renamed", "topic_changed",
               "role_changed", "owner_changed"}

THUMBS_UP = "\U0001F44D"  # 👍, %F0%9F%91%8D in a path


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_id(value) -> bool:
    return is_int(value) and value > 0


# --------------------------------------------------------------------------------------------------------------
# Shapes


def assert_message(message: dict) -> dict:
    """A Message as the contract describes it (user or system)."""
    extra = set(message) - MESSAGE_KEYS
    assert set(message) >= MESSAGE_KEYS and extra <= {"event"}, f"message keys {sorted(message)}: {message}"
    assert is_id(message["id"]) and is_id(message["room_id"]) and is_id(message["seq"]), message
    assert message["kind"] in ("user", "system"), message
    assert isinstance(message["content"], str), message
    assert message["mime_type"] in ("text/plain", "text/markdown"), message
    assert message["client_msg_id"] is None or isinstance(message["client_msg_id"], str), message
    assert message["reply_to"] is None or is_id(message["reply_to"]), message
    assert message["attachments"] == [], message
    assert_recent_ms(message["created_at"])
    assert message["edited_at"] is None or is_int(message["edited_at"]), message
    assert message["deleted"] in (True, False), message
    assert isinstance(message["reactions"], list), message
    for reaction in message["reactions"]:
        assert set(reaction) == {"emoji", "count", "me"}, message
        assert isinstance(reaction["emoji"], str) and is_id(reaction["count"]) and reaction["me"] in (True, False)
    if message["kind"] == "system":
        assert message["sender_id"] is None, message
        assert message["mime_type"] == "text/plain", message
        assert message["content"].strip(), f"a system message says what happened: {message}"
        event = message.get("event")
        assert isinstance(event, dict), f"system message without an event: {message}"
        assert event.get("type") in EVENT_TYPES, message
        assert event.get("actor_id") is None or is_id(event["actor_id"]), message
    else:
        assert is_id(message["sender_id"]), message
        assert message.get("event") is None, f"a user message with an event: {message}"
    if message["deleted"]:
        assert message["content"] == "" and message["reactions"] == [], message
    return message


def assert_room(room: dict) -> dict:
    assert set(room) == ROOM_KEYS, f"room keys {sorted(room)}: {room}"
    assert is_id(room["id"]), room
    assert room["kind"] in ("direct", "group"), room
    assert isinstance(room["name"], str) and isinstance(room["topic"], str), room
    assert_recent_ms(room["created_at"])
    assert_recent_ms(room["last_activity_at"])
    assert room["last_activity_at"] >= room["created_at"], room
    assert is_id(room["member_count"]) or room["member_count"] == 0, room
    assert room["role"] in ("owner", "admin", "member"), room
    for key in ("last_seq", "last_read_seq", "unread_count"):
        assert is_int(room[key]) and room[key] >= 0, (key, room)
    assert room["last_read_seq"] <= room["last_seq"], room
    assert room["unread_count"] == room["last_seq"] - room["last_read_seq"], room
    if room["last_message"] is not None:
        assert_message(room["last_message"])
        assert room["last_message"]["room_id"] == room["id"], room
        assert room["last_message"]["seq"] <= room["last_seq"], room
    if room["kind"] == "direct":
        assert room["name"] == "" and room["topic"] == "", room
        assert isinstance(room["peer"], dict), room
        assert_profile(room["peer"])
    else:
        assert room["peer"] is None, room
    return room


def assert_member(member: dict) -> dict:
    assert set(member) == MEMBER_KEYS, member
    assert_profile(member["user"])
    assert member["role"] in ("owner", "admin", "member"), member
    assert_recent_ms(member["joined_at"])
    assert is_int(member["last_read_seq"]) and member["last_read_seq"] >= 0, member
    return member


def assert_friend_request(request: dict) -> dict:
    assert set(request) == FRIEND_REQUEST_KEYS, request
    assert is_id(request["id"]), request
    assert_profile(request["from"])
    assert_profile(request["to"])
    assert_recent_ms(request["created_at"])
    return request


def assert_friend(friend: dict) -> dict:
    assert set(friend) == FRIEND_KEYS, friend
    assert_profile(friend["user"])
    assert_recent_ms(friend["since"])
    return friend


def assert_status(response: Response, status: int, what: str = "") -> Response:
    assert response.status == status, f"{what}: expected {status}, got:\n{response.describe()}"
    return response


def by_id(items: list[dict], key: str = "id") -> dict:
    return {item[key]: item for item in items}


def events(messages: list[dict]) -> list[dict]:
    """The `event` objects of the system messages among `messages` (in the given order)."""
    return [message["event"] for message in messages if message["kind"] == "system"]


def event_types(messages: list[dict]) -> list[str]:
    return [event["type"] for event in events(messages)]


def tick(after_ms: int) -> None:
    """Wait until the clock is past `after_ms`, so that the next event gets a strictly later millisecond
    timestamp (for ordering checks that would otherwise depend on two requests landing in different ms)."""
    wait_until(lambda: now_ms() > after_ms + 1, timeout=WAIT, interval=0.001, message=f"the clock to pass {after_ms}")


# --------------------------------------------------------------------------------------------------------------
# The client


class Chat(Api):
    """`Api` plus the chat routes. Accounts are `authhelpers.Account`s."""

    def __init__(self, server, headers=None):
        super().__init__(server, headers)
        self.server_errors: list[str] = []
        self._errors_lock = threading.Lock()

    def call(self, method, path, *args, **kwargs) -> Response:
        response = super().call(method, path, *args, **kwargs)
        if response.status >= 500:
            with self._errors_lock:
                self.server_errors.append(f"{method} {path} -> {response.describe()}")
        return response

    def user(self, username: str | None = None, display_name=None) -> Account:
        return self.new_account(username, display_name=display_name)

    def users(self, count: int, prefix: str = "user") -> list[Account]:
        from authhelpers import unique_name

        return [self.new_account(unique_name(prefix)) for _ in range(count)]

    def profile(self, account: Account) -> dict:
        response = self.get(f"users/{account.id}", account.access)
        assert_status(response, 200, "own profile")
        return response.json()

    # -- friends and blocks -----------------------------------------------------------------------------------

    def request_friend(self, sender: Account, target_id: int) -> Response:
        return self.post("friends/requests", {"user_id": target_id}, sender.access)

    def befriend(self, a: Account, b: Account) -> None:
        """Make a and b friends: a asks, b accepts."""
        response = self.request_friend(a, b.id)
        assert_status(response, 201, f"friend request {a.username} -> {b.username}")
        accepted = self.post(f"friends/requests/{response.json()['id']}/accept", token=b.access)
        assert_status(accepted, 200, f"{b.username} accepts {a.username}")

    def friend_requests(self, account: Account, direction: str | None = None) -> list[dict]:
        path = "friends/requests" + (f"?direction={direction}" if direction else "")
        response = self.get(path, account.access)
        assert_status(response, 200, path)
        document = response.json()
        assert set(document) == {"requests"}, document
        return [assert_friend_request(request) for request in document["requests"]]

    def friends(self, account: Account) -> list[dict]:
        response = self.get("friends", account.access)
        assert_status(response, 200, "GET /friends")
        document = response.json()
        assert set(document) == {"friends"}, document
        return [assert_friend(friend) for friend in document["friends"]]

    def friend_ids(self, account: Account) -> list[int]:
        return [friend["user"]["id"] for friend in self.friends(account)]

    def block(self, account: Account, target_id: int) -> None:
        assert_status(self.post(f"blocks/{target_id}", token=account.access), 204, f"block {target_id}")

    def blocks(self, account: Account) -> list[dict]:
        response = self.get("blocks", account.access)
        assert_status(response, 200, "GET /blocks")
        document = response.json()
        assert set(document) == {"blocks"}, document
        for entry in document["blocks"]:
            assert set(entry) == {"user", "created_at"}, entry
            assert_profile(entry["user"])
            assert_recent_ms(entry["created_at"])
        return document["blocks"]

    # -- rooms ------------------------------------------------------------------------------------------------

    def open_dm(self, account: Account, peer_id: int) -> Response:
        return self.post("rooms/direct", {"user_id": peer_id}, account.access)

    def dm(self, a: Account, b: Account, befriend: bool = True) -> dict:
        """The direct room of a and b (making them friends first unless `befriend` is false)."""
        if befriend:
            self.befriend(a, b)
        response = self.open_dm(a, b.id)
        assert response.status in (200, 201), f"direct room {a.username}/{b.username}:\n{response.describe()}"
        return assert_room(response.json())

    def create_group(self, owner: Account, name: str = "room", topic: str | None = None,
                     member_ids=None) -> Response:
        body = {"name": name}
        if topic is not None:
            body["topic"] = topic
        if member_ids is not None:
            body["member_ids"] = list(member_ids)
        return self.post("rooms", body, owner.access)

    def group(self, owner: Account, members=(), name: str = "room", topic: str | None = None) -> dict:
        response = self.create_group(owner, name, topic, [member.id for member in members])
        assert_status(response, 201, f"create group {name!r}")
        return assert_room(response.json())

    def room(self, account: Account, room_id: int) -> dict:
        response = self.get(f"rooms/{room_id}", account.access)
        assert_status(response, 200, f"GET /rooms/{room_id} as {account.username}")
        return assert_room(response.json())

    def rooms(self, account: Account) -> list[dict]:
        response = self.get("rooms", account.access)
        assert_status(response, 200, f"GET /rooms as {account.username}")
        document = response.json()
        assert set(document) == {"rooms"}, document
        return [assert_room(room) for room in document["rooms"]]

    def members(self, account: Account, room_id: int) -> list[dict]:
        response = self.get(f"rooms/{room_id}/members", account.access)
        assert_status(response, 200, f"GET members of {room_id}")
        document = response.json()
        assert set(document) == {"members"}, document
        return [assert_member(member) for member in document["members"]]

    def roles(self, account: Account, room_id: int) -> dict[int, str]:
        return {member["user"]["id"]: member["role"] for member in self.members(account, room_id)}

    def add_members(self, account: Account, room_id: int, *users: Account) -> list[dict]:
        response = self.post(f"rooms/{room_id}/members", {"user_ids": [user.id for user in users]}, account.access)
        assert_status(response, 200, f"add members to {room_id}")
        document = response.json()
        assert set(document) == {"members"}, document
        return [assert_member(member) for member in document["members"]]

    def remove_member(self, account: Account, room_id: int, user_id: int) -> Response:
        return self.delete(f"rooms/{room_id}/members/{user_id}", token=account.access)

    def set_role(self, account: Account, room_id: int, user_id: int, role: str) -> Response:
        return self.patch(f"rooms/{room_id}/members/{user_id}", {"role": role}, account.access)

    # -- messages ---------------------------------------------------------------------------------------------

    def post_message(self, account: Account, room_id: int, content="hello", **extra) -> Response:
        return self.post(f"rooms/{room_id}/messages", {"content": content, **extra}, account.access)

    def send(self, account: Account, room_id: int, content="hello", **extra) -> dict:
        response = self.post_message(account, room_id, content, **extra)
        assert_status(response, 201, f"send to {room_id} as {account.username}")
        message = assert_message(response.json())
        assert message["room_id"] == room_id and message["sender_id"] == account.id and message["kind"] == "user"
        return message

    def history_response(self, account: Account, room_id: int, **params) -> Response:
        query = urlencode(params)
        return self.get(f"rooms/{room_id}/messages" + (f"?{query}" if query else ""), account.access)

    def history(self, account: Account, room_id: int, **params) -> tuple[list[dict], bool]:
        response = self.history_response(account, room_id, **params)
        assert_status(response, 200, f"history of {room_id} {params}")
        document = response.json()
        assert set(document) == {"messages", "has_more"}, document
        assert document["has_more"] in (True, False), document
        for message in document["messages"]:
            assert_message(message)
            assert message["room_id"] == room_id, message
        return document["messages"], document["has_more"]

    def all_messages(self, account: Account, room_id: int, page: int = 200) -> list[dict]:
        """The whole timeline, oldest first, walked forwards with `after_seq`."""
        collected: list[dict] = []
        after = 0
        for _ in range(10_000):
            messages, has_more = self.history(account, room_id, after_seq=after, limit=page)
            collected += messages
            if not has_more:
                return collected
            assert messages, "has_more with an empty page"
            after = messages[-1]["seq"]
        raise AssertionError("history walk does not end")

    def edit(self, account: Account, room_id: int, message_id: int, content) -> Response:
        return self.patch(f"rooms/{room_id}/messages/{message_id}", {"content": content}, account.access)

    def delete_message(self, account: Account, room_id: int, message_id: int) -> Response:
        return self.delete(f"rooms/{room_id}/messages/{message_id}", token=account.access)

    def react(self, account: Account, room_id: int, message_id: int, emoji: str, method: str = "PUT") -> Response:
        path = f"rooms/{room_id}/messages/{message_id}/reactions/{quote(emoji, safe='')}"
        return self.call(method, path, token=account.access)

    # -- receipts, unread, search -----------------------------------------------------------------------------

    def mark_read(self, account: Account, room_id: int, seq) -> Response:
        return self.post(f"rooms/{room_id}/read", {"seq": seq}, account.access)

    def read_all(self, account: Account, room_id: int) -> dict:
        response = self.mark_read(account, room_id, 1 << 40)
        assert_status(response, 200, f"read all of {room_id}")
        return response.json()

    def receipts(self, account: Account, room_id: int) -> dict[int, int]:
        response = self.get(f"rooms/{room_id}/receipts", account.access)
        assert_status(response, 200, f"receipts of {room_id}")
        document = response.json()
        assert set(document) == {"receipts"}, document
        result = {}
        for receipt in document["receipts"]:
            assert set(receipt) == {"user_id", "last_read_seq"}, receipt
            assert receipt["user_id"] not in result, f"two receipts for one user: {document}"
            result[receipt["user_id"]] = receipt["last_read_seq"]
        return result

    def unread(self, account: Account) -> tuple[dict[int, dict], int]:
        response = self.get("unread", account.access)
        assert_status(response, 200, "GET /unread")
        document = response.json()
        assert set(document) == {"rooms", "total"}, document
        rooms = {}
        for entry in document["rooms"]:
            assert set(entry) == {"room_id", "unread_count", "last_read_seq", "last_seq"}, entry
            assert entry["room_id"] not in rooms, f"room listed twice: {document}"
            assert entry["unread_count"] == entry["last_seq"] - entry["last_read_seq"], entry
            rooms[entry["room_id"]] = entry
        assert document["total"] == sum(entry["unread_count"] for entry in rooms.values()), document
        return rooms, document["total"]

    def search_response(self, account: Account, q: str, **params) -> Response:
        query = urlencode({"q": q, **params}, quote_via=quote)
        return self.get(f"search/messages?{query}", account.access)

    def search(self, account: Account, q: str, **params) -> tuple[list[dict], str | None]:
        response = self.search_response(account, q, **params)
        assert_status(response, 200, f"search {q!r} {params}")
        document = response.json()
        assert set(document) == {"results", "next_cursor"}, document
        assert document["next_cursor"] is None or isinstance(document["next_cursor"], str), document
        for result in document["results"]:
            assert set(result) == {"message", "snippet"}, result
            assert_message(result["message"])
            assert isinstance(result["snippet"], str), result
        return document["results"], document["next_cursor"]

    def found_ids(self, account: Account, q: str, **params) -> list[int]:
        results, _ = self.search(account, q, **params)
        return [result["message"]["id"] for result in results]


# --------------------------------------------------------------------------------------------------------------
# Keep-alive connections for the concurrent tests


class KeepAlive:
    """One persistent HTTP/1.1 connection (for a thread of its own). Never reconnects: a keep-alive connection
    the server drops in the middle of a run is a failure of its own."""

    def __init__(self, port: int, token: str, timeout: float = 30):
        self.connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.token = token

    def call(self, method: str, path: str, body=None) -> tuple[int, dict | None]:
        headers = {"Authorization": f"Bearer {self.token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.connection.request(method, f"/api/v1/{path}", body=data, headers=headers)
        reply = self.connection.getresponse()
        raw = reply.read()
        try:
            document = json.loads(raw) if raw else None
        except ValueError:
            document = {"unparsed": raw[:300].decode("latin-1")}
        return reply.status, document

    def close(self):
        self.connection.close()


def run_threads(targets, timeout: float = 60) -> list:
    """Start one thread per callable, released together by a barrier; returns their results in order and
    re-raises the first exception a thread raised."""
    barrier = threading.Barrier(len(targets))
    results: list = [None] * len(targets)
    errors: list = [None] * len(targets)

    def runner(index, target):
        try:
            barrier.wait(timeout)
            results[index] = target()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors[index] = error

    threads = [threading.Thread(target=runner, args=(index, target), daemon=True)
               for index, target in enumerate(targets)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.1, deadline - time.monotonic()))
        assert not thread.is_alive(), f"a client thread still runs after {timeout}s"
    for error in errors:
        if error is not None:
            raise error
    return results


def assert_error(response: Response, status: int, code: str | None = None, what: str = "") -> dict:
    try:
        return assert_json_error(response, status, code)
    except AssertionError as error:
        raise AssertionError(f"{what}: {error}" if what else str(error)) from None

