"""Blob store, Upload API with `file` given as an http(s) URL (remote fetch): off by default; when on, only http and
https, never to private, loopback, link-local or reserved addresses outside `remote_fetch_allow` (checked before
connecting, and again for every redirect), no credentials in the URL, redirects up to `remote_fetch_max_redirects`,
the resource type's size limit whether the peer sends a length or not, one timeout for the whole fetch, and https
verified against `remote_fetch_ca_file` (or the system's store).

Every test starts its own peers: `Peer` is an HTTP (or, with an `ssl` context, HTTPS) server on loopback in a thread
that answers from a table of routes and records every connection it accepted and every request it read, so a test
can tell that the server under test never reached it. Certificates for the https tests are made with the `openssl`
command in the test's temporary directory.
"""

from __future__ import annotations

import http.server
import os
import select
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import cloudinary.uploader as uploader
import pytest
from cloudinary.exceptions import BadRequest

from blobhelpers import (  # noqa: F401
    assert_cloudinary_error,
    assert_upload_answer,
    blobs,
    md5,
    multipart,
    png_bytes,
    signed,
    start_blobs,
)
from helpers import HOST, WAIT, Response, free_port, run_chat, wait_until

# Remote fetch on, for the peers of these tests (127.0.0.1), with a timeout that keeps a wrong answer short.
FETCH_ENV = {
    "CHAT_BLOBS_REMOTE_FETCH": "true",
    "CHAT_BLOBS_REMOTE_FETCH_ALLOW": "127.0.0.1/32",
    "CHAT_BLOBS_REMOTE_FETCH_TIMEOUT": "5s",
}

TLS_ALLOW = "127.0.0.1/32,::1/128"


# --------------------------------------------------------------------------------------------------------------
# Peers: HTTP(S) servers on loopback that record what reached them


@dataclass
class Seen:
    """One request a peer read: method, request target (as sent) and headers."""

    method: str
    target: str
    headers: list[tuple[str, str]]

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.server.peer._dispatch(self)

    do_HEAD = do_POST = do_GET

    def log_message(self, *args):
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def __init__(self, peer: "Peer", family: int, address: tuple[str, int]):
        self.peer = peer
        self.address_family = family
        super().__init__(address, _Handler)

    def server_bind(self):
        # HTTPServer.server_bind looks the host name up (getfqdn), which can take long for ::1.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.peer.host, self.server_address[1]

    def verify_request(self, request, client_address) -> bool:
        with self.peer.lock:
            self.peer.connections += 1
        return True

    def finish_request(self, request, client_address):
        if self.peer.tls is None:
            return super().finish_request(request, client_address)
        request.settimeout(WAIT)
        try:
            wrapped = self.peer.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as error:
            with self.peer.lock:
                self.peer.tls_failures.append(repr(error))
            return
        try:
            self.RequestHandlerClass(wrapped, client_address, self)
        finally:
            wrapped.close()

    def handle_error(self, request, client_address):
        # A client that went away mid-request is expected (the size and timeout tests); anything else is a bug here.
        if not isinstance(sys.exc_info()[1], OSError):
            with self.peer.lock:
                self.peer.errors.append(traceback.format_exc())


class Peer:
    """An HTTP server on `host` (HTTPS with `tls`, an `ssl.SSLContext`) answering from `routes` (path without the
    query -> route, see below; anything else is 404). `connections` counts the TCP connections it accepted,
    `requests` the requests it read, `hung_up` the connections the client closed while a route still held them,
    `tls_failures` the failed handshakes, `errors` the peer's own failures. `name` is the host its URLs use (default:
    the address)."""

    def __init__(self, routes: dict, *, host: str = HOST, tls: ssl.SSLContext | None = None, name: str | None = None):
        self.routes = dict(routes)
        self.host = host
        self.tls = tls
        self.family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.name = name or (f"[{host}]" if ":" in host else host)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.connections = 0
        self.requests: list[Seen] = []
        self.hung_up = 0
        self.tls_failures: list[str] = []
        self.errors: list[str] = []
        self._server = _Server(self, self.family, (host, 0))
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                         daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def netloc(self) -> str:
        return f"{self.name}:{self.port}"

    def url(self, path: str) -> str:
        return f"{'https' if self.tls else 'http'}://{self.netloc}{path}"

    def start(self) -> "Peer":
        self._thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(WAIT)

    def seen(self) -> list[Seen]:
        with self.lock:
            return list(self.requests)

    def targets(self) -> list[str]:
        return [request.target for request in self.seen()]

    def assert_untouched(self):
        time.sleep(0.2)  # a connection already made has been accepted by then
        with self.lock:
            assert self.connections == 0 and not self.requests, \
                f"the peer on {self.netloc} was reached: {self.connections} connections, requests {self.requests}"

    def _dispatch(self, handler: _Handler):
        with self.lock:
            self.requests.append(Seen(handler.command, handler.path, list(handler.headers.items())))
        route = self.routes.get(urlsplit(handler.path).path) or status_page(404)
        handler.close_connection = True
        try:
            route(handler, self)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self._hung_up()

    def _hung_up(self):
        with self.lock:
            self.hung_up += 1


