"""GET/PATCH /users/me, PUT /users/me/password, DELETE /users/me and GET /users/:id."""

from __future__ import annotations

import pytest

from authhelpers import (
    PASSWORD,
    Api,
    assert_me,
    assert_profile,
    assert_unauthorized,
    assert_validation,
    check_cases,
)
from helpers import assert_json_error


# -- GET/PATCH /users/me -----------------------------------------------------------------------------------------


def test_patch_me_updates_and_trims(api):
    account = api.new_account("patchy")
    before = api.me(account.access).json()
    response = api.patch("users/me", {"display_name": "  Patchy McPatch  ", "bio": "line one\nline two",
                                      "avatar_url": "https://img.example.test/a.png?size=64"}, account.access)
    assert response.status == 200, response.describe()
    me = response.json()
    assert_me(me)
    assert me["display_name"] == "Patchy McPatch", me
    assert me["bio"] == "line one\nline two", me
    assert me["avatar_url"] == "https://img.example.test/a.png?size=64", me
    assert me["created_at"] == before["created_at"] and me["updated_at"] >= before["updated_at"], (before, me)
    for key in ("id", "username", "email", "is_admin"):
        assert me[key] == before[key], key
    assert api.me(account.access).json() == me

    # Partial updates leave the other fields alone; an empty URL clears the avatar; {} changes nothing.
    response = api.patch("users/me", {"bio": "only the bio", "avatar_url": ""}, account.access)
    assert response.status == 200, response.describe()
    partial = response.json()
    assert partial["bio"] == "only the bio" and partial["avatar_url"] == "", partial
    assert partial["display_name"] == "Patchy McPatch", partial
    response = api.patch("users/me", {}, account.access)
    assert response.status == 200, response.describe()
    assert {k: v for k, v in response.json().items() if k != "updated_at"} == \
        {k: v for k, v in partial.items() if k != "updated_at"}


def test_patch_me_accepts_boundary_values(api):
    account = api.new_account()

    def check(body):
        response = api.patch("users/me", body, account.access)
        assert response.status == 200, response.describe()
        for key, value in body.items():
            assert response.json()[key] == value

    check_cases([
        ("bio-500-characters", {"bio": "é" * 500}),
        ("avatar-2048-bytes", {"avatar_url": "http://example.test/" + "a" * (2048 - 20)}),
        ("display-name-64", {"display_name": "x" * 64}),
    ], check)


def test_patch_me_ignores_unknown_and_privileged_fields(api):
    account = api.new_account("plain")
    before = api.me(account.access).json()
    response = api.patch("users/me", {"is_admin": True, "username": "root", "email": "root@example.test",
                                      "id": 1, "created_at": 0, "password": "hijacked pw", "x": [1]},
                         account.access)
    assert response.status == 200, response.describe()
    after = api.me(account.access).json()
    for key in ("id", "username", "email", "is_admin", "created_at", "display_name", "bio", "avatar_url"):
        assert after[key] == before[key], (key, before, after)
    assert api.login("plain", PASSWORD).status == 200


PATCH_INVALID = {
    "display_name": [
        ("empty", {"display_name": ""}),
        ("blank", {"display_name": "   "}),
        ("65-chars", {"display_name": "x" * 65}),
        ("nul", {"display_name": "nul\x00"}),
        ("tab", {"display_name": "tab\there"}),
    ],
    "bio": [
        ("501-chars", {"bio": "x" * 501}),
        ("escape-character", {"bio": "escape \x1b[31m red"}),
        ("bell", {"bio": "bell\x07"}),
    ],
    "avatar_url": [
        ("ftp", {"avatar_url": "ftp://example.test/a.png"}),
        ("javascript", {"avatar_url": "javascript:alert(1)"}),
        ("data", {"avatar_url": "data:image/png;base64,AAAA"}),
        ("not-a-url", {"avatar_url": "not a url"}),
        ("scheme-relative", {"avatar_url": "//example.test/a.png"}),
        ("2049-bytes", {"avatar_url": "http://example.test/" + "a" * 2029}),
        ("control-character", {"avatar_url": "https://example.test/\x01"}),
    ],
}


