"""Interoperability with real peers: PyJWT verifies chat's tokens through the published JWKS, chat accepts tokens
PyJWT signs with chat's own key, and Python's bcrypt reads and writes the password hashes chat stores."""

from __future__ import annotations

import uuid

import bcrypt
import jwt
import pytest

from authhelpers import (
    AUTH_ENV,
    PASSWORD,
    PRIVATE_JWK_MEMBERS,
    Api,
    assert_unauthorized,
    b64u_decode,
    claims_for,
    file_mode,
    jwt_parts,
    key_files,
    private_keys,
    server_private_key,
)
from helpers import assert_json_error


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch):
    # PyJWKClient fetches with urllib, which honours *_proxy variables; the server is on loopback.
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


# -- JWKS --------------------------------------------------------------------------------------------------------


def test_jwks_publishes_one_public_rsa_key(api):
    response = api.get("/.well-known/jwks.json")
    assert response.status == 200, response.describe()
    assert (response.header("Content-Type") or "").split(";")[0].strip() == "application/json", response.describe()
    keys = response.json()["keys"]
    assert len(keys) == 1, keys
    key = keys[0]
    assert key["kty"] == "RSA" and key["use"] == "sig" and key["alg"] == "RS256", key
    assert isinstance(key["kid"], str) and key["kid"], key
    assert not PRIVATE_JWK_MEMBERS & set(key), f"private members published: {key}"
    assert int.from_bytes(b64u_decode(key["n"]), "big").bit_length() >= 2048, key
    assert int.from_bytes(b64u_decode(key["e"]), "big") == 65537, key


def test_private_key_files_are_0600_and_match_the_jwks(api):
    keys = private_keys(api.server.data_dir)
    assert len(keys) == 1, [path.name for path in key_files(api.server.data_dir)]
    for path, _ in keys:
        assert file_mode(path) == 0o600, f"{path} has mode {oct(file_mode(path))}"
    jwk = api.jwks()["keys"][0]
    path, _ = server_private_key(api.server.data_dir, jwk)
    # The key survives a restart: same kid, same key.
    api.server.stop()
    api.server.start()
    assert api.jwks()["keys"] == [jwk]


def test_chat_token_verifies_with_pyjwt_and_the_jwks(api):
    account = api.new_account()
    second = api.login_account(account)
    client = jwt.PyJWKClient(api.server.url + "/.well-known/jwks.json", cache_keys=False)

    for session in (account, second):
        header, _, _ = jwt_parts(session.access)
        assert header["alg"] == "RS256" and header["typ"] == "JWT" and header["kid"], header
        key = client.get_signing_key(header["kid"]).key
        claims = jwt.decode(session.access, key, algorithms=["RS256"], audience="chat", issuer="chat",
                            options={"require": ["exp", "iat", "nbf", "sub", "jti", "iss", "aud"]})
        assert claims["sub"] == str(account.id), claims
        assert claims["sid"] == session.session_id, claims
        assert claims["exp"] - claims["iat"] == 900, claims
        assert claims["nbf"] <= claims["iat"] + 1, claims
        assert isinstance(claims["jti"], str) and claims["jti"], claims
    assert jwt_parts(account.access)[1]["jti"] != jwt_parts(second.access)[1]["jti"]


def test_token_signed_by_pyjwt_with_our_key_is_accepted(api):
    account = api.new_account()
    session = api.login_account(account)
    jwk = api.jwks()["keys"][0]
    _, private_key = server_private_key(api.server.data_dir, jwk)

    token = jwt.encode(claims_for(session), private_key, algorithm="RS256", headers={"kid": jwk["kid"]})
    response = api.me(token)
    assert response.status == 200, response.describe()
    assert response.json()["id"] == account.id

    # The same token for a session that has been revoked is refused: the signature alone is not enough.
    assert api.delete(f"auth/sessions/{session.session_id}", token=account.access).status == 204
    assert_unauthorized(api.me(token), "invalid_token")


def test_configured_issuer_and_audience(start_auth_server):
    api = Api(start_auth_server(env={"CHAT_AUTH_ISSUER": "https://chat.example.test",
                                     "CHAT_AUTH_AUDIENCE": "chat-web"}))
    account = api.new_account()
    jwk = api.jwks()["keys"][0]
    _, private_key = server_private_key(api.server.data_dir, jwk)
    public_key = jwt.PyJWK(jwk).key
    claims = jwt.decode(account.access, public_key, algorithms=["RS256"], audience="chat-web",
                        issuer="https://chat.example.test")
    assert claims["sub"] == str(account.id)

    def signed(**overrides):
        return jwt.encode(claims_for(account, **overrides), private_key, algorithm="RS256",
                          headers={"kid": jwk["kid"]})

    assert api.me(signed(iss="https://chat.example.test", aud="chat-web", jti=uuid.uuid4().hex)).status == 200
    assert_unauthorized(api.me(signed(iss="chat", aud="chat-web")), "invalid_token")
    assert_unauthorized(api.me(signed(iss="https://chat.example.test", aud="chat")), "invalid_token")


# -- bcrypt ------------------------------------------------------------------------------------------------------


def stored_hash(server, user_id: int) -> str:
    connection = server.db()
    try:
        row = connection.execute("SELECT password_hash FROM users WHERE id = ?", (user_id,)).fetchone()
    finally:
        connection.close()
    assert row is not None, f"no users row with id {user_id}"
    value = row[0]
    return value.decode() if isinstance(value, bytes) else value


def test_default_cost_hash_is_bcrypt_2b_12_and_python_verifies_it(start_server):
    env = {key: value for key, value in AUTH_ENV.items() if key != "CHAT_AUTH_BCRYPT_COST"}
    api = Api(start_server(env=env))
    password = "pässwörd ünïcode ✓"
    account = api.new_account(password=password)
    value = stored_hash(api.server, account.id)
    assert value.startswith("$2b$12$") and len(value) == 60, value
    assert bcrypt.checkpw(password.encode(), value.encode())
    assert not bcrypt.checkpw(b"something else", value.encode())
    # Logging in at the default cost works too.
    assert api.login(account.username, password).status == 200


def test_configured_cost_is_used(api):
    account = api.new_account()
    value = stored_hash(api.server, account.id)
    assert value.startswith("$2b$04$") and len(value) == 60, value
    assert bcrypt.checkpw(PASSWORD.encode(), value.encode())


def test_hash_written_by_python_bcrypt_logs_in(start_auth_server, tmp_path):
    first = start_auth_server(workdir=tmp_path / "first")
    api = Api(first)
    account = api.new_account(password="the old password")
    assert first.stop() == 0

    new_password = "new from python ✓"
    new_hash = bcrypt.hashpw(new_password.encode(), bcrypt.gensalt(rounds=4)).decode()
    connection = first.db()
    try:
        with connection:
            updated = connection.execute("UPDATE users SET password_hash = ? WHERE id = ?", (new_hash, account.id))
            assert updated.rowcount == 1
    finally:
        connection.close()

    second = start_auth_server(workdir=tmp_path / "second", data_dir=first.data_dir)
    api = Api(second)
    response = api.login(account.username, new_password)
    assert response.status == 200, response.describe()
    assert response.json()["user"]["id"] == account.id
    assert_json_error(api.login(account.username, "the old password"), 401, "invalid_credentials")
