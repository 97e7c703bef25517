"""A small client for the accounts API (`/api/v1`) and the JWT/JWKS/bcrypt tools the auth tests interoperate with.

`Api` wraps a running `ChatServer`: JSON in, `helpers.Response` out, bearer tokens on request. `Account` is a user
the test created, with its password and current token pair. The JWT helpers build tokens by hand (for forgeries
that no library will produce) or with PyJWT and the server's own private key (read from `<data_dir>/keys`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import re
import stat
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from helpers import Response, assert_json_error

API = "/api/v1"

# Settings every auth test starts from: cheap bcrypt, and login/register limits high enough that only the
# rate-limit tests (which set their own) ever meet them. Everything else keeps its default.
AUTH_ENV = {
    "CHAT_AUTH_BCRYPT_COST": "4",
    "CHAT_RATE_LIMIT_LOGIN_PER_MINUTE": "100000",
    "CHAT_RATE_LIMIT_REGISTER_PER_HOUR": "100000",
}

PASSWORD = "correct horse battery"

ME_KEYS = {"id", "username", "email", "display_name", "bio", "avatar_url", "is_admin", "created_at", "updated_at"}
PROFILE_KEYS = {"id", "username", "display_name", "bio", "avatar_url", "created_at", "deleted"}
TOKEN_KEYS = {"access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in", "session_id"}
SESSION_KEYS = {"id", "device", "ip", "created_at", "last_used_at", "current"}
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

_names = itertools.count(1)


def unique_name(prefix: str = "user") -> str:
    """A fresh valid username (lower case, within 3–32 characters)."""
    return f"{prefix}{next(_names)}"


def now_ms() -> int:
    return int(time.time() * 1000)


# --------------------------------------------------------------------------------------------------------------
# Accounts


@dataclass
class Account:
    id: int
    username: str
    email: str
    password: str
    user: dict
    tokens: dict
    extra: dict = field(default_factory=dict)

    @property
    def access(self) -> str:
        return self.tokens["access_token"]

    @property
    def refresh(self) -> str:
        return self.tokens["refresh_token"]

    @property
    def session_id(self) -> str:
        return self.tokens["session_id"]


_NO_BODY = object()


class Api:
    """JSON requests against one server. Paths without a leading `/` are under `/api/v1/`."""

    def __init__(self, server, headers: dict[str, str] | None = None):
        self.server = server
        self.headers = dict(headers or {})

    # -- raw -------------------------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        body=_NO_BODY,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Response:
        if not path.startswith("/"):
            path = f"{API}/{path}"
        all_headers = dict(self.headers)
        data = None
        if raw is not None:
            data = raw
            all_headers["Content-Type"] = "application/json"
        elif body is not _NO_BODY:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        return self.server.request(method, path, all_headers, data)

    def get(self, path, token=None, **kw) -> Response:
        return self.call("GET", path, token=token, **kw)

    def post(self, path, body=_NO_BODY, token=None, **kw) -> Response:
        return self.call("POST", path, body, token=token, **kw)

    def patch(self, path, body=_NO_BODY, token=None, **kw) -> Response:
        return self.call("PATCH", path, body, token=token, **kw)

    def put(self, path, body=_NO_BODY, token=None, **kw) -> Response:
        return self.call("PUT", path, body, token=token, **kw)

    def delete(self, path, body=_NO_BODY, token=None, **kw) -> Response:
        return self.call("DELETE", path, body, token=token, **kw)

    # -- auth ------------------------------------------------------------------------------------------------

    def register(self, username: str, email: str | None = None, password: str = PASSWORD, display_name=None,
                 headers=None, **extra) -> Response:
        body = {"username": username, "email": email if email is not None else f"{username}@example.com",
                "password": password}
        if display_name is not None:
            body["display_name"] = display_name
        body.update(extra)
        return self.post("auth/register", body, headers=headers)

    def new_account(self, username: str | None = None, email: str | None = None, password: str = PASSWORD,
                    display_name=None, headers=None) -> Account:
        username = username or unique_name()
        response = self.register(username, email, password, display_name, headers=headers)
        assert response.status == 201, f"register {username!r}: {response.describe()}"
        document = response.json()
        user = document["user"]
        return Account(user["id"], user["username"], user["email"], password, user, document["tokens"])

    def login(self, login: str, password: str, headers=None) -> Response:
        return self.post("auth/login", {"login": login, "password": password}, headers=headers)

    def login_account(self, account: Account, headers=None, login: str | None = None) -> Account:
        """A new session for `account` (returned as a new `Account` with its own tokens)."""
        response = self.login(login or account.username, account.password, headers=headers)
        assert response.status == 200, f"login {account.username!r}: {response.describe()}"
        document = response.json()
        return Account(account.id, account.username, account.email, account.password, document["user"],
                       document["tokens"])

    def refresh(self, refresh_token: str, headers=None) -> Response:
        return self.post("auth/refresh", {"refresh_token": refresh_token}, headers=headers)

    def me(self, token: str, headers=None) -> Response:
        return self.get("users/me", token, headers=headers)

    def sessions(self, token: str) -> list[dict]:
        response = self.get("auth/sessions", token)
        assert response.status == 200, response.describe()
        return response.json()["sessions"]

    def jwks(self) -> dict:
        response = self.get("/.well-known/jwks.json")
        assert response.status == 200, response.describe()
        return response.json()


# --------------------------------------------------------------------------------------------------------------
# Assertions


def assert_unauthorized(response: Response, code: str = "invalid_token") -> dict:
    """A bearer-auth failure: 401 with the contract's code and `WWW-Authenticate: Bearer` (with
    `error="invalid_token"` exactly when a token was sent, i.e. for the `invalid_token` code)."""
    error = assert_json_error(response, 401, code)
    challenge = response.header("WWW-Authenticate")
    assert challenge is not None, f"401 without WWW-Authenticate:\n{response.describe()}"
    assert re.match(r"(?i)bearer(\s|$)", challenge), response.describe()
    if code == "invalid_token":
        assert re.search(r'error\s*=\s*"invalid_token"', challenge), response.describe()
    else:
        assert "error=" not in challenge, response.describe()
    return error


def assert_validation(response: Response, *fields_: str) -> dict:
    """422 `validation_failed` whose `fields` names (at least) each of `fields_`."""
    error = assert_json_error(response, 422, "validation_failed")
    fields = error.get("fields")
    assert isinstance(fields, dict), f"no `fields` object:\n{response.describe()}"
    for name in fields_:
        assert name in fields, f"field {name!r} not named in {fields}:\n{response.describe()}"
    return error


def assert_rate_limited(response: Response, max_seconds: int) -> int:
    """429 `rate_limited` with an integer `Retry-After` in 1…max_seconds; returns it."""
    assert_json_error(response, 429, "rate_limited")
    value = response.header("Retry-After")
    assert value is not None and re.fullmatch(r"\d+", value.strip()), response.describe()
    seconds = int(value)
    assert 1 <= seconds <= max_seconds, response.describe()
    return seconds


def assert_me(user: dict) -> None:
    assert set(user) == ME_KEYS, user
    assert isinstance(user["id"], int) and not isinstance(user["id"], bool), user
    for key in ("username", "email", "display_name", "bio", "avatar_url"):
        assert isinstance(user[key], str), (key, user)
    assert user["is_admin"] in (True, False), user
    assert_recent_ms(user["created_at"])
    assert_recent_ms(user["updated_at"])


def assert_profile(profile: dict) -> None:
    assert set(profile) == PROFILE_KEYS, profile
    assert isinstance(profile["id"], int) and not isinstance(profile["id"], bool), profile
    assert profile["deleted"] in (True, False), profile
    for key in ("username", "display_name", "bio", "avatar_url"):
        assert isinstance(profile[key], str), (key, profile)
    assert_recent_ms(profile["created_at"])


def assert_recent_ms(value) -> None:
    """A unix-milliseconds timestamp from about now (a day either way: a format check, not a timing one)."""
    assert isinstance(value, int) and not isinstance(value, bool), value
    assert abs(value - now_ms()) < 86_400_000, f"{value} is not unix milliseconds of today"


def assert_tokens(tokens: dict, access_ttl: int = 900, refresh_ttl: int = 2_592_000) -> None:
    assert set(tokens) == TOKEN_KEYS, tokens
    assert tokens["token_type"] == "Bearer", tokens
    assert tokens["expires_in"] == access_ttl, tokens
    assert tokens["refresh_expires_in"] == refresh_ttl, tokens
    assert isinstance(tokens["session_id"], str) and tokens["session_id"], tokens
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", tokens["refresh_token"]), tokens
    assert tokens["access_token"].count(".") == 2, tokens


# --------------------------------------------------------------------------------------------------------------
# JWTs by hand


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64u_json(value: dict) -> str:
    return b64u(json.dumps(value, separators=(",", ":")).encode())


def jwt_parts(token: str) -> tuple[dict, dict, str]:
    """Header, payload (both unverified) and the signature segment."""
    header, payload, signature = token.split(".")
    return json.loads(b64u_decode(header)), json.loads(b64u_decode(payload)), signature


def sign_rs256(private_key, header: dict, payload: dict) -> str:
    signing_input = f"{b64u_json(header)}.{b64u_json(payload)}"
    signature = private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64u(signature)}"


def sign_hs256(secret: bytes, header: dict, payload: dict) -> str:
    signing_input = f"{b64u_json(header)}.{b64u_json(payload)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64u(signature)}"


def unsigned(header: dict, payload: dict) -> str:
    return f"{b64u_json(header)}.{b64u_json(payload)}."


def public_key_from_jwk(jwk: dict):
    return jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))


def public_pem(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def new_rsa_key(bits: int = 2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def claims_for(account: Account, *, iss: str = "chat", aud: str = "chat", lifetime: int = 300, **overrides) -> dict:
    """Well-formed access-token claims for `account`'s current session."""
    now = int(time.time())
    claims = {
        "sub": str(account.id), "sid": account.session_id, "jti": uuid.uuid4().hex,
        "iat": now, "nbf": now, "exp": now + lifetime, "iss": iss, "aud": aud,
    }
    claims.update(overrides)
    return claims


