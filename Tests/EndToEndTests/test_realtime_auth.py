"""Realtime protocol, connecting (docs/realtime-protocol.md "Connecting"): bearer header or single-use ticket,
`CONNECTED`, refusals as JSON before the upgrade (no token in the URL, bad/used/expired tickets, foreign origins,
non-WebSocket requests), and the token's expiry on an open connection (ERROR token_expired, close 4001, AUTH)."""

from __future__ import annotations

import time

from authhelpers import assert_recent_ms, check_cases, claims_for, server_private_key, sign_rs256
from chathelpers import assert_status
from helpers import WAIT, assert_json_error, http_request, run_chat, wait_until
from wshelpers import assert_refused, assert_ws_error, refusal, start_rt, rt, token_expiry_ms  # noqa: F401


def test_connect_with_bearer_header(rt):
    chat = rt.chat
    alice, bob = chat.user("alice"), chat.user("bob")
    first = chat.group(alice, [bob], name="first")["id"]
    second = chat.group(bob, [alice], name="second")["id"]
    chat.group(bob, name="not alice's")

    ws = rt.connect(alice)
    data = ws.connected["data"]
    assert data["user_id"] == alice.id
    assert sorted(data["rooms"]) == sorted([first, second]), data
    assert data["expires_at"] == token_expiry_ms(alice.access), "expires_at is the token's exp, in ms"
    assert isinstance(data["session_id"], (str, int)) and str(data["session_id"]), data
    assert_recent_ms(ws.connected["timestamp"])

    # Request ids come back as `ref`, strings and numbers alike.
    assert ws.ping("p-1")["data"] == {"ref": "p-1"}
    assert ws.ping(42)["data"] == {"ref": 42}
    ws.send("PING", with_id=False)
    assert ws.expect("PONG")["data"] == {"ref": None}

    # A user without rooms connects too; a second device of the same user gets its own CONNECTED.
    loner = chat.user("loner")
    assert rt.connect(loner).connected["data"]["rooms"] == []
    again = rt.connect(alice, "alice-2", token=chat.login_account(alice).access)
    assert sorted(again.connected["data"]["rooms"]) == sorted([first, second])


def test_refusals_before_the_upgrade(rt):
    chat, port = rt.chat, rt.port
    alice = chat.user("alice")
    bearer = {"Authorization": f"Bearer {alice.access}"}

    # An expired token (signed with the server's own key, expired well beyond the leeway).
    jwks = chat.jwks()["keys"][0]
    _, key = server_private_key(rt.server.data_dir, jwks)
    now = int(time.time())
    expired = sign_rs256(key, {"alg": "RS256", "typ": "JWT", "kid": jwks["kid"]},
                         claims_for(alice, iat=now - 3600, nbf=now - 3600, exp=now - 600))

    def refused(status, code, query="", headers=None, version="13"):
        error = assert_refused(port, status, code, query=query, headers=headers, version=version)
        if error is not None:
            assert alice.access not in error["message"]

    check_cases([
        ("no credentials", 401, "unauthorized"),
        ("not a JWT", 401, "invalid_token", "", {"Authorization": "Bearer not.a.jwt"}),
        ("bad signature", 401, "invalid_token", "", {"Authorization": f"Bearer {alice.access}x"}),
        ("expired token", 401, "invalid_token", "", {"Authorization": f"Bearer {expired}"}),
        # The long-lived token is never accepted in the URL, even when valid (and even with a good header too).
        ("?token=", 401, "token_in_url", f"token={alice.access}"),
        ("?access_token=", 401, "token_in_url", f"access_token={alice.access}"),
        ("?access_token= and a header", 401, "token_in_url", f"access_token={alice.access}", bearer),
        ("unknown ticket", 401, "invalid_ticket", "ticket=nope"),
        ("a token as the ticket", 401, "invalid_ticket", f"ticket={alice.access}"),
        # Another WebSocket version: 426, even with good credentials.
        ("version 8", 426, None, "", bearer, "8"),
    ], refused)

    # As for REST, an expired token is invalid_token whose message says it expired (so the client refreshes).
    error = assert_json_error(refusal(port, headers={"Authorization": f"Bearer {expired}"}), 401, "invalid_token")
    assert "expired" in error["message"].lower(), error

    # Not a WebSocket request at all: 426 as JSON.
    assert_json_error(http_request(port, "GET", "/ws", bearer), 426)

    # None of this left the server unable to serve a good connection.
    assert rt.connect(alice).ping()


