"""Rate limits: login per client IP and per account, register per IP, the per-user API budget, and how the client
IP is found (`X-Forwarded-For` only from trusted proxies, right-most untrusted address).

A minute cannot be waited out in a test, so "resets" is checked as: `Retry-After` promises a wait within the
window, and a different key (another client IP, another user) is not limited.
"""

from __future__ import annotations

from authhelpers import PASSWORD, Api, assert_rate_limited
from helpers import assert_json_error

TRUSTED = {"CHAT_SECURITY_TRUSTED_PROXIES": "127.0.0.1"}


def start(start_auth_server, **env) -> Api:
    return Api(start_auth_server(env=env))


def xff(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def failed_login(api: Api, login: str, headers=None):
    return api.login(login, "wrong password!", headers=headers)


def test_login_limit_per_ip(start_auth_server):
    api = start(start_auth_server, CHAT_RATE_LIMIT_LOGIN_PER_MINUTE="3")
    account = api.new_account()
    for attempt in range(3):
        # Different login names, so only the per-IP bucket fills.
        assert_json_error(failed_login(api, f"nobody{attempt}"), 401, "invalid_credentials")
    assert_rate_limited(failed_login(api, "nobody9"), 60)
    # The limit is about the client, not the password: the right one is refused too while limited.
    assert_rate_limited(api.login(account.username, PASSWORD), 60)
    # Other routes are not login-limited.
    assert api.me(account.access).status == 200


def test_login_limit_per_account_across_ips(start_auth_server):
    api = start(start_auth_server, CHAT_RATE_LIMIT_LOGIN_PER_MINUTE="3", **TRUSTED)
    victim = api.new_account("victim")
    bystander = api.new_account("bystander")
    for attempt in range(3):
        response = failed_login(api, "victim", headers=xff(f"198.51.100.{attempt + 1}"))
        assert_json_error(response, 401, "invalid_credentials")
    # A fourth address, never seen before, still meets the per-account limit...
    assert_rate_limited(failed_login(api, "victim", headers=xff("198.51.100.50")), 60)
    assert_rate_limited(api.login("victim", PASSWORD, headers=xff("198.51.100.51")), 60)
    # ...while another account from a fresh address is fine.
    response = api.login(bystander.username, PASSWORD, headers=xff("198.51.100.52"))
    assert response.status == 200, response.describe()
    assert victim.id != bystander.id


def test_forwarded_for_is_ignored_without_trusted_proxies(start_auth_server):
    api = start(start_auth_server, CHAT_RATE_LIMIT_LOGIN_PER_MINUTE="3")
    for attempt in range(3):
        assert_json_error(failed_login(api, f"nobody{attempt}", headers=xff(f"203.0.113.{attempt + 1}")), 401)
    # Spoofed addresses do not open new buckets: the TCP peer (127.0.0.1) is limited.
    assert_rate_limited(failed_login(api, "nobody8", headers=xff("203.0.113.99")), 60)
    assert_rate_limited(failed_login(api, "nobody9"), 60)


def test_trusted_proxy_gives_each_forwarded_client_its_own_bucket(start_auth_server):
    api = start(start_auth_server, CHAT_RATE_LIMIT_LOGIN_PER_MINUTE="3", **TRUSTED)
    for attempt in range(3):
        assert_json_error(failed_login(api, f"nobody{attempt}", headers=xff("192.0.2.10")), 401)
    retry_after = assert_rate_limited(failed_login(api, "nobody5", headers=xff("192.0.2.10")), 60)
    assert retry_after <= 60
    # A different client behind the proxy is not limited.
    assert_json_error(failed_login(api, "nobody6", headers=xff("192.0.2.11")), 401, "invalid_credentials")
    # The client is the right-most untrusted address: an address the client prepended itself changes nothing...
    assert_rate_limited(failed_login(api, "nobody7", headers=xff("192.0.2.77, 192.0.2.10")), 60)
    # ...and prepending the limited address does not make another client count as it.
    assert_json_error(failed_login(api, "nobody8", headers=xff("192.0.2.10, 192.0.2.12")), 401)


def test_trusted_proxy_cidrs_and_chains(start_auth_server):
    api = start(start_auth_server, CHAT_SECURITY_TRUSTED_PROXIES="127.0.0.0/8, 10.0.0.0/8",
                CHAT_RATE_LIMIT_LOGIN_PER_MINUTE="100000")
    # Both hops after the client are trusted proxies, so the client is 203.0.113.9.
    account = api.new_account(headers=xff("203.0.113.9, 10.1.2.3"))
    sessions = api.sessions(account.access)
    assert [session["ip"] for session in sessions] == ["203.0.113.9"], sessions


def test_session_ip_ignores_forwarded_for_from_untrusted_peer(api):
    account = api.new_account(headers=xff("203.0.113.9"))
    assert [session["ip"] for session in api.sessions(account.access)] == ["127.0.0.1"]


def test_register_limit_per_ip(start_auth_server):
    api = start(start_auth_server, CHAT_RATE_LIMIT_REGISTER_PER_HOUR="2", **TRUSTED)
    api.new_account()
    api.new_account()
    assert_rate_limited(api.register("third"), 3600)
    # Nothing was created by the refused attempt...
    assert api.register("third", headers=xff("192.0.2.20")).status == 201
    # ...and the forwarded client has its own budget (one used just now).
    assert api.register("fourth", headers=xff("192.0.2.20")).status == 201
    assert_rate_limited(api.register("fifth", headers=xff("192.0.2.20")), 3600)


def test_api_budget_per_user(start_auth_server):
    api = start(start_auth_server, CHAT_RATE_LIMIT_API_PER_MINUTE="5")
    busy = api.new_account()
    calm = api.new_account()
    for _ in range(5):
        response = api.me(busy.access)
        assert response.status == 200, response.describe()
    assert_rate_limited(api.me(busy.access), 60)
    assert_rate_limited(api.get("auth/sessions", busy.access), 60)
    # Another user on the same IP has their own budget.
    assert api.me(calm.access).status == 200
    # Unauthenticated routes are not part of the budget.
    assert api.login(busy.username, PASSWORD).status == 200


def test_refresh_limit_per_ip(start_auth_server):
    api = start(start_auth_server, CHAT_RATE_LIMIT_API_PER_MINUTE="4", **TRUSTED)
    account = api.new_account()
    for attempt in range(4):
        assert_json_error(api.refresh(f"junk-token-{attempt}"), 401)
    assert_rate_limited(api.refresh("junk-token-9"), 60)
    # The budget is the client address's: a good token from there waits too, one from elsewhere does not.
    assert_rate_limited(api.refresh(account.refresh), 60)
    response = api.refresh(account.refresh, headers=xff("198.51.100.77"))
    assert response.status == 200, response.describe()
