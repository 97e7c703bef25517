"""Blob store, credentials and lifecycle (issue 7, docs/blobs.md): generated credentials kept in
`<data_dir>/blobs/credentials` (0600) and printed as a `CLOUDINARY_URL` by `chat blobs credentials`, which the SDK
reads from the environment; abandoned chunked uploads expire; concurrent uploads and deletions of the same bytes
never lose a file that an asset still references."""

from __future__ import annotations

import os
import re
import stat
import threading
import time
from urllib.parse import parse_qs, urlsplit

import cloudinary
import cloudinary.uploader as uploader
import pytest
from cloudinary.exceptions import AuthorizationRequired

from blobhelpers import (  # noqa: F401
    API_KEY,
    API_SECRET,
    CLOUD,
    assert_cloudinary_error,
    assert_upload_answer,
    blobs,
    blobs_credentials_output,
    data_uri,
    png_bytes,
    resource_url,
    signed,
    start_blobs,
)
from helpers import wait_until

PNG = png_bytes(4, 4, seed=21)
NO_CREDENTIALS = {"CHAT_BLOBS_API_KEY": None, "CHAT_BLOBS_API_SECRET": None, "CHAT_BLOBS_CLOUD_NAME": None}


def credentials_url(server) -> str:
    output = blobs_credentials_output(server)
    match = re.search(r"cloudinary://[^\s'\"]+", output)
    assert match, f"no CLOUDINARY_URL in the output:\n{output}"
    return match.group(0)


def test_generated_credentials(start_blobs):
    blobs = start_blobs(env=NO_CREDENTIALS, configure=False)
    path = blobs.server.data_dir / "blobs" / "credentials"
    assert path.is_file(), "generated credentials are kept in <data_dir>/blobs/credentials"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, oct(path.stat().st_mode)
    stored = path.read_bytes()
    # Not the ones of another server, and not guessable defaults: the test's own credentials do not work.
    blobs.configure(cloud_name="local")
    with pytest.raises(AuthorizationRequired):
        uploader.upload(data_uri("image/png", PNG), timeout=30)
    # A restart keeps them.
    assert blobs.server.stop() == 0
    blobs.server.start()
    assert path.read_bytes() == stored


def test_generated_credentials_work_through_cloudinary_url(start_blobs, monkeypatch):
    blobs = start_blobs(env=NO_CREDENTIALS, configure=False)
    url = credentials_url(blobs.server)
    parts = urlsplit(url)
    assert parts.hostname == "local", f"the default cloud is `local`: {url}"
    key, secret = parts.username, parts.password
    assert key and secret and secret != API_SECRET, url
    assert "upload_prefix" in parse_qs(parts.query), url

    # The SDK, configured from the environment only (as the docs show it), with the prefix of this server.
    monkeypatch.setenv("CLOUDINARY_URL", f"cloudinary://{key}:{secret}@local?upload_prefix={blobs.prefix}")
    cloudinary.reset_config()
    answer = uploader.upload(data_uri("image/png", PNG), public_id="from-env", timeout=30)
    assert answer["api_key"] == key and answer["public_id"] == "from-env", answer
    assert uploader.destroy("from-env", timeout=30)["result"] == "ok"
    # A restart keeps them.
    assert blobs.server.stop() == 0
    blobs.server.start()
    assert credentials_url(blobs.server) == url


def test_sdk_configured_by_cloudinary_url(blobs, monkeypatch):
    """The issue's way to point the SDK at `chat`: only `CLOUDINARY_URL` (read by the SDK's configuration)."""
    monkeypatch.setenv("CLOUDINARY_URL", f"cloudinary://{API_KEY}:{API_SECRET}@{CLOUD}?upload_prefix={blobs.prefix}")
    cloudinary.reset_config()
    assert cloudinary.config().cloud_name == CLOUD and cloudinary.config().upload_prefix == blobs.prefix
    answer = uploader.upload(data_uri("image/png", PNG), public_id="from-env", timeout=30)
    assert_upload_answer(answer, PNG)
    assert blobs.download(answer["url"]) == PNG
    assert uploader.destroy("from-env", timeout=30)["result"] == "ok"


def test_credentials_command_shows_the_configured_ones(blobs):
    url = credentials_url(blobs.server)
    parts = urlsplit(url)
    assert (parts.username, parts.password, parts.hostname) == (API_KEY, API_SECRET, CLOUD), url