def test_ticket_is_single_use(rt):
    chat = rt.chat
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.group(alice, [bob])["id"]

    assert chat.post("ws/ticket").status == 401, "a ticket needs bearer auth"
    issued = rt.ticket(alice)
    assert issued["expires_in"] == 30, issued

    ws = rt.connect_ticket(alice, issued["ticket"])
    assert ws.connected["data"]["user_id"] == alice.id and ws.connected["data"]["rooms"] == [room]
    assert ws.ping()

    assert_refused(rt.port, 401, "invalid_ticket", query=f"ticket={issued['ticket']}")
    # ... and the first connection is unaffected by the second attempt.
    assert ws.ping()

    # Every ticket is new and belongs to its user.
    one, two = rt.ticket(bob)["ticket"], rt.ticket(bob)["ticket"]
    assert len({one, two, issued["ticket"]}) == 3
    assert rt.connect_ticket(bob, two).connected["data"]["user_id"] == bob.id
    assert rt.connect_ticket(bob, one).connected["data"]["user_id"] == bob.id

    # The ticket in the query does not make the header optional for anything else: REST still needs the token.
    assert chat.get(f"rooms?ticket={rt.ticket(alice)['ticket']}").status == 401


def test_ticket_expires(start_rt):
    rt = start_rt(env={"CHAT_REALTIME_TICKET_TTL": "1s"})
    alice = rt.chat.user("alice")
    issued = rt.ticket(alice)
    assert issued["expires_in"] == 1, issued
    spent = rt.ticket(alice)
    rt.connect_ticket(alice, spent["ticket"]).ping()
    deadline = time.monotonic() + 1.5
    wait_until(lambda: time.monotonic() > deadline, message="the ticket's lifetime to pass")
    assert_refused(rt.port, 401, "invalid_ticket", query=f"ticket={issued['ticket']}")
    fresh = rt.ticket(alice)
    assert rt.connect_ticket(alice, fresh["ticket"]).ping()


def test_origin_must_be_the_servers_own_or_listed(start_rt):
    rt = start_rt(env={"CHAT_CORS_ALLOWED_ORIGINS": "https://chat.example.com"})
    alice = rt.chat.user("alice")
    bearer = {"Authorization": f"Bearer {alice.access}"}
    check_cases([
        ("foreign", {**bearer, "Origin": "https://evil.example.com"}, ""),
        ("null", {**bearer, "Origin": "null"}, ""),
        ("listed host, other scheme", {"Origin": "http://chat.example.com"}, f"ticket={rt.ticket(alice)['ticket']}"),
        ("own host, other port", {**bearer, "Origin": f"http://127.0.0.1:{rt.port + 1}"}, ""),
    ], lambda headers, query: assert_refused(rt.port, 403, "origin_not_allowed", query=query, headers=headers))

    assert rt.connect(alice, "listed", headers={"Origin": "https://chat.example.com"}).ping()
    assert rt.connect(alice, "own", headers={"Origin": f"http://127.0.0.1:{rt.port}"}).ping()
    assert rt.connect(alice, "native").ping(), "no Origin (a native client) is fine"
    assert rt.connect_ticket(alice, rt.ticket(alice)["ticket"], headers={"Origin": "https://chat.example.com"}).ping()


