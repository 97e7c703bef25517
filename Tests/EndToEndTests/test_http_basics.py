"""HTTP basics against a running `chat serve`: health endpoints, connection reuse, framing, request ids, errors
and the access log."""

from __future__ import annotations

import email.utils
import http.client
import json
import re

from helpers import HOST, assert_json_error, curl, get_request

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def test_healthz_answers_json(server):
    response = server.get("/healthz")
    assert response.status == 200, response.describe()
    assert (response.header("Content-Type") or "").split(";")[0] == "application/json"
    assert response.json() == {"status": "ok"}
    assert int(response.header("Content-Length")) == len(response.body)
    date = response.header("Date")
    assert date and email.utils.parsedate_to_datetime(date).tzinfo is not None, response.describe()


def test_healthz_with_curl(server):
    result = curl("-i", f"{server.url}/healthz")
    assert result.returncode == 0, result.stderr
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), result.stdout
    assert json.loads(body) == {"status": "ok"}


def test_readyz_answers_ready(server):
    response = server.get("/readyz")
    assert response.status == 200, response.describe()
    assert (response.header("Content-Type") or "").split(";")[0] == "application/json"
    assert response.json() == {"status": "ready"}


def test_startup_logs_listening_address(server):
    lines = [line for line in server.log_text().splitlines() if "listening" in line]
    assert lines, server.log_text()
    assert any(f"{HOST}:{server.port}" in line or str(server.port) in line for line in lines), lines


def test_keep_alive_reuses_one_connection_with_http_client(server):
    connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
    try:
        sockets = set()
        local_ports = set()
        for path in ["/healthz", "/readyz", "/healthz", "/missing", "/healthz"]:
            connection.request("GET", path)
            reply = connection.getresponse()
            reply.read()
            assert reply.status in (200, 404)
            assert (reply.getheader("Connection") or "").lower() != "close"
            assert connection.sock is not None, "the server closed a keep-alive connection"
            sockets.add(id(connection.sock))
            local_ports.add(connection.sock.getsockname()[1])
        assert len(sockets) == 1 and len(local_ports) == 1
    finally:
        connection.close()


def test_keep_alive_sequential_requests_on_raw_socket(server):
    with server.raw() as connection:
        for _ in range(3):
            response = connection.exchange(get_request("/healthz"))
            assert response.status == 200 and response.json() == {"status": "ok"}
            assert not response.closes()
        assert not connection.eof


def test_keep_alive_with_curl_reuses_the_connection(server):
    result = curl("-v", f"{server.url}/healthz", f"{server.url}/readyz")
    assert result.returncode == 0, result.stderr
    assert b"Re-using existing connection" in result.stderr, result.stderr.decode()
    assert result.stdout == b'{"status":"ok"}{"status":"ready"}'


def test_pipelined_requests_are_answered_in_order(server):
    with server.raw() as connection:
        connection.send(
            get_request("/healthz", headers={"X-Request-Id": "pipe-1"})
            + get_request("/nowhere", headers={"X-Request-Id": "pipe-2"})
            + get_request("/readyz", headers={"X-Request-Id": "pipe-3", "Connection": "close"})
        )
        first = connection.read_response()
        second = connection.read_response()
        third = connection.read_response()
        assert (first.status, first.header("X-Request-Id")) == (200, "pipe-1"), first.describe()
        assert (second.status, second.header("X-Request-Id")) == (404, "pipe-2"), second.describe()
        assert (third.status, third.header("X-Request-Id")) == (200, "pipe-3"), third.describe()
        assert first.json() == {"status": "ok"} and third.json() == {"status": "ready"}
        assert_json_error(second, 404)
        assert third.closes(), third.describe()
        assert connection.wait_closed() == b""


def test_head_has_headers_and_no_body(server):
    get = server.get("/healthz")
    with server.raw() as connection:
        # A GET pipelined behind the HEAD: if the HEAD response carried a body, the GET's response would not
        # start where the parser expects it.
        connection.send(get_request("/healthz", method="HEAD") + get_request("/healthz"))
        head = connection.read_response("HEAD")
        after = connection.read_response()
    assert head.status == 200, head.describe()
    assert head.header("Content-Length") == get.header("Content-Length") == "15"
    assert (head.header("Content-Type") or "").startswith("application/json")
    assert after.status == 200 and after.json() == {"status": "ok"}, after.describe()


def test_head_with_http_client(server):
    response = server.request("HEAD", "/healthz")
    assert response.status == 200 and response.body == b""
    assert response.header("Content-Length") == "15"


def test_http10_without_keep_alive_closes(server):
    with server.raw() as connection:
        connection.send(b"GET /healthz HTTP/1.0\r\n\r\n")
        response = connection.read_response()
        assert response.status == 200 and response.json() == {"status": "ok"}, response.describe()
        assert "chunked" not in (response.header("Transfer-Encoding") or "").lower()
        assert "keep-alive" not in response.connection_tokens()
        assert connection.wait_closed() == b""


