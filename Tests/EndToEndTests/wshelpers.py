"""A client for the realtime protocol (`/ws`, docs/realtime-protocol.md), on top of the real `websockets` library.

`WS` is one device's connection: it connects with a bearer header or a ticket, waits for `CONNECTED`, sends
envelopes with ids (`send`, `call`, `call_error`), and reads with `expect(type, predicate, timeout)`, which keeps
every frame it skips so a later `expect` still finds it (`frames` holds everything ever received, in order).
`no_frame` / `never_got` check that something did not arrive: after a *barrier* (a later event the server must
have sent after the unwanted one) wherever the protocol gives one, otherwise within a short window. Nothing here
asserts how fast anything is: waits are for conditions, with `WAIT` as the upper bound.

`RawWS` is a hand-rolled client over a plain socket for what a library hides: a reader that never reads (slow
consumer), one that never answers pings (heartbeat). `refusal` sends the upgrade request with `http.client` to
look at a refusal's JSON body.

The `start_rt` / `rt` fixtures (import them into a test module) start a chat server with `RT_ENV` and close every
connection a test opened before the server is stopped.
"""

from __future__ import annotations

import base64
import inspect
import itertools
import json
import os
import socket
import struct
import threading
import time
from collections import deque

import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import connect

from authhelpers import Account, jwt_parts, now_ms
from chathelpers import MESSAGE_KEYS, assert_message, assert_status, is_id, is_int
from helpers import HOST, WAIT, RawConnection, Response, assert_json_error, http_request, wait_until

# Every realtime test starts from these settings (on top of authhelpers.AUTH_ENV): REST budget out of the way,
# short typing timeout and presence grace so expiry tests take about a second, and per-connection message limits
# high enough that only the rate-limit tests (which set their own) ever meet them.
RT_ENV = {
    "CHAT_RATE_LIMIT_API_PER_MINUTE": "1000000",
    "CHAT_REALTIME_TYPING_TIMEOUT": "1s",
    "CHAT_REALTIME_PRESENCE_GRACE": "1s",
    "CHAT_REALTIME_MESSAGES_PER_SECOND": "1000",
    "CHAT_REALTIME_MESSAGES_BURST": "1000",
    "CHAT_REALTIME_MAX_MESSAGE_BYTES": "64k",
}

# websockets 17 warns unless a directly returned connection is asked for explicitly (`legacy=True`); older
# versions have no such flag and always return the connection.
_DIRECT = {"legacy": True} if "legacy" in inspect.signature(connect).parameters else {}

# How long a negative check listens when the protocol offers no barrier event to wait for.
QUIET = 0.4

ENVELOPE_KEYS = {"type", "sender_id", "timestamp", "data"}

_ids = itertools.count(1)


def ws_url(port: int, query: str = "") -> str:
    return f"ws://{HOST}:{port}/ws" + (f"?{query}" if query else "")


def describe(frames, limit: int = 25) -> str:
    shown = list(frames)[-limit:]
    return "\n".join(json.dumps(frame)[:400] for frame in shown) or "(nothing)"


def assert_envelope(frame) -> dict:
    """A server → client envelope: `{"type", "sender_id", "timestamp", "data"}`."""
    assert isinstance(frame, dict), f"frame is not a JSON object: {frame!r}"
    assert set(frame) == ENVELOPE_KEYS, f"envelope keys {sorted(frame)}: {frame}"
    assert isinstance(frame["type"], str) and frame["type"], frame
    assert frame["sender_id"] is None or is_id(frame["sender_id"]), frame
    assert is_int(frame["timestamp"]) and abs(frame["timestamp"] - now_ms()) < 86_400_000, \
        f"timestamp is not unix milliseconds: {frame}"
    assert isinstance(frame["data"], dict), frame
    return frame


class Closed(AssertionError):
    """The connection closed while a frame was expected."""

    def __init__(self, message: str, code: int | None):
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------------------------------------------
# The library client


