"""POST /api/v1/auth/register and /auth/login: success, normalisation, every validation rule, duplicates, bad bodies."""

from __future__ import annotations

import json

import pytest

from authhelpers import (
    PASSWORD,
    assert_me,
    assert_tokens,
    assert_validation,
    check_cases,
    unique_name,
)
from helpers import assert_json_error


def valid_body(**overrides) -> dict:
    name = unique_name("valid")
    body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    body.update(overrides)
    return body


# -- register ----------------------------------------------------------------------------------------------------


def test_register_returns_me_and_working_tokens(api):
    response = api.register("alice", "alice@example.com", display_name="Alice Liddell")
    assert response.status == 201, response.describe()
    document = response.json()
    assert set(document) == {"user", "tokens"}, document
    user, tokens = document["user"], document["tokens"]
    assert_me(user)
    assert user["username"] == "alice" and user["email"] == "alice@example.com", user
    assert user["display_name"] == "Alice Liddell", user
    assert user["bio"] == "" and user["avatar_url"] == "", user
    assert user["is_admin"] is False, user
    assert_tokens(tokens)

    me = api.me(tokens["access_token"])
    assert me.status == 200, me.describe()
    assert me.json() == user


def test_register_normalises_username_email_and_display_name(api):
    response = api.register("Alice_Two", "  Bob.Smith@Example.COM ", display_name="  Spaced Out  ")
    assert response.status == 201, response.describe()
    user = response.json()["user"]
    assert user["username"] == "alice_two", user
    assert user["email"] == "Bob.Smith@example.com", user  # trimmed, domain lower-cased, local part kept
    assert user["display_name"] == "Spaced Out", user


def test_display_name_defaults_to_username(api):
    response = api.register("defaulted")
    assert response.status == 201, response.describe()
    assert response.json()["user"]["display_name"] == "defaulted"


def test_every_registration_gets_its_own_id_and_session(api):
    first = api.new_account()
    second = api.new_account()
    assert first.id != second.id
    assert first.session_id != second.session_id
    assert first.refresh != second.refresh


BOUNDARY_VALUES = [
    ("username-3-chars", {"username": "abc"}),
    ("username-32-chars", {"username": "a" * 32}),
    ("username-all-allowed-punctuation", {"username": "a.b-c_d9"}),
    ("password-8-bytes", {"password": "12345678"}),
    ("password-128-bytes", {"password": "x" * 128}),
    ("password-128-utf8-bytes", {"password": "é" * 64}),
    ("display-name-64-characters", {"display_name": "é" * 64}),
    ("email-254-bytes", {"email": "a" * 64 + "@" + ("b" * 61 + ".") * 3 + "com"}),
]


def test_register_accepts_boundary_values(api):
    def check(overrides):
        body = valid_body(**overrides)
        response = api.post("auth/register", body)
        assert response.status == 201, f"{body}\n{response.describe()}"
        # The account really works with exactly that password.
        login = api.login(body["email"], body["password"])
        assert login.status == 200, login.describe()

    check_cases(BOUNDARY_VALUES, check)


LONG_EMAIL = "a" * 65 + "@" + ("b" * 61 + ".") * 3 + "com"  # 255 bytes