@pytest.fixture
def start_peer():
    """Factory: `start_peer(routes, host=..., tls=..., name=...)` starts a `Peer`; all are stopped on teardown, which
    fails if a peer itself went wrong (so that a test never blames the server for a broken peer)."""
    peers: list[Peer] = []

    def start(routes: dict | None = None, **options) -> Peer:
        peer = Peer(routes or {}, **options)
        peers.append(peer)
        return peer.start()

    yield start

    for peer in peers:
        peer.stop()
    errors = [error for peer in peers for error in peer.errors]
    if errors:
        pytest.fail("a peer failed:\n" + "\n".join(errors), pytrace=False)


# -- routes: callables (handler, peer) ---------------------------------------------------------------------------


def _head(handler: _Handler, status: int, headers: dict[str, str]):
    handler.send_response(status)
    for key, value in {**headers, "Connection": "close"}.items():
        handler.send_header(key, value)
    handler.end_headers()


def serve(body: bytes, content_type: str = "application/octet-stream", *, chunks: list[int] | None = None):
    """200 with `body`: with a Content-Length, or with `chunks` (sizes, used in turn until the body is sent) in the
    chunked transfer coding, the first chunk with a chunk extension and sizes in upper-case hex."""

    def answer(handler: _Handler, peer: Peer):
        if chunks is None:
            _head(handler, 200, {"Content-Type": content_type, "Content-Length": str(len(body))})
            if handler.command != "HEAD":
                handler.wfile.write(body)
            return
        _head(handler, 200, {"Content-Type": content_type, "Transfer-Encoding": "chunked"})
        offset, index = 0, 0
        while offset < len(body):
            piece = body[offset:offset + chunks[index % len(chunks)]]
            extension = ";part=first" if index == 0 else ""
            handler.wfile.write(f"{len(piece):X}{extension}\r\n".encode() + piece + b"\r\n")
            offset += len(piece)
            index += 1
        handler.wfile.write(b"0\r\n\r\n")

    return answer


def redirect(location: str, status: int = 302):
    def answer(handler: _Handler, peer: Peer):
        _head(handler, status, {"Location": location, "Content-Length": "0"})

    return answer


def status_page(status: int):
    def answer(handler: _Handler, peer: Peer):
        body = f"status {status}\n".encode()
        _head(handler, status, {"Content-Type": "text/plain", "Content-Length": str(len(body))})
        handler.wfile.write(body)

    return answer


def hang(handler: _Handler, peer: Peer):
    """Read the request, never answer; notice when the client closes the connection."""
    sock = handler.connection
    while not peer.stopping.is_set():
        ready, _, _ = select.select([sock], [], [], 0.05)
        if ready:
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                peer._hung_up()
                return


def drip(handler: _Handler, peer: Peer):
    """Announce a megabyte, then send one byte every 50 ms, for as long as the client reads."""
    _head(handler, 200, {"Content-Type": "application/octet-stream", "Content-Length": str(1 << 20)})
    while not peer.stopping.wait(0.05):
        handler.wfile.write(b"x")  # BrokenPipe/ConnectionReset once the client is gone: counted as hung up


# --------------------------------------------------------------------------------------------------------------
# Certificates (openssl CLI)