def test_origin_without_a_list(start_rt):
    # RFC 6455 §10.2: without cors.allowed_origins, a browser may connect from the server's own origin only.
    rt = start_rt()
    alice = rt.chat.user("alice")
    bearer = {"Authorization": f"Bearer {alice.access}"}
    assert_refused(rt.port, 403, "origin_not_allowed", headers={**bearer, "Origin": "https://anywhere.example.com"})
    assert rt.connect(alice, "own", headers={"Origin": f"http://127.0.0.1:{rt.port}"}).ping()
    assert rt.connect(alice, "native").ping()

    star = start_rt(env={"CHAT_CORS_ALLOWED_ORIGINS": "*"})
    bob = star.chat.user("bob")
    assert star.connect(bob, headers={"Origin": "https://anywhere.example.com"}).ping(), "`*` allows any origin"


def test_token_expiry_and_reauth(start_rt):
    # Leeway 0 so that "expires" means the token's exp; 3 s tokens, 1 s grace.
    rt = start_rt(env={"CHAT_AUTH_ACCESS_TTL": "3s", "CHAT_AUTH_LEEWAY": "0", "CHAT_REALTIME_AUTH_GRACE": "1s"})
    chat = rt.chat
    alice, mallory = chat.user("alice"), chat.user("mallory")
    room = chat.group(alice)["id"]

    lapsing = rt.connect(alice, "lapsing", token=chat.login_account(alice).access)
    early = rt.connect(alice, "early", token=chat.login_account(alice).access)
    session = chat.login_account(alice)
    renewing = rt.connect(alice, "renewing", token=session.access)
    expiry = renewing.connected["data"]["expires_at"]
    assert expiry == token_expiry_ms(session.access)

    # AUTH with a bad token, or another user's, is refused and changes nothing.
    renewing.call_error("AUTH", {"token": "garbage"}, "invalid_token")
    refused = renewing.reply(renewing.send("AUTH", {"token": chat.login_account(mallory).access}), "AUTH_SUCCESS")
    assert refused["type"] == "ERROR" and refused["data"]["code"] in ("invalid_token", "forbidden"), refused
    assert renewing.ping()

    def token_expiring_after(ms: int) -> str:
        """A fresh token of alice's whose exp is at least `ms` (tokens have whole-second lifetimes)."""
        found = []

        def attempt():
            token = chat.login_account(alice).access
            found.append(token)
            return token_expiry_ms(token) >= ms

        wait_until(attempt, timeout=WAIT, interval=0.25, message="a token expiring later")
        return found[-1]

    # AUTH before expiry (with a token that outlives the first ones by 2 s): the connection carries on.
    renewed_early = token_expiring_after(expiry + 2000)
    assert early.call("AUTH", {"token": renewed_early}, "AUTH_SUCCESS")["data"]["expires_at"] == \
        token_expiry_ms(renewed_early)

    # Expiry: ERROR token_expired (not a reply to anything), then 4001 after the grace unless AUTH arrives.
    for ws in (lapsing, renewing):
        assert_ws_error(ws.expect("ERROR", code="token_expired", timeout=WAIT), "token_expired", None)
    assert time.time() * 1000 >= expiry - 1000, "token_expired came before the token expired"

    fresh = chat.login_account(alice).access  # a fresh token of the same user, obtained in the grace period
    auth = renewing.call("AUTH", {"token": fresh}, "AUTH_SUCCESS")
    assert auth["data"]["expires_at"] == token_expiry_ms(fresh), auth
    assert set(auth["data"]) == {"ref", "expires_at"}, auth

    assert lapsing.expect_close() == 4001, "no AUTH in the grace period: closed with 4001"
    # By now the first tokens expired and their grace ran out: the early re-authenticated connection noticed nothing
    # before its new token's own expiry (on a loaded machine the test may get here after that, 2 s later).
    renewed_expiry = token_expiry_ms(renewed_early)
    early_errors = [frame for frame in early.frames if frame["type"] == "ERROR" and frame["timestamp"] < renewed_expiry]
    assert not early_errors, f"an ERROR on a connection that re-authenticated before expiry: {early_errors[:3]}"
    if time.time() * 1000 < renewed_expiry:
        assert early.ping()

    # The renewed connection outlives the first token's grace and keeps working.
    past_grace = expiry / 1000 + 1.5
    wait_until(lambda: time.time() > past_grace, message="the first token's grace to pass")
    assert renewing.ping()
    assert renewing.send_message(room, "still here")["seq"] > 0
    # ...until the fresh token expires in turn.
    assert_ws_error(renewing.expect("ERROR", code="token_expired", timeout=WAIT), "token_expired", None)
    assert renewing.expect_close() == 4001
    assert refusal(rt.port, headers={"Authorization": f"Bearer {fresh}"}).status == 401