INVALID = {
    "username": [
        ("too-short", {"username": "ab"}),
        ("too-long", {"username": "a" * 33}),
        ("space", {"username": "bad name"}),
        ("punctuation", {"username": "bad!name"}),
        ("non-ascii", {"username": "ünïcode"}),
        ("empty", {"username": ""}),
    ],
    "email": [
        ("no-at", {"email": "no-at-sign.example.com"}),
        ("two-ats", {"email": "a@b@example.com"}),
        ("empty-local-part", {"email": "@example.com"}),
        ("domain-without-dot", {"email": "user@localhost"}),
        ("empty-domain", {"email": "user@"}),
        ("space", {"email": "us er@example.com"}),
        ("control-character", {"email": "user\x01@example.com"}),
        ("255-bytes", {"email": LONG_EMAIL}),
        ("empty", {"email": ""}),
    ],
    "password": [
        ("7-bytes", {"password": "1234567"}),
        ("129-bytes", {"password": "x" * 129}),
        ("130-utf8-bytes-65-chars", {"password": "é" * 65}),
        ("nul", {"password": "pass\x00word123"}),
        ("equals-username", {"username": "samename1", "password": "SameName1"}),
    ],
    "display_name": [
        ("empty", {"display_name": ""}),
        ("blank", {"display_name": "    "}),
        ("65-chars", {"display_name": "a" * 65}),
        ("control-character", {"display_name": "bell\x07"}),
        ("newline", {"display_name": "two\nlines"}),
    ],
}


@pytest.mark.parametrize("field", list(INVALID))
def test_register_validation(api, field):
    def check(overrides):
        body = valid_body(**overrides)
        response = api.post("auth/register", body)
        assert_validation(response, field)
        # Nothing was created: with the bad field fixed, the same username and email still register.
        fixed = dict(body)
        if field == "display_name":
            del fixed["display_name"]
        else:
            fixed[field] = valid_body()[field]
        retry = api.post("auth/register", fixed)
        assert retry.status == 201, f"{fixed}\n{retry.describe()}"

    check_cases(INVALID[field], check)


def test_register_reports_every_bad_field_at_once(api):
    response = api.register("x", "not-an-email", password="short")
    error = assert_validation(response, "username", "email", "password")
    assert all(isinstance(message, str) and message for message in error["fields"].values()), error


def test_register_missing_fields_is_422(api):
    response = api.post("auth/register", {})
    error = assert_json_error(response, 422)
    assert error["code"] in ("validation_failed", "invalid_body"), response.describe()
    if error["code"] == "validation_failed":
        assert {"username", "email", "password"} <= set(error.get("fields") or {}), response.describe()


WRONG_TYPES = [
    ("username-number", {"username": 5, "email": "n@example.com", "password": PASSWORD}),
    ("username-bool", {"username": True, "email": "n@example.com", "password": PASSWORD}),
    ("email-array", {"username": "numtype", "email": ["n@example.com"], "password": PASSWORD}),
    ("password-object", {"username": "numtype", "email": "n@example.com", "password": {"p": 1}}),
    ("display-name-number", {"username": "numtype", "email": "n@example.com", "password": PASSWORD,
                             "display_name": 7}),
    ("top-level-array", []),
    ("top-level-string", "a string"),
    ("top-level-number", 42),
]


def test_register_wrong_json_types_are_422_invalid_body(api):
    check_cases(WRONG_TYPES, lambda body: assert_json_error(api.post("auth/register", body), 422, "invalid_body"))


INVALID_JSON = [
    ("truncated", b'{"username": "x",'),
    ("garbage", b"not json"),
    ("trailing-garbage", b'{"username": "x"} trailing'),
    ("bad-utf8", b'{"username": "\xff\xfe", "email": "a@example.com", "password": "12345678"}'),
]


def test_register_invalid_json_is_400(api):
    check_cases(INVALID_JSON, lambda raw: assert_json_error(api.post("auth/register", raw=raw), 400, "invalid_json"))


def test_register_unknown_fields_are_ignored(api):
    response = api.register("sneaky", is_admin=True, id=12345, created_at=0, role="admin", extra={"nested": [1]})
    assert response.status == 201, response.describe()
    user = response.json()["user"]
    assert user["is_admin"] is False and user["id"] != 12345 and user["created_at"] != 0, user


def test_register_body_over_max_body_is_413(start_auth_server):
    from authhelpers import Api

    api = Api(start_auth_server(env={"CHAT_HTTP_MAX_BODY": "1k"}))
    # Just under the limit (unknown padding is ignored), then over it.
    body = valid_body(padding="p" * 850)
    assert len(json.dumps(body).encode()) < 1024
    small = api.post("auth/register", body)
    assert small.status == 201, small.describe()
    assert_json_error(api.post("auth/register", valid_body(padding="p" * 2000)), 413)