# --------------------------------------------------------------------------------------------------------------
# The server's keys


def key_files(data_dir: Path) -> list[Path]:
    directory = Path(data_dir) / "keys"
    return sorted(path for path in directory.iterdir() if path.is_file()) if directory.is_dir() else []


def private_keys(data_dir: Path) -> list[tuple[Path, object]]:
    """Every RSA private key stored under `<data_dir>/keys` (files holding anything else are skipped)."""
    found = []
    for path in key_files(data_dir):
        data = path.read_bytes()
        if b"PRIVATE KEY" not in data:
            continue
        found.append((path, serialization.load_pem_private_key(data, password=None)))
    return found


def server_private_key(data_dir: Path, jwk: dict):
    """The private key under `<data_dir>/keys` whose public half is the JWK `jwk` (matched by modulus)."""
    wanted = public_key_from_jwk(jwk).public_numbers()
    for path, key in private_keys(data_dir):
        if key.public_key().public_numbers() == wanted:
            return path, key
    raise AssertionError(f"no private key in {Path(data_dir) / 'keys'} matches JWK {jwk.get('kid')!r}: "
                         f"{[p.name for p in key_files(data_dir)]}")


def file_mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def check_cases(cases, check) -> None:
    """Run `check(*case)` for every `(case_id, *case)` on the same server and fail once, listing every case
    that failed (so one server serves many stateless checks without hiding all but the first failure)."""
    failures = []
    for case_id, *case in cases:
        try:
            check(*case)
        except AssertionError as error:
            failures.append(f"[{case_id}] {error}")
    assert not failures, f"{len(failures)} of {len(cases)} cases failed:\n\n" + "\n\n".join(failures)