def openssl(directory: Path, *args: str) -> str:
    result = subprocess.run(["openssl", *args], cwd=directory, capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"openssl {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def make_ca(directory: Path) -> tuple[Path, Path]:
    """A throwaway CA: (certificate, key)."""
    directory.mkdir(parents=True, exist_ok=True)
    openssl(directory, "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=chat e2e throwaway CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return directory / "ca.pem", directory / "ca.key"


def make_server_certificate(directory: Path, ca: tuple[Path, Path], name: str, san: str) -> tuple[Path, Path]:
    """A server certificate signed by `ca` with subject CN `name` and subjectAltName `san` (e.g.
    `DNS:localhost,IP:127.0.0.1`): (certificate, key)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "server.ext").write_text("basicConstraints=critical,CA:FALSE\n"
                                          "keyUsage=critical,digitalSignature\n"
                                          "extendedKeyUsage=serverAuth\n"
                                          f"subjectAltName={san}\n")
    openssl(directory, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={name}")
    openssl(directory, "x509", "-req", "-in", "server.csr", "-CA", str(ca[0]), "-CAkey", str(ca[1]),
            "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "2", "-extfile", "server.ext",
            "-out", "server.pem")
    return directory / "server.pem", directory / "server.key"


def tls_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(certificate[0]), str(certificate[1]))
    return context


@pytest.fixture
def pki(tmp_path):
    """A CA, a certificate it signed for `localhost` and 127.0.0.1 (`good`), and one for `other.test` only
    (`other`); each checked with `openssl verify` so that a failing test is about the server, not the files."""
    ca = make_ca(tmp_path / "pki")
    good = make_server_certificate(tmp_path / "pki" / "good", ca, "localhost", "DNS:localhost,IP:127.0.0.1")
    other = make_server_certificate(tmp_path / "pki" / "other", ca, "other.test", "DNS:other.test")
    openssl(tmp_path, "verify", "-CAfile", str(ca[0]), "-verify_hostname", "localhost", str(good[0]))
    openssl(tmp_path, "verify", "-CAfile", str(ca[0]), "-verify_ip", "127.0.0.1", str(good[0]))
    openssl(tmp_path, "verify", "-CAfile", str(ca[0]), "-verify_hostname", "other.test", str(other[0]))
    return {"ca": ca[0], "good": good, "other": other}


# --------------------------------------------------------------------------------------------------------------
# The server under test


@pytest.fixture
def start_fetching(start_blobs):
    """Factory: `start_fetching(env=...)` starts a blob server with `FETCH_ENV` plus `env` (None drops a setting,
    leaving the server's default)."""

    def start(*, env: dict[str, str | None] | None = None, **options):
        return start_blobs(env={**FETCH_ENV, **(env or {})}, **options)

    return start


def post_url(blobs, url: str, resource_type: str = "image", **params) -> Response:
    """A signed upload whose `file` is the text field `url` (by hand: the answer's status and body are checked)."""
    fields = signed({"timestamp": int(time.time()), **params}) | {"file": url}
    return blobs.post_form(blobs.api_path("upload", resource_type), fields)


def assert_nothing_stored(blobs):
    assert blobs.blob_files() == [], f"refused fetches left blobs: {blobs.blob_files()}"
    leftovers = [path for path in (blobs.server.data_dir / "blobs" / "tmp").rglob("*") if path.is_file()]
    assert not leftovers, f"refused fetches left temporary files: {leftovers}"
    connection = blobs.server.db()
    try:
        assert connection.execute("SELECT count(*) FROM assets").fetchone()[0] == 0, "a refused fetch left an asset"
    finally:
        connection.close()


def refused(blobs, url: str, *needles: str, resource_type: str = "image", **params) -> str:
    """The upload of `url` is a 400 whose message contains every needle, and nothing is stored; returns the message."""
    message = assert_cloudinary_error(post_url(blobs, url, resource_type, **params), 400, *needles)
    assert_nothing_stored(blobs)
    return message


def sdk_refused(url: str, *needles: str, **options) -> str:
    """`uploader.upload(url)` raises BadRequest (a 400) whose message contains every needle."""
    with pytest.raises(BadRequest) as caught:
        uploader.upload(url, timeout=30, **options)
    message = str(caught.value)
    for needle in needles:
        assert needle.lower() in message.lower(), f"{needle!r} not in {message!r}"
    return message


def assert_message_names(message: str, *alternatives: str):
    """The message names the host, in one of its spellings."""
    assert any(alternative.lower() in message.lower() for alternative in alternatives), \
        f"none of {alternatives} in {message!r}"


# --------------------------------------------------------------------------------------------------------------
# Off


def test_remote_fetch_is_disabled_by_default(blobs, start_peer):
    peer = start_peer({"/pic.png": serve(png_bytes(3, 3))})
    sdk_refused(peer.url("/pic.png"), "Remote fetch is disabled")
    refused(blobs, peer.url("/pic.png?v=1"), "Remote fetch is disabled")
    refused(blobs, f"https://{HOST}:{peer.port}/pic.png", "Remote fetch is disabled")
    refused(blobs, peer.url("/pic.png"), "Remote fetch is disabled", resource_type="raw")
    peer.assert_untouched()


def test_remote_fetch_false_stays_disabled_with_an_allow_list(start_fetching, start_peer):
    peer = start_peer({"/pic.png": serve(png_bytes(3, 3))})
    blobs = start_fetching(env={"CHAT_BLOBS_REMOTE_FETCH": "false"})
    sdk_refused(peer.url("/pic.png"), "Remote fetch is disabled")
    refused(blobs, peer.url("/pic.png"), "Remote fetch is disabled")
    peer.assert_untouched()


# --------------------------------------------------------------------------------------------------------------
# Which URLs are fetched


def test_schemes_other_than_http_and_https_are_refused(start_fetching, start_peer):
    peer = start_peer({"/x.png": serve(png_bytes(3, 3))})
    blobs = start_fetching()
    sdk_refused(f"ftp://{HOST}:{peer.port}/x.png", "http and https")
    refused(blobs, f"ftp://{HOST}:{peer.port}/x.png", "http and https")
    refused(blobs, "ftp://127.0.0.1/x", "http and https")
    peer.assert_untouched()


def test_loopback_host_outside_the_allow_list_is_refused_before_connecting(start_fetching, start_peer):
    peer = start_peer({"/pic.png": serve(png_bytes(3, 3))})
    blobs = start_fetching(env={"CHAT_BLOBS_REMOTE_FETCH_ALLOW": None})  # the default: nothing allowed
    message = sdk_refused(peer.url("/pic.png"), "Remote fetch refused")
    assert_message_names(message, HOST)
    message = refused(blobs, peer.url("/pic.png"), "Remote fetch refused")
    assert_message_names(message, HOST)
    # A name that resolves to loopback.
    message = refused(blobs, f"http://localhost:{peer.port}/pic.png", "Remote fetch refused")
    assert_message_names(message, "localhost")
    peer.assert_untouched()


@pytest.mark.parametrize("template, spellings", [
    ("http://10.1.2.3/x.png", ("10.1.2.3",)),
    ("http://172.16.5.4/x.png", ("172.16.5.4",)),
    ("http://192.168.0.1/x.png", ("192.168.0.1",)),
    ("http://169.254.169.254/latest/meta-data", ("169.254.169.254",)),
    ("http://127.8.9.10:{port}/x.png", ("127.8.9.10",)),
    ("http://0.0.0.0:{port}/x.png", ("0.0.0.0",)),
    ("http://[::1]:{port6}/x", ("::1",)),
    ("http://[::ffff:127.0.0.1]:{port}/x", ("127.0.0.1", "7f00:1")),
    ("http://[fd12:3456::1]/x.png", ("fd12:3456::1",)),
    ("http://[fe80::1]/x.png", ("fe80::1",)),
], ids=["10/8", "172.16/12", "192.168/16", "metadata", "127/8", "0.0.0.0", "ipv6-loopback", "ipv4-mapped",
        "ipv6-ula", "ipv6-link-local"])
def test_private_and_special_addresses_are_refused(start_fetching, start_peer, template, spellings):
    # Peers where the loopback ones would land, to see that nothing reached them.
    peer = start_peer({"/x": serve(png_bytes(3, 3)), "/x.png": serve(png_bytes(3, 3))})
    peer6 = start_peer({"/x": serve(png_bytes(3, 3))}, host="::1")
    blobs = start_fetching(env={"CHAT_BLOBS_REMOTE_FETCH_ALLOW": None, "CHAT_BLOBS_REMOTE_FETCH_TIMEOUT": "2s"})
    url = template.format(port=peer.port, port6=peer6.port)
    message = refused(blobs, url, "Remote fetch refused")
    assert_message_names(message, *spellings)
    peer.assert_untouched()
    peer6.assert_untouched()


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "localhost."])
def test_other_spellings_of_loopback_never_reach_the_peer(start_fetching, start_peer, host):
    # Whatever the server makes of these (refused as loopback, or as not an address), it must not connect.
    peer = start_peer({"/pic.png": serve(png_bytes(3, 3))})
    blobs = start_fetching(env={"CHAT_BLOBS_REMOTE_FETCH_ALLOW": None, "CHAT_BLOBS_REMOTE_FETCH_TIMEOUT": "2s"})
    refused(blobs, f"http://{host}:{peer.port}/pic.png")
    peer.assert_untouched()


def test_allow_list_admits_only_the_listed_networks(start_fetching, start_peer):
    data = png_bytes(4, 4, seed=9)
    allowed = start_peer({"/pic.png": serve(data)})
    other_loopback = start_peer({"/pic.png": serve(data)}, host="127.0.0.2")
    loopback6 = start_peer({"/pic.png": serve(data)}, host="::1")
    blobs = start_fetching(env={"CHAT_BLOBS_REMOTE_FETCH_ALLOW": "127.0.0.1/32"})
    for url, host in ((other_loopback.url("/pic.png"), "127.0.0.2"), (loopback6.url("/pic.png"), "::1"),
                      (f"http://0.0.0.0:{allowed.port}/pic.png", "0.0.0.0")):
        assert_message_names(refused(blobs, url, "Remote fetch refused"), host)
    other_loopback.assert_untouched()
    loopback6.assert_untouched()
    allowed.assert_untouched()
    # 127.0.0.1 itself is fetched.
    answer = uploader.upload(allowed.url("/pic.png"), timeout=30)
    assert_upload_answer(answer, data, format="png", width=4, height=4)


def test_urls_with_credentials_are_refused(start_fetching, start_peer):
    peer = start_peer({"/x.png": serve(png_bytes(3, 3))})
    blobs = start_fetching()
    sdk_refused(f"http://user:pass@{HOST}:{peer.port}/x.png", "credentials")
    refused(blobs, f"http://user:pass@{HOST}:{peer.port}/x.png", "credentials")
    refused(blobs, f"http://user@{HOST}:{peer.port}/x.png", "credentials")
    peer.assert_untouched()


# --------------------------------------------------------------------------------------------------------------
# Fetching


def test_fetches_a_png_from_an_allowed_http_url(start_fetching, start_peer):
    data = png_bytes(13, 6, seed=4)
    # The peer's Content-Type says nothing: the format comes from the bytes.
    peer = start_peer({"/img/pic.png": serve(data, "application/octet-stream")})
    blobs = start_fetching()
    answer = uploader.upload(peer.url("/img/pic.png?v=3&size=large"), timeout=30)

    assert_upload_answer(answer, data, resource_type="image", type="upload", format="png", width=13, height=6)
    assert answer["bytes"] == len(data) and answer["etag"] == md5(data), answer
    assert answer["original_filename"] == "pic", answer
    assert blobs.download(answer["secure_url"]) == data
    assert blobs.download(answer["url"]) == data
    assert len(blobs.blob_files()) == 1

    gets = [request for request in peer.seen() if request.method == "GET"]
    assert len(gets) == 1, peer.seen()
    assert gets[0].target == "/img/pic.png?v=3&size=large", gets[0]
    assert gets[0].header("Host") == f"{HOST}:{peer.port}", gets[0]
    assert "chat" in (gets[0].header("User-Agent") or "").lower(), gets[0]


def test_fetched_file_takes_the_upload_parameters(start_fetching, start_peer):
    data = png_bytes(5, 8, seed=2)
    peer = start_peer({"/a/photo.png": serve(data, "image/png")})
    blobs = start_fetching()
    answer = uploader.upload(peer.url("/a/photo.png"), public_id="avatar", folder="people", tags=["remote"],
                             timeout=30)
    assert_upload_answer(answer, data, format="png", width=5, height=8)
    assert answer["public_id"] == "people/avatar" and answer["tags"] == ["remote"], answer
    assert blobs.download(blobs.url("people/avatar", format="png", version=answer["version"])) == data


def test_chunked_body_is_decoded(start_fetching, start_peer):
    data = os.urandom(50_000)
    peer = start_peer({"/blob.bin": serve(data, chunks=[1, 7, 0x1A3, 4096, 3, 16384])})
    blobs = start_fetching(env={"CHAT_BLOBS_MAX_RAW_BYTES": "100k"})
    answer = uploader.upload(peer.url("/blob.bin"), resource_type="raw", timeout=30)
    assert_upload_answer(answer, data, resource_type="raw")
    assert blobs.download(answer["url"]) == data
    # And an image sent chunked.
    picture = png_bytes(9, 9, seed=7)
    peer.routes["/pic.png"] = serve(picture, "image/png", chunks=[5, 50])
    answer = uploader.upload(peer.url("/pic.png"), timeout=30)
    assert_upload_answer(answer, picture, format="png", width=9, height=9)
    assert blobs.download(answer["url"]) == picture


# --------------------------------------------------------------------------------------------------------------
# Redirects


def test_redirect_to_an_allowed_url_is_followed(start_fetching, start_peer):
    final = png_bytes(6, 6, seed=11)
    second = start_peer({"/moved": redirect("/files/final.png", 301), "/files/final.png": serve(final)})
    first = start_peer({"/old.png": redirect(second.url("/moved"), 302), "/files/final.png": serve(png_bytes(2, 2))})
    blobs = start_fetching()
    answer = uploader.upload(first.url("/old.png"), timeout=30)
    assert_upload_answer(answer, final, format="png", width=6, height=6)
    assert blobs.download(answer["url"]) == final
    assert first.targets() == ["/old.png"], first.seen()
    assert second.targets() == ["/moved", "/files/final.png"], second.seen()
    # Every hop names its own host.
    assert first.seen()[0].header("Host") == first.netloc
    assert [request.header("Host") for request in second.seen()] == [second.netloc] * 2


@pytest.mark.parametrize("target", ["private", "loopback-not-allowed"])
def test_redirect_to_an_address_outside_the_allow_list_is_refused(start_fetching, start_peer, target):
    inner = start_peer({"/x.png": serve(png_bytes(3, 3))}, host="::1")
    location = "http://10.9.8.7/x" if target == "private" else inner.url("/x.png")
    peer = start_peer({"/go.png": redirect(location)})
    blobs = start_fetching(env={"CHAT_BLOBS_REMOTE_FETCH_TIMEOUT": "2s"})
    message = refused(blobs, peer.url("/go.png"), "Remote fetch refused")
    assert_message_names(message, "10.9.8.7" if target == "private" else "::1")
    assert peer.targets() == ["/go.png"]
    inner.assert_untouched()


def test_redirect_loop_is_refused(start_fetching, start_peer):
    peer = start_peer()
    peer.routes["/loop.png"] = redirect(peer.url("/loop.png"))
    blobs = start_fetching()  # max_redirects: the default (3)
    sdk_refused(peer.url("/loop.png"), "too many redirects")
    refused(blobs, peer.url("/loop.png"), "too many redirects")
    assert len(peer.seen()) <= 2 * (3 + 1), peer.targets()


def test_more_redirects_than_max_redirects_are_refused(start_fetching, start_peer):
    data = png_bytes(3, 5, seed=3)
    peer = start_peer({"/end.png": serve(data)})
    for hop in range(1, 4):  # /r1 -> /end.png, /r2 -> /r1, /r3 -> /r2
        peer.routes[f"/r{hop}"] = redirect(peer.url(f"/r{hop - 1}" if hop > 1 else "/end.png"))
    blobs = start_fetching(env={"CHAT_BLOBS_REMOTE_FETCH_MAX_REDIRECTS": "2"})

    # Three redirects: past the limit; the end is never requested.
    refused(blobs, peer.url("/r3"), "too many redirects")
    assert "/end.png" not in peer.targets(), peer.targets()
    # Two: within it.
    answer = uploader.upload(peer.url("/r2"), timeout=30)
    assert_upload_answer(answer, data, format="png", width=3, height=5)


def test_max_redirects_zero_follows_none(start_fetching, start_peer):
    data = png_bytes(3, 5, seed=3)
    peer = start_peer({"/end.png": serve(data)})
    peer.routes["/r1"] = redirect(peer.url("/end.png"))
    blobs = start_fetching(env={"CHAT_BLOBS_REMOTE_FETCH_MAX_REDIRECTS": "0"})
    refused(blobs, peer.url("/r1"), "too many redirects")
    assert peer.targets() == ["/r1"]
    assert_upload_answer(uploader.upload(peer.url("/end.png"), timeout=30), data)


# --------------------------------------------------------------------------------------------------------------
# The peer's answer


@pytest.mark.parametrize("status", [404, 403, 500])
def test_error_status_from_the_remote_is_reported(start_fetching, start_peer, status):
    peer = start_peer({"/gone.png": status_page(status)})
    blobs = start_fetching()
    refused(blobs, peer.url("/gone.png"), "Error in loading", str(status))
    if status == 404:
        sdk_refused(peer.url("/gone.png"), "Error in loading", "404")


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_body_over_the_size_limit_is_refused(start_fetching, start_peer, framing):
    big = os.urandom(200 * 1024)
    peer = start_peer({"/big.bin": serve(big, chunks=None if framing == "content-length" else [8192])})
    blobs = start_fetching(env={"CHAT_BLOBS_MAX_RAW_BYTES": "100k"})
    refused(blobs, peer.url("/big.bin"), "File size too large", resource_type="raw")
    sdk_refused(peer.url("/big.bin"), "File size too large", resource_type="raw")
    assert_nothing_stored(blobs)
    # Within the limit the same route works.
    small = big[:50 * 1024]
    peer.routes["/small.bin"] = serve(small, chunks=None if framing == "content-length" else [8192])
    answer = uploader.upload(peer.url("/small.bin"), resource_type="raw", timeout=30)
    assert_upload_answer(answer, small, resource_type="raw")


def test_preset_max_bytes_limits_a_fetch(start_fetching, start_peer):
    small, big = png_bytes(2, 2), png_bytes(40, 40, random_pixels=True)
    assert len(small) < 2000 < len(big)
    peer = start_peer({"/big.png": serve(big), "/small.png": serve(small)})
    blobs = start_fetching()
    refused(blobs, peer.url("/big.png"), "File size too large", upload_preset="pngonly")  # max_bytes=2000
    answer = uploader.upload(peer.url("/small.png"), upload_preset="pngonly", timeout=30)
    assert_upload_answer(answer, small, format="png", width=2, height=2)


def test_unresponsive_remote_times_out(start_fetching, start_peer):
    data = png_bytes(4, 3, seed=6)
    peer = start_peer({"/hang.png": hang, "/pic.png": serve(data)})
    blobs = start_fetching(env={"CHAT_BLOBS_REMOTE_FETCH_TIMEOUT": "1s"})
    refused(blobs, peer.url("/hang.png"), "timed out")
    assert peer.targets() == ["/hang.png"], "the request reached the peer: the timeout ended it"
    wait_until(lambda: peer.hung_up >= 1, message="the timed out connection to be closed")
    # The server is fine afterwards.
    assert blobs.server.get("/healthz").status == 200
    answer = uploader.upload(peer.url("/pic.png"), timeout=30)
    assert_upload_answer(answer, data, format="png", width=4, height=3)


def test_timeout_covers_the_whole_fetch_not_only_silence(start_fetching, start_peer):
    # The peer never goes quiet for long (a byte every 50 ms) but would take far longer than the timeout.
    peer = start_peer({"/slow.bin": drip})
    blobs = start_fetching(env={"CHAT_BLOBS_REMOTE_FETCH_TIMEOUT": "1s"})
    refused(blobs, peer.url("/slow.bin"), "timed out", resource_type="raw")
    wait_until(lambda: peer.hung_up >= 1, message="the timed out connection to be closed")
    assert blobs.server.get("/healthz").status == 200


# --------------------------------------------------------------------------------------------------------------
# Who may make the server fetch: the API key's holder only, and only once the request is authorized


def test_an_unauthorized_request_fetches_nothing(start_fetching, start_peer):
    peer = start_peer({"/pic.png": serve(png_bytes(3, 3))})
    blobs = start_fetching()
    url = peer.url("/pic.png")
    now = int(time.time())
    bad_signature = {**signed({"timestamp": now}), "signature": "0" * 40, "file": url}
    assert_cloudinary_error(blobs.post_form(blobs.api_path(), bad_signature), 401)
    stale = signed({"timestamp": now - 7200}) | {"file": url}
    assert_cloudinary_error(blobs.post_form(blobs.api_path(), stale), 401)
    assert_cloudinary_error(blobs.post_form(blobs.api_path(), {"timestamp": str(now), "file": url}), 401)
    peer.assert_untouched()
    assert_nothing_stored(blobs)


def test_unsigned_presets_cannot_fetch(start_fetching, start_peer):
    peer = start_peer({"/pic.png": serve(png_bytes(3, 3))})
    blobs = start_fetching()
    response = blobs.post_form(blobs.api_path(), {"upload_preset": "open", "file": peer.url("/pic.png")})
    assert_cloudinary_error(response, 400, "signed request")
    with pytest.raises(BadRequest):
        uploader.unsigned_upload(peer.url("/pic.png"), "open", timeout=30)
    peer.assert_untouched()
    assert_nothing_stored(blobs)


def test_chat_users_cannot_make_the_server_fetch(start_fetching, start_peer):
    peer = start_peer({"/pic.png": serve(png_bytes(3, 3))})
    blobs = start_fetching()
    mallory = blobs.chat.user("mallory")
    body, content_type = multipart([("file", peer.url("/pic.png"))], [])
    response = blobs.server.request("POST", "/api/v1/uploads",
                                    {"Content-Type": content_type, "Authorization": f"Bearer {mallory.access}"},
                                    body, 30)
    assert response.status == 400, response.describe()
    assert b"Upload the file itself" in response.body, response.describe()
    peer.assert_untouched()
    assert_nothing_stored(blobs)


# --------------------------------------------------------------------------------------------------------------
# https


def test_https_fetch_trusting_the_configured_ca(start_fetching, start_peer, pki):
    data = png_bytes(8, 3, seed=12)
    peer = start_peer({"/pic.png": serve(data, "image/png")}, tls=tls_context(pki["good"]), name="localhost")
    blobs = start_fetching(env={"CHAT_BLOBS_REMOTE_FETCH_ALLOW": TLS_ALLOW,
                                "CHAT_BLOBS_REMOTE_FETCH_CA_FILE": str(pki["ca"])})
    answer = uploader.upload(peer.url("/pic.png"), timeout=30)
    assert_upload_answer(answer, data, format="png", width=8, height=3)
    assert answer["original_filename"] == "pic", answer
    assert blobs.download(answer["url"]) == data
    [request] = [request for request in peer.seen() if request.method == "GET"]
    assert request.header("Host") == f"localhost:{peer.port}", request
    # The certificate names 127.0.0.1 too.
    answer = uploader.upload(f"https://{HOST}:{peer.port}/pic.png", timeout=30)
    assert_upload_answer(answer, data, format="png", width=8, height=3)


def test_https_certificate_from_an_untrusted_ca_is_refused(start_fetching, start_peer, pki):
    peer = start_peer({"/pic.png": serve(png_bytes(3, 3))}, tls=tls_context(pki["good"]), name="localhost")
    blobs = start_fetching(env={"CHAT_BLOBS_REMOTE_FETCH_ALLOW": TLS_ALLOW})  # the system's trust store
    refused(blobs, peer.url("/pic.png"), "Error in loading", "certificate")
    assert peer.seen() == [], "the request was sent over a connection that was not verified"


def test_https_certificate_for_another_name_is_refused(start_fetching, start_peer, pki):
    peer = start_peer({"/pic.png": serve(png_bytes(3, 3))}, tls=tls_context(pki["other"]), name="localhost")
    blobs = start_fetching(env={"CHAT_BLOBS_REMOTE_FETCH_ALLOW": TLS_ALLOW,
                                "CHAT_BLOBS_REMOTE_FETCH_CA_FILE": str(pki["ca"])})
    refused(blobs, peer.url("/pic.png"), "certificate")
    assert peer.seen() == [], "the request was sent to a server whose certificate names another host"


# --------------------------------------------------------------------------------------------------------------
# Settings


@pytest.mark.parametrize("variable, value", [
    ("CHAT_BLOBS_REMOTE_FETCH", "maybe"),
    ("CHAT_BLOBS_REMOTE_FETCH_ALLOW", "127.0.0.1/33"),
    ("CHAT_BLOBS_REMOTE_FETCH_ALLOW", "not-a-network"),
    ("CHAT_BLOBS_REMOTE_FETCH_TIMEOUT", "soon"),
    ("CHAT_BLOBS_REMOTE_FETCH_MAX_REDIRECTS", "11"),
    ("CHAT_BLOBS_REMOTE_FETCH_MAX_REDIRECTS", "-1"),
])
def test_bad_remote_fetch_setting_stops_the_server(tmp_path, chat_bin, variable, value):
    result = run_chat(["serve", "--listen", f"{HOST}:{free_port()}", "--data-dir", str(tmp_path / "data"),
                       "--static-dir", str(tmp_path)], cwd=tmp_path, env={variable: value}, binary=chat_bin,
                      timeout=20)
    assert result.returncode == 2, result
    assert variable in result.stderr and value in result.stderr, result.stderr