# -- duplicates --------------------------------------------------------------------------------------------------


def test_duplicate_username_is_409_case_insensitively(api):
    api.new_account("casey", "casey@example.com")
    for name in ("casey", "CASEY", "Casey"):
        response = api.register(name, f"other-{name}@example.com")
        assert_json_error(response, 409, "username_taken")
    # The refused registrations created nothing: their emails are still free.
    assert api.register("casey2", "other-casey@example.com").status == 201


def test_duplicate_email_is_409_case_insensitively(api):
    api.new_account("dana", "Dana@Example.com")
    variants = ["Dana@Example.com", "dana@example.com", "DANA@example.com", "Dana@EXAMPLE.com", " dana@example.com "]
    check_cases([(email, email) for email in variants],
                lambda email: assert_json_error(api.register(unique_name("dana"), email), 409, "email_taken"))


# -- login -------------------------------------------------------------------------------------------------------


def test_login_by_username_or_email(api):
    account = api.new_account("erin", "erin@example.com")

    def check(login):
        response = api.login(login, PASSWORD)
        assert response.status == 200, response.describe()
        document = response.json()
        assert set(document) == {"user", "tokens"}, document
        assert_me(document["user"])
        assert document["user"]["id"] == account.id
        assert_tokens(document["tokens"])
        assert document["tokens"]["session_id"] != account.session_id
        assert api.me(document["tokens"]["access_token"]).json()["id"] == account.id

    check_cases([(login, login) for login in ("erin", "ERIN", "erin@example.com", "Erin@Example.COM")], check)


def test_login_failures_are_indistinguishable(api):
    api.new_account("frank", "frank@example.com")
    wrong_password = assert_json_error(api.login("frank", PASSWORD + "x"), 401, "invalid_credentials")
    wrong_email_password = assert_json_error(api.login("frank@example.com", "nope-nope"), 401, "invalid_credentials")
    unknown_user = assert_json_error(api.login("nobody", PASSWORD), 401, "invalid_credentials")
    unknown_email = assert_json_error(api.login("nobody@example.com", PASSWORD), 401, "invalid_credentials")
    assert wrong_password == wrong_email_password == unknown_user == unknown_email


def test_long_passwords_differing_after_byte_72_are_different_passwords(api):
    # bcrypt itself reads only 72 bytes; passwords may have up to 128, and every byte must count.
    prefix = "p" * 72
    account = api.new_account(password=prefix + "A" * 28)
    assert api.login(account.username, prefix + "A" * 28).status == 200
    for other in (prefix + "B" * 28, prefix, prefix + "A" * 27):
        assert_json_error(api.login(account.username, other), 401, "invalid_credentials")


LOGIN_BAD_BODIES = [
    ("login-number", {"login": 5, "password": PASSWORD}, "invalid_body"),
    ("password-null", {"login": "frank", "password": None}, None),
    ("password-array", {"login": "frank", "password": ["x"]}, "invalid_body"),
    ("empty-object", {}, None),
    ("top-level-array", [], "invalid_body"),
]


def test_login_bad_bodies_are_422(api):
    def check(body, code):
        error = assert_json_error(api.post("auth/login", body), 422, code)
        assert error["code"] in ("validation_failed", "invalid_body"), error

    check_cases(LOGIN_BAD_BODIES, check)


def test_login_invalid_json_is_400(api):
    assert_json_error(api.post("auth/login", raw=b'{"login": '), 400, "invalid_json")


def test_login_ignores_unknown_fields(api):
    account = api.new_account()
    response = api.post("auth/login", {"login": account.username, "password": PASSWORD, "remember": True, "x": {}})
    assert response.status == 200, response.describe()
