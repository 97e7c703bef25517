"""Security headers on every response and CORS for the API."""

from __future__ import annotations

from authhelpers import Api
from helpers import assert_json_error

ALLOWED = "https://app.example"


def assert_security_headers(response, what: str) -> None:
    assert (response.header("X-Content-Type-Options") or "").lower() == "nosniff", f"{what}:\n{response.describe()}"
    assert (response.header("X-Frame-Options") or "").upper() == "DENY", f"{what}:\n{response.describe()}"
    assert (response.header("Referrer-Policy") or "").strip(), f"{what}:\n{response.describe()}"


def test_security_headers_on_every_response(start_auth_server):
    server = start_auth_server()
    (server.static_dir / "index.html").write_text("<h1>hi</h1>")
    api = Api(server)
    account = api.new_account()
    responses = {
        "register 201": api.register("headers2"),
        "login 200": api.login(account.username, account.password),
        "login 401": api.login(account.username, "wrong password"),
        "register 422": api.register("x"),
        "register 400": api.post("auth/register", raw=b"{"),
        "me 200": api.me(account.access),
        "me 401": api.get("users/me"),
        "sessions 200": api.get("auth/sessions", account.access),
        "unknown user 404": api.get("users/424242", account.access),
        "logout 204": api.post("auth/logout", token=api.login_account(account).access),
        "jwks 200": api.get("/.well-known/jwks.json"),
        "unknown api route 404": api.get("no-such-route"),
        "healthz 200": server.get("/healthz"),
        "static file 200": server.get("/index.html"),
        "method not allowed 405": server.request("DELETE", "/healthz"),
    }
    for what, response in responses.items():
        assert_security_headers(response, what)


def test_cors_preflight_for_an_allowed_origin(start_auth_server):
    api = Api(start_auth_server(env={"CHAT_CORS_ALLOWED_ORIGINS": ALLOWED}))
    response = api.call("OPTIONS", "auth/login", headers={
        "Origin": ALLOWED, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert response.status == 204, response.describe()
    assert response.header("Access-Control-Allow-Origin") == ALLOWED, response.describe()
    methods = {m.strip().upper() for m in (response.header("Access-Control-Allow-Methods") or "").split(",")}
    assert {"POST", "PATCH", "DELETE", "PUT"} <= methods, response.describe()
    allowed_headers = {h.strip().lower() for h in (response.header("Access-Control-Allow-Headers") or "").split(",")}
    assert {"authorization", "content-type"} <= allowed_headers, response.describe()
    for key, value in response.headers:
        if key.lower().startswith("access-control-"):
            assert "*" not in value, response.describe()

    # The actual requests carry the origin too, errors included (so the browser can read them).
    account = api.new_account(headers={"Origin": ALLOWED})
    for response in (api.me(account.access, headers={"Origin": ALLOWED}),
                     api.get("users/me", headers={"Origin": ALLOWED})):
        assert response.header("Access-Control-Allow-Origin") == ALLOWED, response.describe()
    exposed = (api.get("users/me", headers={"Origin": ALLOWED}).header("Access-Control-Expose-Headers") or "")
    assert "retry-after" in exposed.lower()


def test_cors_disallowed_origin_gets_no_allow_origin(start_auth_server):
    api = Api(start_auth_server(env={"CHAT_CORS_ALLOWED_ORIGINS": ALLOWED}))
    evil = "https://evil.example"
    preflight = api.call("OPTIONS", "auth/login", headers={"Origin": evil, "Access-Control-Request-Method": "POST"})
    assert preflight.header("Access-Control-Allow-Origin") is None, preflight.describe()
    account = api.new_account(headers={"Origin": evil})
    response = api.me(account.access, headers={"Origin": evil})
    assert response.status == 200 and response.header("Access-Control-Allow-Origin") is None, response.describe()
    assert_json_error(api.get("users/me", headers={"Origin": evil}), 401)
