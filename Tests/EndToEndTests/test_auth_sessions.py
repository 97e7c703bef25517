"""Refresh rotation and reuse detection, logout, logout-all, the session list and revoking one session, bearer
failures on every protected route, and tokens that expire."""

from __future__ import annotations

import time

from authhelpers import (
    PASSWORD,
    SESSION_KEYS,
    Api,
    assert_me,
    assert_recent_ms,
    assert_tokens,
    assert_unauthorized,
    check_cases,
)
from helpers import assert_json_error, wait_until


def refresh_rejected(api: Api, token: str, *codes: str) -> dict:
    response = api.refresh(token)
    error = assert_json_error(response, 401)
    assert error["code"] in (codes or ("invalid_refresh_token",)), response.describe()
    return error


# -- refresh -----------------------------------------------------------------------------------------------------


def test_refresh_rotates_the_pair(api):
    account = api.new_account()
    response = api.refresh(account.refresh)
    assert response.status == 200, response.describe()
    document = response.json()
    assert set(document) == {"user", "tokens"}, document
    assert_me(document["user"])
    assert document["user"]["id"] == account.id
    tokens = document["tokens"]
    assert_tokens(tokens)
    assert tokens["refresh_token"] != account.refresh
    assert tokens["access_token"] != account.access
    assert tokens["session_id"] == account.session_id, "a refresh continues the same session"
    me = api.me(tokens["access_token"])
    assert me.status == 200 and me.json()["id"] == account.id, me.describe()
    # And the new refresh token is good for the next rotation.
    again = api.refresh(tokens["refresh_token"])
    assert again.status == 200, again.describe()


def test_reusing_a_spent_refresh_token_revokes_the_family(api):
    account = api.new_account()
    other_session = api.login_account(account)

    rotated = api.refresh(account.refresh)
    assert rotated.status == 200, rotated.describe()
    new_pair = rotated.json()["tokens"]
    assert api.me(new_pair["access_token"]).status == 200

    # The spent token comes back (stolen copy): reuse detected...
    assert_json_error(api.refresh(account.refresh), 401, "refresh_token_reused")
    # ...and the whole family is dead: the rotated refresh token and its access token.
    refresh_rejected(api, new_pair["refresh_token"], "invalid_refresh_token", "refresh_token_reused")
    assert_unauthorized(api.me(new_pair["access_token"]), "invalid_token")
    # Sessions are families: the user's other session is untouched.
    assert api.me(other_session.access).status == 200
    assert api.refresh(other_session.refresh).status == 200


def test_unknown_refresh_token_is_401(api):
    api.new_account()
    check_cases([("unknown-43-chars", "A" * 43), ("garbage", "not-a-token"), ("very-long", "x" * 2000)],
                lambda token: refresh_rejected(api, token))


def test_access_token_is_not_a_refresh_token(api):
    account = api.new_account()
    refresh_rejected(api, account.access)


def test_refresh_bad_bodies_are_422(api):
    def check(body, code):
        error = assert_json_error(api.post("auth/refresh", body), 422, code)
        assert error["code"] in ("validation_failed", "invalid_body"), error

    check_cases([("missing", {}, None), ("number", {"refresh_token": 5}, "invalid_body"),
                 ("array", {"refresh_token": ["x"]}, "invalid_body"), ("top-level-array", [], "invalid_body")], check)


def test_refresh_invalid_json_is_400(api):
    assert_json_error(api.post("auth/refresh", raw=b"{refresh_token}"), 400, "invalid_json")


# -- logout ------------------------------------------------------------------------------------------------------


def test_logout_revokes_this_session_only(api):
    account = api.new_account()
    other = api.login_account(account)
    response = api.post("auth/logout", token=account.access)
    assert response.status == 204, response.describe()
    assert response.body == b""
    assert_unauthorized(api.me(account.access), "invalid_token")
    refresh_rejected(api, account.refresh, "invalid_refresh_token", "refresh_token_reused")
    assert_unauthorized(api.post("auth/logout", token=account.access), "invalid_token")
    assert api.me(other.access).status == 200
    assert [session["id"] for session in api.sessions(other.access)] == [other.session_id]


def test_logout_all_revokes_every_session(api):
    account = api.new_account()
    second = api.login_account(account)
    third = api.login_account(account)
    bystander = api.new_account()
    response = api.post("auth/logout-all", token=second.access)
    assert response.status == 204, response.describe()
    for session in (account, second, third):
        assert_unauthorized(api.me(session.access), "invalid_token")
        refresh_rejected(api, session.refresh, "invalid_refresh_token", "refresh_token_reused")
    assert api.me(bystander.access).status == 200
    fresh = api.login_account(account)
    assert api.me(fresh.access).status == 200
    assert [session["id"] for session in api.sessions(fresh.access)] == [fresh.session_id]


# -- the session list --------------------------------------------------------------------------------------------


