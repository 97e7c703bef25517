"""Forged and tampered access tokens against GET /api/v1/users/me: every one is 401 `invalid_token` with
`WWW-Authenticate: Bearer error="invalid_token"`.

Several forgeries are signed with the server's *own* private key (read from its data directory) so that the claim
or header under test is the only thing wrong with them; `test_auth_interop.py` shows such a token with correct
claims is accepted, so these rejections are about the claim, not the signing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from authhelpers import (
    Account,
    Api,
    assert_unauthorized,
    b64u,
    b64u_json,
    claims_for,
    jwt_parts,
    new_rsa_key,
    public_key_from_jwk,
    public_pem,
    server_private_key,
    sign_hs256,
    sign_rs256,
    unsigned,
)


@dataclass
class Target:
    api: Api
    victim: Account
    other: Account
    jwk: dict
    private_key: object

    @property
    def kid(self) -> str:
        return self.jwk["kid"]

    def header(self, **overrides) -> dict:
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        header.update(overrides)
        return {key: value for key, value in header.items() if value is not None}


@pytest.fixture
def target(api) -> Target:
    victim = api.new_account("victim")
    other = api.new_account("other")
    keys = api.jwks()["keys"]
    assert len(keys) == 1, keys
    _, private_key = server_private_key(api.server.data_dir, keys[0])
    target = Target(api, victim, other, keys[0], private_key)
    # The untouched token works, so every 401 below is caused by the forgery.
    assert api.me(victim.access).status == 200
    return target


def alg_none(t: Target, alg: str) -> str:
    _, payload, _ = jwt_parts(t.victim.access)
    return unsigned(t.header(alg=alg), payload)


def hs256_with_public_key(t: Target) -> list[str]:
    """The classic algorithm confusion: HMAC keyed with the RSA public key, in every PEM spelling a verifier
    might feed its HMAC with."""
    _, payload, _ = jwt_parts(t.victim.access)
    public_key = public_key_from_jwk(t.jwk)
    spki = public_pem(public_key)
    pkcs1 = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    secrets = [spki, spki.rstrip(b"\n"), pkcs1, der]
    return [sign_hs256(secret, t.header(alg="HS256"), payload) for secret in secrets]


def stripped_signature(t: Target) -> str:
    header, payload, _ = t.victim.access.split(".")
    return f"{header}.{payload}."


def modified_payload(t: Target) -> str:
    header, payload, signature = jwt_parts(t.victim.access)
    payload["sub"] = str(t.other.id)
    return f"{b64u_json(header)}.{b64u_json(payload)}.{signature}"


def own_key(t: Target, header: dict | None = None, **claims) -> str:
    return sign_rs256(t.private_key, header or t.header(), claims_for(t.victim, **claims))


def foreign_key_with_our_kid(t: Target) -> str:
    return sign_rs256(new_rsa_key(), t.header(), claims_for(t.victim))


def embedded_jwk(t: Target) -> str:
    """The attacker's own public key in the header (`jwk`), token signed with the attacker's key."""
    attacker = new_rsa_key()
    numbers = attacker.public_key().public_numbers()
    jwk = {"kty": "RSA", "kid": t.kid, "use": "sig", "alg": "RS256",
           "n": b64u(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
           "e": b64u(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big"))}
    return sign_rs256(attacker, t.header(jwk=jwk), claims_for(t.victim))


def rs512_with_our_key(t: Target) -> str:
    header = t.header(alg="RS512")
    signing_input = f"{b64u_json(header)}.{b64u_json(claims_for(t.victim))}"
    signature = t.private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA512())
    return f"{signing_input}.{b64u(signature)}"


def now() -> int:
    return int(time.time())


ATTACKS = {
    "alg-none": lambda t: alg_none(t, "none"),
    "alg-None": lambda t: alg_none(t, "None"),
    "alg-NONE": lambda t: alg_none(t, "NONE"),
    "hs256-with-public-key-pem": hs256_with_public_key,
    "stripped-signature": stripped_signature,
    "modified-payload-original-signature": modified_payload,
    "unknown-kid": lambda t: own_key(t, t.header(kid="no-such-kid")),
    "expired": lambda t: own_key(t, iat=now() - 3600, nbf=now() - 3600, exp=now() - 120),
    "nbf-in-the-future": lambda t: own_key(t, nbf=now() + 3600, exp=now() + 7200),
    "wrong-issuer": lambda t: own_key(t, iss="evil"),
    "wrong-audience": lambda t: own_key(t, aud="not-chat"),
    "different-rsa-key-with-our-kid": foreign_key_with_our_kid,
    "embedded-attacker-jwk": embedded_jwk,
    "rs512-instead-of-rs256": rs512_with_our_key,
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_forged_token_is_rejected(target, attack):
    tokens = ATTACKS[attack](target)
    for token in tokens if isinstance(tokens, list) else [tokens]:
        response = target.api.me(token)
        assert response.status == 401, f"{attack}: token {token!r} was not refused:\n{response.describe()}"
        assert_unauthorized(response, "invalid_token")
    # The genuine token still works afterwards.
    assert target.api.me(target.victim.access).status == 200