@pytest.mark.parametrize("field", list(PATCH_INVALID))
def test_patch_me_validation(api, field):
    account = api.new_account()
    before = api.me(account.access).json()

    def check(body):
        assert_validation(api.patch("users/me", body, account.access), field)
        assert api.me(account.access).json() == before

    check_cases(PATCH_INVALID[field], check)


def test_patch_me_reports_every_bad_field(api):
    account = api.new_account()
    response = api.patch("users/me", {"display_name": "", "bio": "b" * 501, "avatar_url": "ftp://x.test"},
                         account.access)
    assert_validation(response, "display_name", "bio", "avatar_url")


def test_patch_me_wrong_types_are_422_invalid_body(api):
    account = api.new_account()
    cases = [("display-name-number", {"display_name": 5}), ("bio-array", {"bio": ["x"]}),
             ("avatar-object", {"avatar_url": {"u": 1}}), ("bio-bool", {"bio": True}), ("top-level-array", []),
             ("top-level-string", "text")]
    check_cases(cases, lambda body: assert_json_error(api.patch("users/me", body, account.access), 422,
                                                      "invalid_body"))


def test_patch_me_invalid_json_is_400(api):
    account = api.new_account()
    assert_json_error(api.patch("users/me", raw=b'{"bio": "unterminated', token=account.access), 400, "invalid_json")


def test_patch_me_over_max_body_is_413(start_auth_server):
    api = Api(start_auth_server(env={"CHAT_HTTP_MAX_BODY": "1k"}))
    account = api.new_account()
    assert_json_error(api.patch("users/me", {"bio": "b" * 2000}, account.access), 413)
    assert api.me(account.access).json()["bio"] == ""


# -- password ----------------------------------------------------------------------------------------------------


def test_change_password_keeps_this_session_and_revokes_the_others(api):
    account = api.new_account("changer")
    other = api.login_account(account)
    bystander = api.new_account()
    response = api.put("users/me/password", {"current_password": PASSWORD, "new_password": "a brand new pw"},
                       account.access)
    assert response.status == 204, response.describe()

    assert api.me(account.access).status == 200
    assert_unauthorized(api.me(other.access), "invalid_token")
    assert_json_error(api.refresh(other.refresh), 401)
    assert [session["id"] for session in api.sessions(account.access)] == [account.session_id]
    assert api.refresh(account.refresh).status == 200
    assert api.me(bystander.access).status == 200

    assert_json_error(api.login("changer", PASSWORD), 401, "invalid_credentials")
    assert api.login("changer", "a brand new pw").status == 200


def test_change_password_with_wrong_current_password(api):
    account = api.new_account()
    response = api.put("users/me/password", {"current_password": "not my password", "new_password": "whatever123"},
                       account.access)
    assert_json_error(response, 401, "invalid_credentials")
    # A wrong password is not a token problem: the session goes on, the password is unchanged.
    assert api.me(account.access).status == 200
    assert api.login(account.username, PASSWORD).status == 200
    assert api.login(account.username, "whatever123").status == 401


def test_change_password_validation(api):
    account = api.new_account("pwchanger")

    def check(new_password):
        body = {"current_password": PASSWORD, "new_password": new_password}
        assert_validation(api.put("users/me/password", body, account.access), "new_password")
        assert api.login(account.username, PASSWORD).status == 200

    check_cases([("too-short", "short"), ("too-long", "x" * 129), ("nul", "nul\x00password"),
                 ("equals-username", "PWCHANGER")], check)


