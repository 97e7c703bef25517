"""The account and key commands: `chat user ...`, `chat keys ...` and `chat seed`, run against the data directory
of a real server (while it runs, unless the command needs it stopped) and checked through the HTTP API."""

from __future__ import annotations

import subprocess
from urllib.parse import quote

import jwt

from authhelpers import (
    AUTH_ENV,
    PASSWORD,
    Api,
    assert_unauthorized,
    file_mode,
    jwt_parts,
    private_keys,
)
from helpers import assert_json_error, run_chat, wait_until


def chat(data_dir, *args: str, input: str | None = None, ok: bool = True) -> subprocess.CompletedProcess:
    result = run_chat([*args, "--data-dir", str(data_dir)], cwd=data_dir.parent, env=AUTH_ENV, input=input,
                      timeout=60)
    if ok:
        assert result.returncode == 0, f"chat {' '.join(args)} exited {result.returncode}:\n{result.stderr}"
    return result


def refused(data_dir, *args: str, mentions: str) -> None:
    """The command fails, and its error message names what was wrong (`mentions`, case-insensitively)."""
    result = chat(data_dir, *args, ok=False)
    assert result.returncode != 0, f"chat {' '.join(args)} succeeded:\n{result.stdout}"
    assert mentions.lower() in result.stderr.lower(), f"chat {' '.join(args)}: {result.stderr}"


def login_status(api: Api, login: str, password: str) -> int:
    return api.login(login, password).status


# -- user ------------------------------------------------------------------------------------------------------


def test_user_create_with_password_flag_and_stdin(api):
    data = api.server.data_dir
    chat(data, "user", "create", "--username", "Carol", "--email", "carol@example.com", "--password", "carol pass 1")
    chat(data, "user", "create", "--username", "dave", "--email", "dave@example.com", input="dave pass from stdin\n")
    chat(data, "user", "create", "--username", "root", "--email", "root@example.com", "--password", "root pass 1",
         "--admin")

    carol = api.login("carol", "carol pass 1")
    assert carol.status == 200, carol.describe()
    assert carol.json()["user"]["username"] == "carol" and carol.json()["user"]["is_admin"] is False
    dave = api.login("dave@example.com", "dave pass from stdin")
    assert dave.status == 200, dave.describe()
    root = api.login("root", "root pass 1")
    assert root.status == 200 and root.json()["user"]["is_admin"] is True, root.describe()

    listed = chat(data, "user", "list").stdout
    for name in ("carol", "dave", "root"):
        assert name in listed, listed
    limited = chat(data, "user", "list", "--limit", "1").stdout
    assert sum(name in limited for name in ("carol", "dave", "root")) == 1, limited


def test_user_create_applies_the_api_rules(api):
    data = api.server.data_dir
    api.new_account("carol", "carol@example.com")
    refused(data, "user", "create", "--username", "x", "--email", "x@example.com", "--password", "pw pw pw 1",
            mentions="username")
    refused(data, "user", "create", "--username", "dave", "--email", "not-an-email", "--password", "pw pw pw 1",
            mentions="email")
    refused(data, "user", "create", "--username", "Carol", "--email", "other@example.com", "--password",
            "pw pw pw 1", mentions="carol")
    refused(data, "user", "create", "--username", "carla", "--email", "CAROL@example.com", "--password",
            "pw pw pw 1", mentions="carol@example.com")
    # None of the refused commands created anything.
    assert api.login("dave@example.com", "pw pw pw 1").status == 401
    assert api.login("carla", "pw pw pw 1").status == 401


def test_user_commands_name_an_unknown_user(api):
    data = api.server.data_dir
    for command in ("disable", "enable", "promote"):
        refused(data, "user", command, "nosuchuser", mentions="nosuchuser")
    refused(data, "user", "reset-password", "nosuchuser", "--password", "whatever pw 1", mentions="nosuchuser")


def test_promote(api):
    account = api.new_account("promoted")
    assert api.me(account.access).json()["is_admin"] is False
    chat(api.server.data_dir, "user", "promote", "promoted")
    wait_until(lambda: api.me(account.access).json().get("is_admin") is True, message="is_admin to become true")


def test_disable_while_running_then_enable(api):
    account = api.new_account("suspect")
    observer = api.new_account("observer")
    assert api.me(account.access).status == 200

    chat(api.server.data_dir, "user", "disable", "suspect")
    wait_until(lambda: api.me(account.access).status == 401, message="the disabled user's token to stop working")
    assert_unauthorized(api.me(account.access), "invalid_token")
    assert_json_error(api.login("suspect", PASSWORD), 403, "account_disabled")
    assert api.refresh(account.refresh).status in (401, 403)
    assert_json_error(api.get(f"users/{account.id}", observer.access), 404, "not_found")
    users = api.get("users?q=s", observer.access).json()["users"]
    assert "suspect" not in [user["username"] for user in users], users

    chat(api.server.data_dir, "user", "enable", "suspect")
    wait_until(lambda: login_status(api, "suspect", PASSWORD) == 200, message="login to work again after enable")
    fresh = api.login_account(account)
    wait_until(lambda: api.me(fresh.access).status == 200, message="a new token to work after enable")
    assert api.get(f"users/{account.id}", observer.access).status == 200