def test_sessions_list_device_ip_current_newest_first(api):
    first = api.new_account(headers={"User-Agent": "RegisterAgent/1.0"})
    time.sleep(0.01)  # distinct creation milliseconds, so "newest first" has one right answer
    phone = api.login_account(first, headers={"User-Agent": "PhoneApp/2.0 (Android)"})
    time.sleep(0.01)
    laptop = api.login_account(first, headers={"User-Agent": "Laptop Browser/3.0"})
    api.new_account()  # someone else's session must not show up

    sessions = api.sessions(laptop.access)
    assert [session["id"] for session in sessions] == [laptop.session_id, phone.session_id, first.session_id], \
        sessions
    for session in sessions:
        assert set(session) == SESSION_KEYS, session
        assert session["ip"] == "127.0.0.1", session
        assert_recent_ms(session["created_at"])
        assert_recent_ms(session["last_used_at"])
        assert session["last_used_at"] >= session["created_at"], session
    assert [session["current"] for session in sessions] == [True, False, False], sessions
    assert "Laptop Browser/3.0" in sessions[0]["device"], sessions[0]
    assert "PhoneApp/2.0" in sessions[1]["device"], sessions[1]
    assert "RegisterAgent/1.0" in sessions[2]["device"], sessions[2]
    assert sessions[0]["created_at"] >= sessions[1]["created_at"] >= sessions[2]["created_at"], sessions

    # Seen from another session, `current` moves.
    from_phone = api.sessions(phone.access)
    assert [session["current"] for session in from_phone] == [False, True, False], from_phone


def test_revoking_a_session_kills_its_tokens_at_once(api):
    account = api.new_account()
    other = api.login_account(account)
    assert api.me(other.access).status == 200
    response = api.delete(f"auth/sessions/{other.session_id}", token=account.access)
    assert response.status == 204, response.describe()
    assert_unauthorized(api.me(other.access), "invalid_token")
    refresh_rejected(api, other.refresh, "invalid_refresh_token", "refresh_token_reused")
    assert [session["id"] for session in api.sessions(account.access)] == [account.session_id]
    assert api.me(account.access).status == 200
    # Already gone: 404.
    assert_json_error(api.delete(f"auth/sessions/{other.session_id}", token=account.access), 404, "not_found")


def test_another_users_session_is_404(api):
    mallory = api.new_account()
    victim = api.new_account()
    response = api.delete(f"auth/sessions/{victim.session_id}", token=mallory.access)
    assert_json_error(response, 404, "not_found")
    assert api.me(victim.access).status == 200
    assert api.refresh(victim.refresh).status == 200
    assert_json_error(api.delete("auth/sessions/no-such-session", token=mallory.access), 404, "not_found")


# -- bearer failures on every protected route --------------------------------------------------------------------

PROTECTED = [
    ("POST", "auth/logout", None),
    ("POST", "auth/logout-all", None),
    ("GET", "auth/sessions", None),
    ("DELETE", "auth/sessions/{sid}", None),
    ("GET", "users/me", None),
    ("PATCH", "users/me", {"bio": "changed"}),
    ("PUT", "users/me/password", {"current_password": PASSWORD, "new_password": "another password"}),
    ("DELETE", "users/me", {"password": PASSWORD}),
    ("GET", "users/{id}", None),
    ("GET", "users?q=a", None),
]


def test_protected_routes_need_a_valid_bearer_token(api):
    account = api.new_account()

    def check(method, path, body):
        path = path.format(sid=account.session_id, id=account.id)
        kwargs = {} if body is None else {"body": body}
        assert_unauthorized(api.call(method, path, **kwargs), "unauthorized")
        for header in ("Basic YWxpY2U6c2VjcmV0", "Bearer", "Token " + account.access):
            assert_unauthorized(api.call(method, path, headers={"Authorization": header}, **kwargs), "unauthorized")
        for token in ("garbage", "a.b.c", account.access[:-4] + "AAAA", account.refresh):
            assert_unauthorized(api.call(method, path, token=token, **kwargs), "invalid_token")

    check_cases([(f"{method} {path}", method, path, body) for method, path, body in PROTECTED], check)
    # None of that touched the account or its session.
    assert api.me(account.access).json()["bio"] == ""
    assert api.login(account.username, PASSWORD).status == 200
    assert [session["id"] for session in api.sessions(account.access)][-1] == account.session_id


# -- expiry ------------------------------------------------------------------------------------------------------


def test_access_token_expires(start_auth_server):
    # Claims have one-second resolution, so a 2 s lifetime is good for at least one second after issue.
    api = Api(start_auth_server(env={"CHAT_AUTH_ACCESS_TTL": "2s", "CHAT_AUTH_LEEWAY": "0s"}))
    account = api.new_account()
    assert account.tokens["expires_in"] == 2, account.tokens
    assert api.me(account.access).status == 200
    wait_until(lambda: api.me(account.access).status == 401, timeout=10, message="the 2 s access token to expire")
    assert_unauthorized(api.me(account.access), "invalid_token")
    # The refresh token outlives it and yields a working pair.
    response = api.refresh(account.refresh)
    assert response.status == 200, response.describe()
    tokens = response.json()["tokens"]
    assert tokens["expires_in"] == 2
    assert api.me(tokens["access_token"]).status == 200


def test_refresh_token_expires(start_auth_server):
    api = Api(start_auth_server(env={"CHAT_AUTH_REFRESH_TTL": "1s"}))
    account = api.new_account()
    assert account.tokens["refresh_expires_in"] == 1, account.tokens
    fresh = api.login_account(account)
    assert api.refresh(fresh.refresh).status == 200  # good right after issue...
    time.sleep(2.2)
    refresh_rejected(api, account.refresh)  # ...and not a second after it expired