def test_ended_sessions_lose_their_connections(rt):
    # A session that ends (logout, revoked from another device, logout-all, a password change) takes its open
    # connections with it at once: ERROR session_revoked, then close 4001. Other sessions keep theirs.
    chat = rt.chat
    alice, bob = chat.user("alice"), chat.user("bob")
    phone, laptop, tablet = (chat.login_account(alice) for _ in range(3))
    on_phone = rt.connect(alice, "phone", token=phone.access)
    on_laptop = rt.connect(alice, "laptop", token=laptop.access)
    on_tablet = rt.connect(alice, "tablet", token=tablet.access)
    bobs = rt.connect(bob, "bob")

    # Logout on the phone: only the phone's connection goes.
    assert_status(chat.post("auth/logout", token=phone.access), 204, "logout")
    assert_ws_error(on_phone.expect("ERROR", code="session_revoked"), "session_revoked", None)
    assert on_phone.expect_close() == 4001
    assert on_laptop.ping() and on_tablet.ping() and bobs.ping()

    # The laptop revokes the tablet's session.
    tablet_session = on_tablet.connected["data"]["session_id"]
    assert_status(chat.delete(f"auth/sessions/{tablet_session}", token=laptop.access), 204, "revoke a session")
    assert_ws_error(on_tablet.expect("ERROR", code="session_revoked"), "session_revoked", None)
    assert on_tablet.expect_close() == 4001
    assert on_laptop.ping()

    # Logout everywhere: every connection of alice's, the caller's own included; bob's stays.
    again = rt.connect(alice, "again", token=chat.login_account(alice).access)
    assert_status(chat.post("auth/logout-all", token=laptop.access), 204, "logout-all")
    for ws in (on_laptop, again):
        assert_ws_error(ws.expect("ERROR", code="session_revoked"), "session_revoked", None)
        assert ws.expect_close() == 4001
    assert bobs.ping()


def test_sessions_ended_by_the_command_line_lose_their_connections(rt):
    # `chat user disable` and `chat user reset-password` run in another process: the server finds out by polling
    # (every 5 s), then closes the user's connections as for a logout.
    chat = rt.chat
    server = rt.server
    suspect, forgetful, bystander = chat.user("suspect"), chat.user("forgetful"), chat.user("bystander")
    on_suspect = rt.connect(suspect, "suspect")
    on_forgetful = rt.connect(forgetful, "forgetful")
    on_bystander = rt.connect(bystander, "bystander")

    def run(*args: str):
        result = run_chat([*args, "--data-dir", str(server.data_dir)], cwd=server.data_dir.parent,
                          env=server.env, input=None, timeout=60)
        assert result.returncode == 0, f"chat {' '.join(args)} exited {result.returncode}:\n{result.stderr}"

    run("user", "disable", suspect.username)
    run("user", "reset-password", forgetful.username, "--password", "a brand new password 1")
    for ws in (on_suspect, on_forgetful):
        assert_ws_error(ws.expect("ERROR", code="session_revoked", timeout=30), "session_revoked", None)
        assert ws.expect_close() == 4001
    assert on_bystander.ping()