def test_http10_keep_alive_is_honoured(server):
    with server.raw() as connection:
        for _ in range(2):
            connection.send(b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            response = connection.read_response()
            assert response.status == 200 and response.json() == {"status": "ok"}, response.describe()
            assert "keep-alive" in response.connection_tokens(), response.describe()
            assert response.header("Content-Length") == "15"
        assert not connection.eof


def test_http10_with_curl(server):
    plain = curl("-0", "-i", f"{server.url}/healthz")
    assert plain.returncode == 0, plain.stderr
    assert re.match(rb"HTTP/1\.[01] 200", plain.stdout), plain.stdout
    assert plain.stdout.endswith(b'{"status":"ok"}')

    kept = curl("-0", "-v", "-H", "Connection: keep-alive", f"{server.url}/healthz", f"{server.url}/healthz")
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout == b'{"status":"ok"}' * 2
    assert b"Re-using existing connection" in kept.stderr, kept.stderr.decode()


def test_valid_request_id_is_echoed(server):
    request_id = "client-42_abc.DEF:9"
    response = server.get("/healthz", headers={"X-Request-Id": request_id})
    assert response.header("X-Request-Id") == request_id
    assert server.wait_for_access(request_id)["path"] == "/healthz"


def test_request_id_is_generated_when_missing_or_invalid(server):
    first = server.get("/healthz").header("X-Request-Id")
    second = server.get("/healthz").header("X-Request-Id")
    assert first and REQUEST_ID.fullmatch(first), first
    assert second and REQUEST_ID.fullmatch(second), second
    assert first != second

    for bad in ["has spaces in it", "x" * 400, "semi;colon<tag>"]:
        replaced = server.get("/healthz", headers={"X-Request-Id": bad}).header("X-Request-Id")
        assert replaced and replaced != bad and REQUEST_ID.fullmatch(replaced), (bad, replaced)


def test_unknown_path_is_404_json(server):
    response = server.get("/no/such/thing")
    assert_json_error(response, 404)
    assert response.header("X-Request-Id")


def test_post_healthz_is_405_with_allow(server):
    response = server.request("POST", "/healthz", body=b"x=1", headers={"Content-Type": "text/plain"})
    assert_json_error(response, 405)
    allow = {method.strip() for method in (response.header("Allow") or "").split(",")}
    assert allow == {"GET", "HEAD", "OPTIONS"}, response.describe()


def test_post_healthz_405_with_curl(server):
    result = curl("-i", "-X", "POST", "--data-binary", "abc", f"{server.url}/healthz")
    assert result.returncode == 0, result.stderr
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 405"), head
    assert re.search(rb"(?im)^allow: *GET, *HEAD, *OPTIONS\r?$", head), head
    assert json.loads(body)["error"]["code"]


def test_options_lists_allowed_methods(server):
    response = server.request("OPTIONS", "/healthz")
    assert response.status in (200, 204), response.describe()
    allow = {method.strip() for method in (response.header("Allow") or "").split(",")}
    assert {"GET", "HEAD", "OPTIONS"} <= allow, response.describe()
    assert "POST" not in allow


def test_expect_100_continue_with_curl(server):
    result = curl(
        "-v", "-X", "POST", "-H", "Expect: 100-continue", "-H", "Content-Type: application/octet-stream",
        "--data-binary", "x" * 2000, f"{server.url}/healthz",
    )
    assert result.returncode == 0, result.stderr
    log = result.stderr.decode()
    interim = log.find("< HTTP/1.1 100 Continue")
    final = log.find("< HTTP/1.1 405")
    assert interim >= 0, log
    assert final > interim, log
    assert json.loads(result.stdout)["error"]["code"]


def test_expect_100_continue_on_raw_socket(server):
    with server.raw() as connection:
        connection.send(
            b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        # The client waits for the interim response before sending the body, as a real client would.
        interim = connection.read_response()
        assert interim.status == 100, interim.describe()
        connection.send(b"hello")
        final = connection.read_response()
        assert_json_error(final, 405)
        if not final.closes():
            # The body was consumed, so the connection is still usable.
            again = connection.exchange(get_request("/healthz"))
            assert again.status == 200, again.describe()


def test_request_bodies_are_framed_correctly(server):
    """Bodies by Content-Length and chunked (with an extension and a trailer), each followed on the same
    connection, in the same write, by another request: the server must consume exactly the body."""
    chunked = (
        b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6;name=value\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n"
    )
    sized = b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world"
    with server.raw() as connection:
        for request in (chunked, sized):
            connection.send(request + get_request("/healthz", headers={"X-Request-Id": "after-body"}))
            first = connection.read_response()
            assert_json_error(first, 405)
            assert not first.closes(), first.describe()
            second = connection.read_response()
            assert second.status == 200 and second.header("X-Request-Id") == "after-body", second.describe()


def test_get_with_chunked_body_then_next_request(server):
    with server.raw() as connection:
        connection.send(
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n0\r\n\r\n" + get_request("/readyz")
        )
        first = connection.read_response()
        second = connection.read_response()
        assert first.status == 200 and first.json() == {"status": "ok"}, first.describe()
        assert second.status == 200 and second.json() == {"status": "ready"}, second.describe()


def test_access_log_line(server):
    server.get("/healthz", headers={"X-Request-Id": "access-1"})
    server.get("/absent?q=1", headers={"X-Request-Id": "access-2"})
    entry = server.wait_for_access("access-1")
    assert entry.get("level") == "info", entry
    assert entry.get("msg") == "request", entry
    assert entry["method"] == "GET" and entry["path"] == "/healthz", entry
    assert str(entry["status"]) == "200" and str(entry["bytes"]) == "15", entry
    assert float(entry["duration_ms"]) >= 0, entry
    assert entry.get("remote") == HOST, entry
    missing = server.wait_for_access("access-2")
    assert str(missing["status"]) == "404" and missing["path"].startswith("/absent"), missing


def test_json_log_format(start_server):
    server = start_server(args=["--log-format", "json"])
    server.get("/healthz", headers={"X-Request-Id": "json-1"})
    entry = server.wait_for_access("json-1")
    assert entry["method"] == "GET" and entry["path"] == "/healthz" and str(entry["status"]) == "200", entry
    lines = [line for line in server.log_text().splitlines() if line.strip()]
    assert lines
    for line in lines:
        assert isinstance(json.loads(line), dict), line
    assert any("listening" in line for line in lines), lines
