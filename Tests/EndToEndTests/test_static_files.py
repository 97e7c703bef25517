"""Static files from `static_dir`: types, validators, ranges, directories, and no way out of the root."""

from __future__ import annotations

import calendar
import email.utils
import hashlib
import os
from pathlib import Path

import pytest

from helpers import assert_json_error, curl, get_request, sha256_file, write_random_file

HELLO = b"Hello, static world!\n"
MTIME = calendar.timegm((2021, 3, 4, 5, 6, 7))
SECRET = b"TOP-SECRET-OUTSIDE-THE-ROOT"


@pytest.fixture
def site(tmp_path) -> Path:
    """A static root plus a secret file next to it (outside the root) that must never be served."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    (tmp_path / "secret.txt").write_bytes(SECRET)

    root = tmp_path / "site"
    (root / "sub").mkdir(parents=True)
    (root / "noindex").mkdir()
    (root / "index.html").write_text("<!doctype html><title>root index</title>\n")
    (root / "hello.txt").write_bytes(HELLO)
    (root / "style.css").write_text("body { color: red; }\n")
    (root / "app.js").write_text("console.log('hi');\n")
    (root / "data.json").write_text('{"a": 1}\n')
    (root / "pixel.png").write_bytes(bytes.fromhex("89504e470d0a1a0a") + b"\0" * 24)
    (root / "sub" / "index.html").write_text("<p>sub index</p>\n")
    (root / "sub" / "page.html").write_text("<p>sub page</p>\n")
    (root / "noindex" / "file.txt").write_text("in a directory without index\n")
    (root / "escape.txt").symlink_to(outside / "secret.txt")
    (root / "escape-dir").symlink_to(outside, target_is_directory=True)
    os.utime(root / "hello.txt", (MTIME, MTIME))
    return root


@pytest.fixture
def static_server(start_server, site):
    return start_server(static_dir=site)


@pytest.mark.parametrize(
    "path, media_types",
    [
        ("/hello.txt", {"text/plain"}),
        ("/index.html", {"text/html"}),
        ("/style.css", {"text/css"}),
        ("/app.js", {"text/javascript", "application/javascript"}),
        ("/data.json", {"application/json"}),
        ("/pixel.png", {"image/png"}),
    ],
)
def test_content_types(static_server, site, path, media_types):
    response = static_server.get(path)
    assert response.status == 200, response.describe()
    media_type = (response.header("Content-Type") or "").split(";")[0].strip().lower()
    assert media_type in media_types, response.describe()
    assert response.body == (site / path.lstrip("/")).read_bytes()


def test_file_body_and_validators(static_server):
    response = static_server.get("/hello.txt")
    assert response.status == 200 and response.body == HELLO, response.describe()
    assert response.header("Content-Length") == str(len(HELLO))
    assert response.header("ETag"), response.describe()
    assert response.header("Last-Modified") == email.utils.formatdate(MTIME, usegmt=True), response.describe()
    assert response.header("Date")


def test_if_none_match_gives_304(static_server):
    etag = static_server.get("/hello.txt").header("ETag")
    not_modified = static_server.get("/hello.txt", headers={"If-None-Match": etag})
    assert not_modified.status == 304 and not_modified.body == b"", not_modified.describe()
    assert not_modified.header("ETag") == etag
    listed = static_server.get("/hello.txt", headers={"If-None-Match": f'"nope", {etag}'})
    assert listed.status == 304, listed.describe()
    star = static_server.get("/hello.txt", headers={"If-None-Match": "*"})
    assert star.status == 304, star.describe()
    other = static_server.get("/hello.txt", headers={"If-None-Match": '"something-else"'})
    assert other.status == 200 and other.body == HELLO, other.describe()


def test_etag_changes_when_the_file_changes(static_server, site):
    before = static_server.get("/hello.txt").header("ETag")
    (site / "hello.txt").write_bytes(b"changed content, longer than before\n")
    after = static_server.get("/hello.txt")
    assert after.body == b"changed content, longer than before\n"
    assert after.header("ETag") != before
    assert static_server.get("/hello.txt", headers={"If-None-Match": before}).status == 200


def test_304_keeps_the_connection_usable(static_server):
    etag = static_server.get("/hello.txt").header("ETag")
    with static_server.raw() as connection:
        connection.send(get_request("/hello.txt", headers={"If-None-Match": etag}) + get_request("/hello.txt"))
        assert connection.read_response().status == 304
        again = connection.read_response()
        assert again.status == 200 and again.body == HELLO, again.describe()


@pytest.mark.parametrize(
    "range_header, start, end",
    [("bytes=0-9", 0, 9), ("bytes=7-", 7, len(HELLO) - 1), ("bytes=-5", len(HELLO) - 5, len(HELLO) - 1),
     ("bytes=3-1000", 3, len(HELLO) - 1)],
)
def test_range_gives_206(static_server, range_header, start, end):
    response = static_server.get("/hello.txt", headers={"Range": range_header})
    assert response.status == 206, response.describe()
    assert response.body == HELLO[start:end + 1]
    assert response.header("Content-Range") == f"bytes {start}-{end}/{len(HELLO)}", response.describe()
    assert response.header("Content-Length") == str(end - start + 1)


def test_unsatisfiable_range_gives_416(static_server):
    response = static_server.get("/hello.txt", headers={"Range": "bytes=1000-2000"})
    assert response.status == 416, response.describe()
    assert response.header("Content-Range") == f"bytes */{len(HELLO)}", response.describe()


def test_range_with_curl(static_server, tmp_path):
    first = curl("-r", "0-9", f"{static_server.url}/hello.txt")
    assert first.returncode == 0 and first.stdout == HELLO[:10], first
    rest = curl("-r", "10-", f"{static_server.url}/hello.txt")
    assert rest.returncode == 0 and rest.stdout == HELLO[10:], rest
    head = curl("-i", "-r", "0-4", f"{static_server.url}/hello.txt")
    assert head.stdout.startswith(b"HTTP/1.1 206"), head.stdout
    assert b"\r\nContent-Range: bytes 0-4/" in head.stdout or b"\r\ncontent-range: bytes 0-4/" in head.stdout


def test_head_of_static_file(static_server):
    response = static_server.request("HEAD", "/hello.txt")
    assert response.status == 200 and response.body == b""
    assert response.header("Content-Length") == str(len(HELLO))
    assert response.header("ETag") and response.header("Last-Modified")


def test_directory_index_is_served(static_server, site):
    root = static_server.get("/")
    assert root.status == 200 and root.body == (site / "index.html").read_bytes(), root.describe()
    assert (root.header("Content-Type") or "").startswith("text/html")
    sub = static_server.get("/sub/")
    assert sub.status == 200 and sub.body == (site / "sub" / "index.html").read_bytes(), sub.describe()
    assert static_server.get("/sub/page.html").body == (site / "sub" / "page.html").read_bytes()


def test_directory_without_slash_redirects(static_server):
    response = static_server.get("/sub")
    assert response.status == 301, response.describe()
    assert response.header("Location") in ("/sub/", f"{static_server.url}/sub/"), response.describe()
    followed = curl("-L", f"{static_server.url}/sub")
    assert followed.returncode == 0 and followed.stdout == b"<p>sub index</p>\n", followed


def test_directory_without_index_is_404(static_server):
    assert_json_error(static_server.get("/noindex/"), 404)
    assert static_server.get("/noindex/file.txt").status == 200


def test_missing_file_is_404_json(static_server):
    assert_json_error(static_server.get("/nope.txt"), 404)
    assert_json_error(static_server.get("/sub/nope.html"), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/../outside/secret.txt",
        "/sub/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/outside/secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/.%2e/secret.txt",
        "/..%2fsecret.txt",
        "/sub%2f..%2f..%2fsecret.txt",
        "/sub%2fpage.html",
        "/escape.txt",
        "/escape-dir/secret.txt",
        "/..",
        "/%00secret.txt",
    ],
)
def test_no_traversal_out_of_the_root(static_server, path):
    # Raw socket, so neither client library normalises the path before sending it.
    with static_server.raw() as connection:
        connection.send(get_request(path, headers={"Connection": "close"}))
        response = connection.read_response()
    assert response.status in (400, 404), response.describe()
    assert_json_error(response, response.status)
    assert SECRET not in response.body
    if "%00" not in path:
        assert response.status == 404, response.describe()


def test_traversal_with_curl_path_as_is(static_server):
    result = curl("--path-as-is", "-i", f"{static_server.url}/sub/../../secret.txt")
    assert result.stdout.startswith(b"HTTP/1.1 404"), result.stdout
    assert SECRET not in result.stdout


def test_large_file_downloads_intact(start_server, site, tmp_path):
    digest = write_random_file(site / "large.bin", 20 * 1024 * 1024)
    server = start_server(static_dir=site)

    response = server.get("/large.bin", timeout=60)
    assert response.status == 200
    assert len(response.body) == 20 * 1024 * 1024
    assert hashlib.sha256(response.body).hexdigest() == digest

    target = tmp_path / "download.bin"
    result = curl("-o", str(target), "-w", "%{http_code} %{size_download}", f"{server.url}/large.bin")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"200 20971520", result.stdout
    assert sha256_file(target) == digest


def test_default_static_dir_is_relative_to_cwd(start_server, tmp_path):
    cwd = tmp_path / "cwd"
    (cwd / "static").mkdir(parents=True)
    (cwd / "static" / "hello.txt").write_bytes(HELLO)
    server = start_server(cwd=cwd, static_dir=False, workdir=tmp_path / "server")
    response = server.get("/hello.txt")
    assert response.status == 200 and response.body == HELLO, response.describe()


def test_missing_static_dir_gives_404_not_a_crash(start_server, tmp_path):
    server = start_server(static_dir=tmp_path / "does-not-exist")
    assert_json_error(server.get("/index.html"), 404)
    assert server.get("/healthz").status == 200