def test_abandoned_chunked_uploads_expire(start_blobs):
    blobs = start_blobs(env={"CHAT_BLOBS_CHUNK_EXPIRY": "1s"})
    data = os.urandom(2000)
    headers = {"Content-Range": "bytes 0-999/2000", "X-Unique-Upload-Id": "abandoned01"}
    first = blobs.post_form(blobs.api_path("upload", "raw"), signed({"timestamp": int(time.time()),
                                                                     "public_id": "late.bin"}),
                            [("file", "late.bin", data[:1000], "application/octet-stream")], headers)
    assert first.status == 200 and first.json().get("done") is False, first.describe()
    time.sleep(2.2)

    # Across a restart (which sweeps what has expired), the upload cannot be continued: 400, never a 5xx, and
    # no asset made of half the bytes.
    assert blobs.server.stop() == 0
    blobs.server.start()
    headers["Content-Range"] = "bytes 1000-1999/2000"
    response = blobs.post_form(blobs.api_path("upload", "raw"), signed({"timestamp": int(time.time()),
                                                                        "public_id": "late.bin"}),
                               [("file", "late.bin", data[1000:], "application/octet-stream")], headers)
    assert_cloudinary_error(response, 400)
    assert blobs.fetch(blobs.url("late.bin", resource_type="raw")).status == 404
    leftovers = [p for p in (blobs.server.data_dir / "blobs" / "tmp").rglob("*") if p.is_file()]
    assert leftovers == [], f"expired partial uploads are removed: {leftovers}"
    assert blobs.blob_files() == []


def test_concurrent_uploads_and_deletes_of_the_same_bytes(blobs):
    """Publishing a file that exists and removing its last reference race when the same bytes come and go at
    once; an asset that was stored must always be downloadable."""
    keep = uploader.upload(data_uri("image/png", PNG), public_id="keep", timeout=30)
    assert_upload_answer(keep, PNG)
    churn = png_bytes(4, 4, seed=22)
    errors: list[str] = []

    def worker(index: int):
        try:
            for round_ in range(4):
                public_id = f"churn-{index}-{round_}"
                for data in (PNG, churn):
                    answer = uploader.upload(data_uri("image/png", data), public_id=public_id, timeout=30)
                    response = blobs.fetch(resource_url(answer))
                    if response.status != 200 or response.body != data:
                        errors.append(f"{public_id}: {response.status} right after its upload")
                    assert uploader.destroy(public_id, timeout=30)["result"] == "ok"
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(f"worker {index}: {error!r}")

    threads = [threading.Thread(target=worker, args=(index,), daemon=True) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
        assert not thread.is_alive(), "a worker still runs after 60 s"
    assert errors == [], errors[:10]
    assert blobs.download(resource_url(keep)) == PNG
    files = blobs.blob_files()
    assert [file.read_bytes() for file in files] == [PNG], "only the bytes of `keep` are left"


def test_aborted_upload_leaves_nothing_behind(blobs):
    """A client that disconnects in the middle of a file part: the temporary file goes, no asset is made, and the
    server goes on serving."""
    tmp = blobs.server.data_dir / "blobs" / "tmp"
    fields = signed({"timestamp": int(time.time()), "public_id": "cut.bin"})
    boundary = "----cut"
    head = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                    for k, v in fields.items())
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.bin"\r\n'
             "Content-Type: application/octet-stream\r\n\r\n").encode()
    with blobs.server.raw() as connection:
        connection.send(f"POST {blobs.api_path('upload', 'raw')} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                        f"Content-Length: {len(head) + 10 * 1024 * 1024}\r\n\r\n".encode() + head)
        for _ in range(16):
            connection.send(os.urandom(64 * 1024))
        wait_until(lambda: any(p.is_file() for p in tmp.rglob("*")), message="the upload to reach the disk")
    wait_until(lambda: not any(p.is_file() for p in tmp.rglob("*")), message="the temporary file to go")
    assert blobs.fetch(blobs.url("cut.bin", resource_type="raw")).status == 404
    assert blobs.blob_files() == []
    answer = uploader.upload(data_uri("image/png", PNG), timeout=30)
    assert blobs.download(resource_url(answer)) == PNG
