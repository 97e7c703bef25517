"""Request limits and protocol errors: every refusal has the right status, a JSON error body, and closes only
the connection that misbehaved."""

from __future__ import annotations

import time

import pytest

from helpers import RawConnection, assert_json_error, get_request, wait_until


def refuse_and_close(connection: RawConnection, request: bytes, status: int):
    """Send `request`; the answer is `status` with a JSON error and `Connection: close`, then the server closes."""
    connection.try_send(request)
    response = connection.read_response()
    assert_json_error(response, status)
    assert response.closes(), response.describe()
    assert response.header("Date"), response.describe()
    connection.wait_closed()
    return response


# -- bodies ------------------------------------------------------------------------------------------------------


def test_413_by_content_length_is_sent_after_the_head_alone(start_server):
    server = start_server(env={"CHAT_HTTP_MAX_BODY": "1k"})
    with server.raw() as connection:
        # Only the head: the server must answer without waiting for (or reading) the announced megabyte.
        connection.send(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n")
        assert connection.readable(10), "no answer to an oversized Content-Length before the body was sent"
        response = connection.read_response()
        assert_json_error(response, 413)
        assert response.closes(), response.describe()
        connection.wait_closed()
    assert server.get("/healthz").status == 200


def test_body_at_the_limit_is_accepted(start_server):
    server = start_server(env={"CHAT_HTTP_MAX_BODY": "1k"})
    with server.raw() as connection:
        response = connection.exchange(
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n" + b"b" * 1024
        )
        assert response.status == 200, response.describe()


def test_413_for_chunked_body(start_server):
    server = start_server(env={"CHAT_HTTP_MAX_BODY": "1k"})
    chunk = b"258\r\n" + b"c" * 600 + b"\r\n"  # 0x258 = 600
    with server.raw() as connection:
        # Two chunks exceed 1 KiB; no terminating chunk, so everything sent is read before the refusal.
        refuse_and_close(
            connection, b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 2, 413
        )


# -- request line and head ---------------------------------------------------------------------------------------


def test_414_for_long_request_line(server):
    with server.raw() as connection:
        refuse_and_close(connection, get_request("/" + "a" * 9000), 414)


def test_request_line_below_the_limit_is_fine(server):
    with server.raw() as connection:
        response = connection.exchange(get_request("/" + "a" * 8000))
        assert_json_error(response, 404)


def test_431_for_large_header(server):
    with server.raw() as connection:
        refuse_and_close(connection, get_request("/healthz", headers={"X-Big": "v" * (40 * 1024)}), 431)


def test_431_for_too_many_headers(server):
    headers = {f"X-Header-{index}": "1" for index in range(101)}
    with server.raw() as connection:
        refuse_and_close(connection, get_request("/healthz", headers=headers), 431)


def test_many_headers_below_the_limit_are_fine(server):
    headers = {f"X-Header-{index}": "1" for index in range(90)}
    with server.raw() as connection:
        assert connection.exchange(get_request("/healthz", headers=headers)).status == 200


MALFORMED = {
    "garbage": b"GARBAGE\r\n\r\n",
    "header-without-colon": b"GET /healthz HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
    "space-before-colon": b"GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n",
    "extra-request-line-token": b"GET /healthz HTTP/1.1 extra\r\nHost: x\r\n\r\n",
    "bad-version": b"GET /healthz HTTX/1.1\r\nHost: x\r\n\r\n",
    "non-numeric-length": b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    "negative-length": b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    "bad-chunk-size": b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhi\r\n0\r\n\r\n",
    "length-and-chunked": (
        b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\n"
    ),
    "two-different-lengths": b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
    "length-list": b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_requests_get_400_and_close(server, name):
    with server.raw() as connection:
        refuse_and_close(connection, MALFORMED[name], 400)


def test_smuggled_request_after_cl_te_conflict_is_not_served(server):
    """The classic CL.TE smuggling shape: whatever the server makes of it, the hidden request must not be
    answered on this connection."""
    smuggled = get_request("/readyz", headers={"X-Request-Id": "smuggled"})
    body = b"0\r\n\r\n" + smuggled
    request = (
        b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % len(body)
        + body
    )
    with server.raw() as connection:
        connection.try_send(request)
        response = connection.read_response()
        assert_json_error(response, 400)
        rest = connection.wait_closed()
        assert b"smuggled" not in rest and b"HTTP/1.1" not in rest, rest


def test_501_for_unknown_method(server):
    with server.raw() as connection:
        response = connection.exchange(get_request("/healthz", method="PROPFIND"))
        assert_json_error(response, 501)


def test_505_for_http2_request_line(server):
    with server.raw() as connection:
        connection.send(get_request("/healthz", version="HTTP/2.0"))
        response = connection.read_response()
        assert_json_error(response, 505)


# -- timeouts ----------------------------------------------------------------------------------------------------


def test_slow_header_gets_408_and_close(start_server):
    server = start_server(env={"CHAT_HTTP_HEADER_TIMEOUT": "1", "CHAT_HTTP_IDLE_TIMEOUT": "60"})
    with server.raw() as connection:
        connection.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        # Keep trickling header bytes (each arrival would reset a naive per-read timer) until the server answers.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not connection.readable(0.2):
            if not connection.try_send(b"X"):
                break
        assert connection.readable(0), "no answer within 10 s to a head that never completes"
        response = connection.read_response()
        assert_json_error(response, 408)
        assert response.closes(), response.describe()
        connection.wait_closed()
    assert server.get("/healthz").status == 200


def test_idle_keep_alive_connection_is_closed(start_server):
    server = start_server(env={"CHAT_HTTP_IDLE_TIMEOUT": "1", "CHAT_HTTP_HEADER_TIMEOUT": "60"})
    with server.raw() as connection:
        for _ in range(2):
            response = connection.exchange(get_request("/healthz"))
            assert response.status == 200 and not response.closes(), response.describe()
        leftover = connection.wait_closed(10)
        # Closing an idle connection may be silent or carry a 408, but never anything else.
        assert leftover == b"" or leftover.startswith(b"HTTP/1.1 408"), leftover


def test_idle_timeout_from_millisecond_setting(start_server):
    server = start_server(env={"CHAT_HTTP_IDLE_TIMEOUT": "500ms", "CHAT_HTTP_HEADER_TIMEOUT": "60s"})
    with server.raw() as connection:
        assert connection.exchange(get_request("/healthz")).status == 200
        connection.wait_closed(10)


# -- connection limits -------------------------------------------------------------------------------------------


def test_max_connections_gives_503_then_recovers(start_server):
    server = start_server(env={"CHAT_SERVER_MAX_CONNECTIONS": "2"})

    def admitted_connection():
        # The readiness probe's connection may not be released yet when the test starts: retry until a slot is
        # free rather than racing the server's close handling.
        holder = []

        def attempt():
            connection = server.raw()
            try:
                if connection.exchange(get_request("/healthz")).status == 200:
                    holder.append(connection)
                    return True
            except (EOFError, OSError):
                pass
            connection.close()
            return False

        wait_until(attempt, message="a connection to be admitted")
        return holder[0]

    first = admitted_connection()
    second = admitted_connection()
    try:

        with server.raw() as third:
            if not third.readable(1):
                third.try_send(get_request("/healthz"))
            response = third.read_response()
            assert_json_error(response, 503)
            assert response.closes(), response.describe()
            third.wait_closed()

        # The two admitted connections are unaffected.
        for connection in (first, second):
            assert connection.exchange(get_request("/healthz")).status == 200

        first.close()

        def admitted():
            with server.raw() as fourth:
                fourth.try_send(get_request("/healthz"))
                try:
                    return fourth.read_response().status == 200
                except EOFError:
                    return False

        wait_until(admitted, message="a connection to be admitted after one of the two closed")
        assert second.exchange(get_request("/healthz")).status == 200
    finally:
        first.close()
        second.close()


def test_bad_request_closes_only_its_own_connection(server):
    with server.raw() as good, server.raw() as bad:
        assert good.exchange(get_request("/healthz")).status == 200
        refuse_and_close(bad, b"NONSENSE\r\n\r\n", 400)
        response = good.exchange(get_request("/readyz"))
        assert response.status == 200 and response.json() == {"status": "ready"}, response.describe()