class WS:
    """One WebSocket connection to `/ws` (a device)."""

    def __init__(self, port: int, *, token: str | None = None, ticket: str | None = None, query: str = "",
                 headers: dict[str, str] | None = None, name: str = "ws", wait_connected: bool = True,
                 account: Account | None = None):
        self.name = name
        self.account = account
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        if ticket is not None:
            query = "&".join(part for part in (query, f"ticket={ticket}") if part)
        self.conn = connect(
            ws_url(port, query), additional_headers=all_headers, open_timeout=WAIT, close_timeout=5,
            ping_interval=None, max_size=None, max_queue=None, compression=None, proxy=None,
            user_agent_header=None, **_DIRECT,
        )
        self.frames: list[dict] = []  # every frame received, in order
        self.pending: deque[dict] = deque()  # received, not yet returned by expect()
        self.close_code: int | None = None
        self.closed = False
        self.connected: dict | None = None
        if wait_connected:
            self.connected = self.expect("CONNECTED")
            data = self.connected["data"]
            assert self.connected["sender_id"] is None, self.connected
            assert set(data) == {"user_id", "session_id", "rooms", "expires_at"}, f"CONNECTED data: {data}"
            assert is_id(data["user_id"]), data
            assert isinstance(data["rooms"], list) and all(is_id(room) for room in data["rooms"]), data
            assert is_int(data["expires_at"]), data
            if account is not None:
                assert data["user_id"] == account.id, f"{name} connected as {data['user_id']}, not {account.id}"

    def __repr__(self):
        return f"<WS {self.name}>"

    # -- sending ---------------------------------------------------------------------------------------------

    def send_raw(self, data: str | bytes) -> None:
        self.conn.send(data)

    def send(self, type_: str, data: dict | None = None, id=None, *, with_id: bool = True) -> str | int | None:
        """Send an envelope; returns the id used (a fresh one unless given, none when `with_id` is false)."""
        if id is None and with_id:
            id = f"{self.name}-{next(_ids)}"
        envelope: dict = {"type": type_}
        if id is not None:
            envelope["id"] = id
        if data is not None:
            envelope["data"] = data
        self.conn.send(json.dumps(envelope))
        return id

    def reply(self, id, types, timeout: float = WAIT) -> dict:
        """The reply (of one of `types`, or an ERROR) whose `data.ref` is `id`."""
        wanted = {types} if isinstance(types, str) else set(types)
        return self.expect(lambda frame: (frame["type"] in wanted or frame["type"] == "ERROR")
                           and frame["data"].get("ref") == id, timeout=timeout,
                           what=f"a reply {sorted(wanted)} or ERROR to {id!r}")

    def call(self, type_: str, data: dict | None, reply_type: str, timeout: float = WAIT, id=None) -> dict:
        """Send and return the reply, which must be `reply_type` (not an ERROR)."""
        id = self.send(type_, data, id)
        frame = self.reply(id, reply_type, timeout)
        assert frame["type"] == reply_type, f"{self.name}: {type_} {data} answered {frame}"
        assert frame["sender_id"] is None, frame
        return frame

    def call_error(self, type_: str, data: dict | None, code: str | set[str], id=None) -> dict:
        """Send and return the ERROR reply's data, whose code must be `code` (or one of a set)."""
        id = self.send(type_, data, id)
        frame = self.reply(id, (), WAIT)
        return assert_ws_error(frame, code, id)

    def ping(self, id=None) -> dict:
        """PING → PONG: also the check that the connection is still open and served."""
        return self.call("PING", None, "PONG", id=id)

    def send_message(self, room_id: int, content: str = "hello", **extra) -> dict:
        """SEND_MESSAGE and return the ACK's data (checked against the request)."""
        data = {"chat_room_id": room_id, "content": content, **extra}
        ack = self.call("SEND_MESSAGE", data, "ACK")
        return assert_ack(ack, room_id, extra.get("client_msg_id"))

    def join(self, room_id: int) -> dict:
        frame = self.call("JOIN_ROOM", {"chat_room_id": room_id}, "JOIN_SUCCESS")
        data = frame["data"]
        assert set(data) == {"ref", "chat_room_id", "last_seq"} and data["chat_room_id"] == room_id, frame
        assert is_int(data["last_seq"]) and data["last_seq"] >= 0, frame
        return data

    def leave(self, room_id: int) -> dict:
        frame = self.call("LEAVE_ROOM", {"chat_room_id": room_id}, "LEAVE_SUCCESS")
        assert set(frame["data"]) == {"ref", "chat_room_id"} and frame["data"]["chat_room_id"] == room_id, frame
        return frame["data"]

    # -- receiving -------------------------------------------------------------------------------------------

    def _receive(self, timeout: float) -> dict | None:
        """One more frame from the socket (None on timeout); raises `Closed` when the connection is closed."""
        if self.closed:
            raise Closed(f"{self.name}: connection closed with {self.close_code}", self.close_code)
        try:
            text = self.conn.recv(timeout=max(timeout, 0))
        except TimeoutError:
            return None
        except ConnectionClosed as closed:
            self.closed = True
            self.close_code = closed.rcvd.code if closed.rcvd is not None else None
            raise Closed(f"{self.name}: connection closed with {self.close_code} "
                         f"({closed.rcvd.reason if closed.rcvd else 'no close frame'})", self.close_code) from None
        assert isinstance(text, str), f"{self.name}: a binary frame from the server: {text[:100]!r}"
        try:
            frame = json.loads(text)
        except ValueError:
            raise AssertionError(f"{self.name}: the server sent text that is not JSON: {text[:300]!r}") from None
        assert_envelope(frame)
        self.frames.append(frame)
        return frame

    @staticmethod
    def _matcher(type_, predicate, fields):
        def matches(frame):
            if callable(type_):
                if not type_(frame):
                    return False
            elif frame["type"] != type_:
                return False
            if predicate is not None and not predicate(frame["data"]):
                return False
            return all(frame["data"].get(key) == value for key, value in fields.items())

        return matches

    def expect(self, type_, predicate=None, timeout: float = WAIT, what: str | None = None, **fields) -> dict:
        """The first frame (already received or arriving within `timeout`) of type `type_` (or, if `type_` is
        callable, for which it is true), whose data satisfies `predicate` and has the given `fields`. Frames
        skipped on the way stay available to later calls."""
        matches = self._matcher(type_, predicate, fields)
        for frame in list(self.pending):
            if matches(frame):
                self.pending.remove(frame)
                return frame
        deadline = time.monotonic() + timeout
        label = what or (f"{type_} {fields or ''}" if not callable(type_) else "a matching frame")
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.name}: no {label} within {timeout}s; received:\n{describe(self.frames)}")
            try:
                frame = self._receive(remaining)
            except Closed as closed:
                raise Closed(f"{closed} while waiting for {label}; received:\n{describe(self.frames)}",
                             closed.code) from None
            if frame is None:
                continue
            if matches(frame):
                return frame
            self.pending.append(frame)

    def expect_data(self, type_, predicate=None, timeout: float = WAIT, **fields) -> dict:
        return self.expect(type_, predicate, timeout, **fields)["data"]

    def collect(self, type_, count: int, predicate=None, timeout: float = WAIT, **fields) -> list[dict]:
        """`count` matching frames, in arrival order."""
        return [self.expect(type_, predicate, timeout, **fields) for _ in range(count)]

    def drain(self, within: float = 0.0) -> None:
        """Receive whatever arrives within `within` seconds into `pending`."""
        deadline = time.monotonic() + within
        while True:
            frame = self._receive(max(0.0, deadline - time.monotonic()))
            if frame is None:
                return
            self.pending.append(frame)

    def got(self, type_, predicate=None, **fields) -> list[dict]:
        """Every frame received so far (consumed or not) that matches."""
        matches = self._matcher(type_, predicate, fields)
        return [frame for frame in self.frames if matches(frame)]

    def never_got(self, type_, predicate=None, what: str = "", **fields) -> None:
        """Nothing matching was ever received (call it after a barrier: a frame the server sends later)."""
        found = self.got(type_, predicate, **fields)
        assert not found, f"{self.name}: unexpected {what or type_}: {found[:3]}"

    def no_frame(self, type_, predicate=None, within: float = QUIET, what: str = "", **fields) -> None:
        """Listen for `within` seconds; nothing matching may have arrived, then or before."""
        try:
            self.drain(within)
        except Closed:
            pass
        self.never_got(type_, predicate, what, **fields)

    def expect_close(self, timeout: float = WAIT) -> int | None:
        """Read until the server closes; returns the close code it sent (None: no close frame)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.name}: still open after {timeout}s; received:\n{describe(self.frames)}")
            try:
                frame = self._receive(remaining)
            except Closed as closed:
                return closed.code
            if frame is not None:
                self.pending.append(frame)

    # -- closing ---------------------------------------------------------------------------------------------

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:  # noqa: BLE001 - closing an already broken connection
            pass
        self.closed = True

    def drop(self) -> None:
        """Lose the connection abruptly (no closing handshake), as a phone going through a tunnel would."""
        try:
            self.conn.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close()


def assert_ws_error(frame: dict, code: str | set[str] | None, ref=None) -> dict:
    """An ERROR envelope with the given code (or one of a set) and `ref`; returns its data."""
    assert frame["type"] == "ERROR", f"expected an ERROR, got {frame}"
    assert frame["sender_id"] is None, frame
    data = frame["data"]
    assert set(data) >= {"ref", "code", "message"} and set(data) <= {"ref", "code", "message", "fields"}, frame
    assert isinstance(data["code"], str) and isinstance(data["message"], str) and data["message"].strip(), frame
    if code is not None:
        codes = {code} if isinstance(code, str) else code
        assert data["code"] in codes, f"expected ERROR {sorted(codes)}, got {frame}"
    assert data["ref"] == ref, f"ERROR ref {data['ref']!r}, expected {ref!r}: {frame}"
    if "fields" in data:
        assert isinstance(data["fields"], dict), frame
    return data


def assert_ack(frame: dict, room_id: int, client_msg_id=None, duplicate: bool = False) -> dict:
    assert frame["type"] == "ACK", frame
    data = frame["data"]
    assert set(data) == {"ref", "chat_room_id", "client_msg_id", "message_id", "seq", "duplicate"}, frame
    assert data["chat_room_id"] == room_id and data["client_msg_id"] == client_msg_id, frame
    assert is_id(data["message_id"]) and is_id(data["seq"]), frame
    assert data["duplicate"] is duplicate, frame
    return data


def assert_ws_message(data: dict, room_id: int | None = None, *, updated: bool = False) -> dict:
    """The data of NEW_MESSAGE / MESSAGE_UPDATED: the stored message as REST returns it, plus `chat_room_id`
    (MESSAGE_UPDATED's reactions have no `me`: the event goes to everyone). Returns the message without
    `chat_room_id`."""
    assert "chat_room_id" in data and data["chat_room_id"] == data.get("room_id"), data
    if room_id is not None:
        assert data["chat_room_id"] == room_id, data
    message = {key: value for key, value in data.items() if key != "chat_room_id"}
    if updated or any("me" not in reaction for reaction in message.get("reactions", [])):
        for reaction in message.get("reactions", []):
            assert set(reaction) == {"emoji", "count"}, f"reactions of an event carry no `me`: {data}"
        assert_message({**message, "reactions": []})
    else:
        assert_message(message)
    return message


def without_me(message: dict) -> dict:
    """A REST message with `me` removed from its reactions (to compare with an event's copy)."""
    return {**message, "reactions": [{"emoji": r["emoji"], "count": r["count"]} for r in message["reactions"]]}


def token_expiry_ms(token: str) -> int:
    return jwt_parts(token)[1]["exp"] * 1000


# --------------------------------------------------------------------------------------------------------------
# Handshakes that fail


def refusal(port: int, query: str = "", headers: dict[str, str] | None = None, version: str = "13") -> Response:
    """The answer to a WebSocket upgrade request for `/ws` (with `http.client`, to read a refusal's body)."""
    all_headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Version": version,
        **(headers or {}),
    }
    return http_request(port, "GET", "/ws" + (f"?{query}" if query else ""), all_headers)


def assert_refused(port: int, status: int, code: str | None, *, query: str = "", headers=None,
                   version: str = "13") -> dict | None:
    """Both a hand-made upgrade request and the `websockets` client are refused with `status` (and JSON `code`)
    before the upgrade."""
    response = refusal(port, query, headers, version)
    error = assert_json_error(response, status, code) if code is not None else None
    assert response.status == status, response.describe()
    if version == "13":
        extra = dict(headers or {})
        try:
            client = connect(ws_url(port, query), additional_headers=extra, open_timeout=WAIT, proxy=None,
                             compression=None, user_agent_header=None, **_DIRECT)
        except InvalidStatus as refused:
            assert refused.response.status_code == status, (refused.response.status_code, refused.response.body)
        except InvalidHandshake as other:
            raise AssertionError(f"the websockets client failed otherwise than with {status}: {other!r}") from None
        else:
            client.close()
            raise AssertionError(f"the websockets client connected to /ws?{query} with {headers}")
    return error


# --------------------------------------------------------------------------------------------------------------
# A raw client


class RawWS:
    """A WebSocket client over a plain socket: nothing is read unless the test reads it."""

    def __init__(self, port: int, token: str, rcvbuf: int | None = None, timeout: float = WAIT):
        self.raw = RawConnection(port, timeout, rcvbuf)
        key = base64.b64encode(os.urandom(16)).decode()
        self.raw.send(
            f"GET /ws HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        self.head = self.raw.read_head()
        assert self.head.status == 101, self.head.describe()
        self.pings = 0

    def close(self):
        self.raw.close()

    def send_frame(self, opcode: int, payload: bytes = b"") -> bool:
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        return self.raw.try_send(header + mask + masked)

    def send_json(self, value) -> bool:
        return self.send_frame(0x1, json.dumps(value).encode())

    def read_frame(self) -> tuple[int, bytes] | None:
        """The next frame (opcode, payload); None at the end of the stream (also mid-frame)."""
        try:
            first, second = self.raw.read_exact(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack("!H", self.raw.read_exact(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self.raw.read_exact(8))[0]
            assert not second & 0x80, "the server masked a frame"
            payload = self.raw.read_exact(length)
        except (EOFError, ConnectionResetError):
            return None
        return first & 0x0F, payload

    def read_until_closed(self) -> tuple[list, int | None, bool]:
        """Read up to a close frame or the end of the stream: (text messages, close code or None, close frame seen)."""
        texts: list[bytes] = []
        while True:
            frame = self.read_frame()
            if frame is None:
                return texts, None, False
            opcode, payload = frame
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                return texts, code, True
            elif opcode == 0x9:
                self.pings += 1
            elif opcode in (0x1, 0x0):
                texts.append(payload)


# --------------------------------------------------------------------------------------------------------------
# Fixtures


class Realtime:
    """A chat server (`chathelpers.Chat` client) plus the WebSocket connections a test opens to it."""

    def __init__(self, chat):
        self.chat = chat
        self.server = chat.server
        self.port = chat.server.port
        self.connections: list[WS] = []
        self.raw_connections: list[RawWS] = []

    def connect(self, account: Account, name: str | None = None, token: str | None = None, **options) -> WS:
        ws = WS(self.port, token=token or account.access, name=name or account.username, account=account,
                **options)
        self.connections.append(ws)
        return ws

    def connect_ticket(self, account: Account, ticket: str, name: str | None = None, **options) -> WS:
        ws = WS(self.port, ticket=ticket, name=name or f"{account.username}(ticket)", account=account, **options)
        self.connections.append(ws)
        return ws

    def raw(self, account: Account, rcvbuf: int | None = None) -> RawWS:
        client = RawWS(self.port, account.access, rcvbuf)
        self.raw_connections.append(client)
        return client

    def ticket_response(self, account: Account) -> Response:
        return self.chat.post("ws/ticket", token=account.access)

    def ticket(self, account: Account) -> dict:
        response = self.ticket_response(account)
        assert_status(response, 201, "POST /ws/ticket")
        document = response.json()
        assert set(document) == {"ticket", "expires_in"}, document
        assert isinstance(document["ticket"], str) and len(document["ticket"]) >= 16, document
        assert is_int(document["expires_in"]) and document["expires_in"] > 0, document
        return document

    def close_all(self):
        for ws in self.connections:
            ws.close()
        for client in self.raw_connections:
            client.close()


@pytest.fixture
def start_rt(start_chat):
    """Factory: `start_rt(env=...)` starts a server with `RT_ENV` plus `env` and returns a `Realtime`."""
    made: list[Realtime] = []

    def start(*, env: dict[str, str] | None = None, **options) -> Realtime:
        realtime = Realtime(start_chat(env={**RT_ENV, **(env or {})}, **options))
        made.append(realtime)
        return realtime

    yield start
    for realtime in made:
        realtime.close_all()


@pytest.fixture
def rt(start_rt) -> Realtime:
    return start_rt()


def run_in_thread(target) -> tuple[threading.Thread, list]:
    """Start `target` in a daemon thread; the list gets its result, or the exception it raised."""
    outcome: list = []

    def runner():
        try:
            outcome.append(target())
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome.append(error)

    thread = threading.Thread(target=runner, daemon=True)
    thread.start()
    return thread, outcome


def joined(thread: threading.Thread, outcome: list, timeout: float = 60):
    thread.join(timeout)
    assert not thread.is_alive(), f"a client thread still runs after {timeout}s"
    if outcome and isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0] if outcome else None


__all__ = [
    "MESSAGE_KEYS", "QUIET", "RT_ENV", "WAIT", "Closed", "RawWS", "Realtime", "WS", "assert_ack", "assert_envelope",
    "assert_refused", "assert_ws_error", "assert_ws_message", "joined", "refusal", "rt", "run_in_thread",
    "start_rt", "token_expiry_ms", "wait_until", "without_me",
]