def test_reset_password_revokes_sessions(api):
    account = api.new_account("forgetful")
    chat(api.server.data_dir, "user", "reset-password", "forgetful", "--password", "reset by admin 1")
    assert_json_error(api.login("forgetful", PASSWORD), 401, "invalid_credentials")
    assert login_status(api, "forgetful", "reset by admin 1") == 200
    wait_until(lambda: api.me(account.access).status == 401, message="the old session to be revoked")
    assert_json_error(api.refresh(account.refresh), 401)

    chat(api.server.data_dir, "user", "reset-password", "forgetful", input="reset via stdin 2\n")
    assert login_status(api, "forgetful", "reset by admin 1") == 401
    assert login_status(api, "forgetful", "reset via stdin 2") == 200


# -- keys ------------------------------------------------------------------------------------------------------


def test_keys_list_shows_the_served_kid(api):
    kid = api.jwks()["keys"][0]["kid"]
    assert kid in chat(api.server.data_dir, "keys", "list").stdout


def test_keys_rotate_keeps_old_tokens_valid(api):
    server = api.server
    before = api.new_account()
    old_kid = api.jwks()["keys"][0]["kid"]
    assert jwt_parts(before.access)[0]["kid"] == old_kid
    assert server.stop() == 0

    chat(server.data_dir, "keys", "rotate")
    server.start()

    keys = api.jwks()["keys"]
    kids = [key["kid"] for key in keys]
    assert len(keys) == 2 and old_kid in kids and len(set(kids)) == 2, keys
    new_kid = next(kid for kid in kids if kid != old_kid)
    assert api.me(before.access).status == 200, "a token issued before the rotation must still verify"

    after = api.login_account(before)
    assert jwt_parts(after.access)[0]["kid"] == new_kid
    new_jwk = next(key for key in keys if key["kid"] == new_kid)
    jwt.decode(after.access, jwt.PyJWK(new_jwk).key, algorithms=["RS256"], audience="chat", issuer="chat")

    stored = private_keys(server.data_dir)
    assert len(stored) == 2, stored
    assert all(file_mode(path) == 0o600 for path, _ in stored)
    listed = chat(server.data_dir, "keys", "list").stdout
    assert old_kid in listed and new_kid in listed, listed


def test_keys_rotate_takes_effect_without_a_restart(api):
    before = api.new_account()
    old_kid = api.jwks()["keys"][0]["kid"]
    chat(api.server.data_dir, "keys", "rotate")
    # The running server notices the new keys.json within seconds (it checks every 5 s).
    wait_until(lambda: len(api.jwks()["keys"]) == 2, timeout=30, message="the rotated key in the JWKS")
    new_kid = next(key["kid"] for key in api.jwks()["keys"] if key["kid"] != old_kid)
    after = api.login_account(before)
    assert jwt_parts(after.access)[0]["kid"] == new_kid
    assert api.me(before.access).status == 200, "a token issued before the rotation must still verify"
    assert api.me(after.access).status == 200


def test_keys_generate_before_first_start(start_auth_server, tmp_path):
    data = tmp_path / "fresh-data"
    chat(data, "keys", "generate")
    stored = private_keys(data)
    assert len(stored) == 1 and file_mode(stored[0][0]) == 0o600, stored
    listed = chat(data, "keys", "list").stdout

    api = Api(start_auth_server(data_dir=data))
    keys = api.jwks()["keys"]
    assert len(keys) == 1 and keys[0]["kid"] in listed, (keys, listed)
    account = api.new_account()
    assert jwt_parts(account.access)[0]["kid"] == keys[0]["kid"]


# -- seed ------------------------------------------------------------------------------------------------------


def test_seed_then_page_through_everyone(api):
    server = api.server
    assert server.stop() == 0
    chat(server.data_dir, "seed", "--users", "200", "--cost", "4")
    server.start()

    walker = api.new_account("zzzz-walker")
    seen: list[str] = []
    ids: set[int] = set()
    cursor = None
    for _ in range(20):
        path = "users?q=&limit=37" + (f"&cursor={quote(cursor)}" if cursor else "")
        response = api.get(path, walker.access)
        assert response.status == 200, response.describe()
        document = response.json()
        seen += [user["username"] for user in document["users"]]
        ids |= {user["id"] for user in document["users"]}
        cursor = document["next_cursor"]
        if cursor is None:
            break
    assert cursor is None, "the walk did not end"
    assert len(seen) == 201 and len(set(seen)) == 201 and len(ids) == 201, len(seen)
    assert seen == sorted(seen)
    assert seen[-1] == "zzzz-walker"
