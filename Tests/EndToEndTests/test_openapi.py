"""The API documentation (issue 8): `/openapi.json` is a valid OpenAPI 3.1 document (openapi-spec-validator),
`/asyncapi.json` an AsyncAPI 3.0 document naming every message type of docs/realtime-protocol.md, Swagger UI at
`/swagger/index.html` loads its assets from `docs.swagger_ui_url` or, with `docs.swagger_ui_dir`, from
`/swagger/assets/`; and schemathesis drives every documented operation of a live server with a real bearer token:
no 5xx, every status documented, every body matching its schema.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from authhelpers import AUTH_ENV, PASSWORD
from helpers import REPO_ROOT, http_request

# Every authenticated request of the schemathesis run counts against the per-user budget: keep it out of the way.
DOCS_ENV = {**AUTH_ENV, "CHAT_RATE_LIMIT_API_PER_MINUTE": "10000000"}


def get(server, path: str, headers: dict[str, str] | None = None):
    return http_request(server.port, "GET", path, headers=headers)


def post_json(server, path: str, body: dict, token: str | None = None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return http_request(server.port, "POST", path, headers=headers, body=json.dumps(body).encode())


def register(server, username: str) -> tuple[int, str]:
    """A new account: (user id, access token)."""
    response = post_json(
        server, "/api/v1/auth/register", {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    )
    assert response.status == 201, response.describe()
    document = response.json()
    return document["user"]["id"], document["tokens"]["access_token"]


def protocol_message_types() -> set[str]:
    """The `type`s of the client → server and server → client tables of docs/realtime-protocol.md."""
    text = (REPO_ROOT / "docs" / "realtime-protocol.md").read_text()
    types: set[str] = set()
    for section in ("## Client → server", "## Server → client"):
        table = text.split(section, 1)[1].split("\n## ", 1)[0]
        for line in table.splitlines():
            cell = line.split("|")[1].strip() if line.startswith("|") else ""
            types.update(re.findall(r"`([A-Z][A-Z_]+)`", cell))
    assert len(types) >= 25, types
    return types


def test_openapi_document_is_valid(start_server):
    from openapi_spec_validator import validate

    server = start_server(env=DOCS_ENV)
    response = get(server, "/openapi.json")
    assert response.status == 200, response.describe()
    assert response.header("Content-Type").split(";")[0] == "application/json"
    assert response.header("Cache-Control") == "no-cache"
    document = response.json()
    assert re.fullmatch(r"3\.1\.\d+", document["openapi"])
    validate(document)
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    # The routes the issue names are all there, with their error shape.
    paths = document["paths"]
    for path in (
        "/api/v1/auth/register",
        "/api/v1/users/me",
        "/api/v1/friends/requests",
        "/api/v1/blocks/{user_id}",
        "/api/v1/rooms/{id}/members/{user_id}",
        "/api/v1/rooms/{id}/messages/{msg_id}/reactions/{emoji}",
        "/api/v1/rooms/{id}/receipts",
        "/api/v1/unread",
        "/api/v1/search/messages",
        "/api/v1/uploads",
        "/api/v1/users/{id}/presence",
        "/api/v1/ws/ticket",
        "/healthz",
        "/v1_1/{cloud}/{resource_type}/upload",
        "/{cloud}/{resource_type}/{type}/{rest}",
    ):
        assert path in paths, path
    ws = paths["/ws"]["get"]
    assert {"101", "401", "426"} <= set(ws["responses"])
    assert "/asyncapi.json" in ws["description"]
    error = document["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]


def test_asyncapi_document_names_every_message_type(start_server):
    server = start_server(env=DOCS_ENV)
    response = get(server, "/asyncapi.json")
    assert response.status == 200, response.describe()
    assert response.header("Content-Type").split(";")[0] == "application/json"
    assert response.header("Cache-Control") == "no-cache"
    document = response.json()
    assert document["asyncapi"] == "3.0.0"
    assert document["channels"]["realtime"]["address"] == "/ws"
    documented = set()
    for message in document["components"]["messages"].values():
        payload = message["payload"]
        documented.add(payload["properties"]["type"]["const"])
        assert "data" in payload["properties"], message["name"]
    missing = protocol_message_types() - documented
    assert not missing, f"message types of docs/realtime-protocol.md missing from /asyncapi.json: {sorted(missing)}"
    # Every operation points at messages that exist.
    for name, operation in document["operations"].items():
        for ref in operation["messages"]:
            key = ref["$ref"].rsplit("/", 1)[1]
            assert key in document["channels"]["realtime"]["messages"], (name, key)


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def test_swagger_ui_from_the_configured_url(start_server):
    base = "https://unpkg.example.org/swagger-ui-dist@5.17.14"
    server = start_server(env={**DOCS_ENV, "CHAT_DOCS_SWAGGER_UI_URL": base + "/"})
    page = get(server, "/swagger/index.html")
    assert page.status == 200, page.describe()
    assert page.header("Content-Type").startswith("text/html")
    html = page.body.decode()
    assert f'src="{base}/swagger-ui-bundle.js"' in html
    assert f'href="{base}/swagger-ui.css"' in html
    assert 'src="/swagger/swagger-init.js"' in html
    # No inline script: every <script> has a src and no body.
    assert re.findall(r"<script[^>]*>", html) == [f'<script src="{base}/swagger-ui-bundle.js">', '<script src="/swagger/swagger-init.js">']
    assert re.search(r"<script[^>]*>[^<]+</script>", html) is None
    csp = csp_directives(page.header("Content-Security-Policy") or "")
    assert csp.get("script-src") == ["'self'", "https://unpkg.example.org"], page.describe()
    assert csp.get("style-src") == ["'self'", "https://unpkg.example.org"], page.describe()
    assert "'unsafe-inline'" not in " ".join(sum(csp.values(), []))
    init = get(server, "/swagger/swagger-init.js")
    assert init.status == 200
    assert init.header("Content-Type").startswith("text/javascript")
    assert b'"/openapi.json"' in init.body and b"SwaggerUIBundle(" in init.body
    redirect = get(server, "/swagger")
    assert redirect.status == 302 and redirect.header("Location") == "/swagger/index.html"
    # Without a local copy there is nothing under /swagger/assets/.
    assert get(server, "/swagger/assets/swagger-ui.css").status == 404


def test_swagger_ui_defaults_to_the_cdn(start_server):
    server = start_server(env=DOCS_ENV)
    html = get(server, "/swagger/index.html").body.decode()
    assert 'src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"' in html


def test_swagger_ui_from_a_local_directory(start_server, tmp_path):
    assets = tmp_path / "swagger-ui-5.0.0"
    assets.mkdir()
    (assets / "swagger-ui-bundle.js").write_text("window.SwaggerUIBundle = function () {};\n")
    (assets / "swagger-ui.css").write_text(".swagger-ui { color: black }\n")
    server = start_server(env={**DOCS_ENV, "CHAT_DOCS_SWAGGER_UI_DIR": str(assets)})
    page = get(server, "/swagger/index.html")
    html = page.body.decode()
    assert 'src="/swagger/assets/swagger-ui-bundle.js"' in html
    assert 'href="/swagger/assets/swagger-ui.css"' in html
    assert "cdn.jsdelivr.net" not in html
    csp = csp_directives(page.header("Content-Security-Policy") or "")
    assert csp.get("script-src") == ["'self'"], page.describe()
    script = get(server, "/swagger/assets/swagger-ui-bundle.js")
    assert script.status == 200, script.describe()
    assert script.body == b"window.SwaggerUIBundle = function () {};\n"
    assert "javascript" in script.header("Content-Type")
    css = get(server, "/swagger/assets/swagger-ui.css")
    assert css.status == 200 and css.header("Content-Type").startswith("text/css")
    # The directory's neighbours stay out of reach.
    (tmp_path / "secret.txt").write_text("no")
    assert get(server, "/swagger/assets/../secret.txt").status == 404
    assert get(server, "/swagger/assets/%2e%2e/secret.txt").status == 404
    assert get(server, "/swagger/assets/missing.js").status == 404


# --------------------------------------------------------------------------------------------------------------
# schemathesis

# Operations that end the token they are called with (logout, logout-all, password change, account deletion,
# ending a session): fuzzed in a second run with their own throwaway account, so the main run keeps its token.
SESSION_ENDING = r"^(logout|logoutAll|changePassword|deleteMe|revokeSession)$"


def schemathesis(server, token: str, *, include: str | None = None, exclude: str | None = None, max_examples: int):
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"http://127.0.0.1:{server.port}/openapi.json",
        "--url", f"http://127.0.0.1:{server.port}",
        "--header", f"Authorization: Bearer {token}",
        # Every check: no 5xx, documented statuses, content types, headers and response schemas, invalid data
        # refused... except `positive_data_acceptance`: a request that matches the schema may still break a rule
        # JSON Schema cannot say (befriending yourself, member ids of users that do not exist, before_seq with
        # after_seq); those answer the documented 422/404. And except `unsupported_method`: it wants 405 for any
        # method a path does not declare, but a literal path may also match a parameter route of that method
        # (DELETE /friends/requests is DELETE /friends/{user_id} with the id "requests": 400 invalid_id, rightly).
        # 405 with `Allow` for known methods (test_http_basics.py) and 501 for unknown ones are tested elsewhere.
        "--checks", "all", "--exclude-checks", "positive_data_acceptance,unsupported_method",
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(max_examples),
        "--generation-deterministic",
        "--request-timeout", "10",
        "--no-color",
    ]  # fmt: skip
    if include:
        command += ["--include-operation-id-regex", include]
    if exclude:
        command += ["--exclude-operation-id-regex", exclude]
    # In the server's directory: schemathesis keeps its example database (`.schemathesis/`) in the working directory.
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=150, cwd=server.workdir, env={**os.environ, "NO_COLOR": "1"}
    )
    report = result.stdout + result.stderr
    (server.workdir / "schemathesis.txt").write_text(report)
    failures = report.split(" FAILURES ", 1)[-1]
    assert result.returncode == 0, f"schemathesis found problems (whole report: {server.workdir}/schemathesis.txt):\n{failures}"
    assert "Tested:" in report, report[-3000:]
    return report


def test_schemathesis_against_the_live_server(start_server):
    server = start_server(env=DOCS_ENV)
    ann_id, ann = register(server, "ann")
    bob_id, bob = register(server, "bob")
    # Some data for the ids schemathesis tries (small integers, the documents' examples): friends, a group with
    # a message, a direct room.
    request = post_json(server, "/api/v1/friends/requests", {"user_id": bob_id}, ann).json()
    assert http_request(server.port, "POST", f"/api/v1/friends/requests/{request['id']}/accept", headers={"Authorization": f"Bearer {bob}"}).status == 200  # fmt: skip
    room = post_json(server, "/api/v1/rooms", {"name": "Team", "member_ids": [bob_id]}, ann).json()
    assert post_json(server, f"/api/v1/rooms/{room['id']}/messages", {"content": "hello"}, ann).status == 201
    assert post_json(server, "/api/v1/rooms/direct", {"user_id": bob_id}, ann).status == 201

    # `/ws` is included: without an upgrade it answers its documented 426. The Cloudinary routes and delivery are
    # included too (unsigned requests: their documented 400/401/404 in Cloudinary's error shape).
    schemathesis(server, ann, exclude=SESSION_ENDING, max_examples=10)
    _, carol = register(server, "carol")
    schemathesis(server, carol, include=SESSION_ENDING, max_examples=5)
    assert get(server, "/healthz").status == 200