def test_change_password_wrong_types(api):
    account = api.new_account()
    cases = [("current-number", {"current_password": 1, "new_password": "a new password"}),
             ("new-array", {"current_password": PASSWORD, "new_password": []}),
             ("top-level-array", [])]
    check_cases(cases, lambda body: assert_json_error(api.put("users/me/password", body, account.access), 422,
                                                      "invalid_body"))
    assert api.login(account.username, PASSWORD).status == 200


# -- delete ------------------------------------------------------------------------------------------------------


def test_delete_account_anonymises_and_frees_the_email(api):
    account = api.new_account("leaver", "Leaver@Example.test", display_name="Leaving Soon")
    assert api.patch("users/me", {"bio": "secret bio", "avatar_url": "https://img.test/me.png"},
                     account.access).status == 200
    other_session = api.login_account(account)
    observer = api.new_account("observer")
    created_at = api.get(f"users/{account.id}", observer.access).json()["created_at"]

    assert_json_error(api.delete("users/me", {"password": "wrong password"}, account.access), 401,
                      "invalid_credentials")
    assert api.me(account.access).status == 200

    response = api.delete("users/me", {"password": PASSWORD}, account.access)
    assert response.status == 204, response.describe()

    for session in (account, other_session):
        assert_unauthorized(api.me(session.access), "invalid_token")
        assert_json_error(api.refresh(session.refresh), 401)

    profile = api.get(f"users/{account.id}", observer.access)
    assert profile.status == 200, profile.describe()
    assert profile.json() == {"id": account.id, "username": f"deleted-{account.id}", "display_name": "Deleted user",
                              "bio": "", "avatar_url": "", "created_at": created_at, "deleted": True}

    unknown = assert_json_error(api.login("nobody-at-all", PASSWORD), 401, "invalid_credentials")
    assert assert_json_error(api.login("leaver", PASSWORD), 401, "invalid_credentials") == unknown
    assert assert_json_error(api.login("Leaver@example.test", PASSWORD), 401, "invalid_credentials") == unknown

    search = api.get("users?q=", observer.access).json()["users"]
    assert account.id not in [user["id"] for user in search], search

    again = api.register("returner", "leaver@example.test")
    assert again.status == 201, again.describe()
    assert again.json()["user"]["id"] != account.id

    # Anonymised in storage, not just in the API.
    connection = api.server.db()
    try:
        row = connection.execute("SELECT * FROM users WHERE id = ?", (account.id,)).fetchone()
    finally:
        connection.close()
    assert row is not None, "the row stays (messages will point at it)"
    stored = " ".join(str(value) for value in tuple(row))
    for secret in ("Leaver@", "leaver@", "Leaving Soon", "secret bio", "img.test"):
        assert secret not in stored, f"{secret!r} still stored: {dict(row)}"


def test_delete_account_needs_a_password(api):
    account = api.new_account()
    response = api.delete("users/me", {}, account.access)
    assert response.status in (401, 422), response.describe()
    assert api.me(account.access).status == 200


# -- GET /users/:id ----------------------------------------------------------------------------------------------


def test_profile_by_id_is_public_and_has_no_email(api):
    subject = api.new_account("subject", display_name="The Subject")
    api.patch("users/me", {"bio": "hello", "avatar_url": "https://img.test/s.png"}, subject.access)
    viewer = api.new_account("viewer")
    response = api.get(f"users/{subject.id}", viewer.access)
    assert response.status == 200, response.describe()
    profile = response.json()
    assert_profile(profile)
    assert profile == {"id": subject.id, "username": "subject", "display_name": "The Subject", "bio": "hello",
                       "avatar_url": "https://img.test/s.png", "created_at": subject.user["created_at"],
                       "deleted": False}
    assert b"subject@example.com" not in response.body


def test_profile_unknown_and_invalid_ids(api):
    viewer = api.new_account()
    assert_json_error(api.get("users/999999", viewer.access), 404, "not_found")
    for bad in ("abc", "1x", "1.5"):
        assert_json_error(api.get(f"users/{bad}", viewer.access), 400)
