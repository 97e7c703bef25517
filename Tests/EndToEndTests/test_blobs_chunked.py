"""Blob store, chunked uploads (issue 7, docs/blobs.md): the SDK's `upload_large` (signed chunks with `Content-Range`
and one `X-Unique-Upload-Id`) stores the same bytes as one asset; intermediate chunks answer `{"done": false, ...}`;
chunk sequences that are out of order, have gaps or overlaps, change the total, or switch upload ids are refused
with 400 and never produce an asset."""

from __future__ import annotations

import hashlib
import os
import time
import uuid

import cloudinary.uploader as uploader
import pytest

from blobhelpers import (  # noqa: F401
    assert_cloudinary_error,
    assert_upload_answer,
    blobs,
    png_bytes,
    resource_url,
    signed,
    start_blobs,
)
from helpers import sha256_file, write_random_file

MB = 1024 * 1024


def test_upload_large_30_mb_in_5_mb_chunks(blobs, tmp_path):
    path = tmp_path / "big.bin"
    digest = write_random_file(path, 30 * MB)
    with open(path, "rb") as handle:
        expected_md5 = hashlib.file_digest(handle, "md5").hexdigest()
    started = len(blobs.server.access_entries())

    answer = uploader.upload_large(str(path), chunk_size=5 * MB, public_id="big.bin", timeout=60)

    assert_upload_answer(answer, resource_type="raw", size=30 * MB, etag=expected_md5)
    assert answer["public_id"] == "big.bin", answer
    assert answer["original_filename"] == "big", answer
    posts = [entry for entry in blobs.server.access_entries()[started:] if entry.get("method") == "POST"]
    assert len(posts) == 6 and all(entry.get("status") == "200" for entry in posts), posts

    # Downloaded in full, the same bytes (hashed while streaming: no 30 MB string in the test either).
    response = blobs.fetch(resource_url(answer), timeout=60)
    assert response.status == 200 and len(response.body) == 30 * MB, response.describe()
    assert hashlib.sha256(response.body).hexdigest() == digest
    files = blobs.blob_files()
    assert len(files) == 1 and sha256_file(files[0]) == digest, files
    assert files[0].name == digest

    # No partial upload is left behind in the store's temporary directory.
    leftovers = [p for p in (blobs.server.data_dir / "blobs" / "tmp").rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in leftovers) < MB, leftovers


def test_upload_large_image_in_small_chunks(blobs):
    data = png_bytes(300, 200, random_pixels=True)
    assert len(data) > 150_000
    answer = uploader.upload_large(data_uri_stream(data), resource_type="image", chunk_size=64 * 1024,
                                   filename="photo.png", timeout=60)
    assert_upload_answer(answer, data, format="png", width=300, height=200)
    assert blobs.download(resource_url(answer)) == data

    # A file smaller than a chunk is one chunk (bytes 0-(n-1)/n).
    small = png_bytes(3, 3)
    answer = uploader.upload_large(data_uri_stream(small), resource_type="image", chunk_size=64 * 1024,
                                   filename="small.png", timeout=60)
    assert_upload_answer(answer, small, format="png")


def data_uri_stream(data: bytes):
    import io

    stream = io.BytesIO(data)
    stream.name = None  # a stream without a file name: the SDK uses the `filename` option
    return stream


class Chunks:
    """A hand-driven chunked upload: `send(first, last, total, data)` posts one signed chunk."""

    def __init__(self, blobs, upload_id: str | None = None, resource_type: str = "raw", public_id: str | None = None):
        self.blobs = blobs
        self.upload_id = upload_id or uuid.uuid4().hex[:16]
        self.resource_type = resource_type
        self.public_id = public_id

    def send(self, first: int, last: int, total: int, data: bytes, *, upload_id: str | None = None,
             content_range: str | None = None, public_id: str | None = None):
        params = {"timestamp": int(time.time())}
        if public_id or self.public_id:
            params["public_id"] = public_id or self.public_id
        headers = {"Content-Range": content_range or f"bytes {first}-{last}/{total}",
                   "X-Unique-Upload-Id": upload_id or self.upload_id}
        return self.blobs.post_form(self.blobs.api_path("upload", self.resource_type), signed(params),
                                    [("file", "blob.bin", data, "application/octet-stream")], headers)


def test_intermediate_chunks_answer_done_false(blobs):
    data = os.urandom(3000)
    chunks = Chunks(blobs, public_id="parts.bin")
    response = chunks.send(0, 999, 3000, data[:1000])
    assert response.status == 200, response.describe()
    document = response.json()
    assert document.get("done") is False and document.get("bytes") == 1000, document
    assert document.get("public_id") == "parts.bin" and document.get("resource_type") == "raw", document
    # Not delivered before the last chunk.
    assert blobs.fetch(blobs.url("parts.bin", resource_type="raw")).status == 404

    response = chunks.send(1000, 1999, 3000, data[1000:2000])
    assert response.status == 200 and response.json().get("done") is False, response.describe()
    assert response.json().get("bytes") == 2000, response.describe()
    response = chunks.send(2000, 2999, 3000, data[2000:])
    assert response.status == 200, response.describe()
    answer = assert_upload_answer(response.json(), data, resource_type="raw")
    assert answer["public_id"] == "parts.bin" and not answer.get("done"), answer
    assert blobs.download(resource_url(answer)) == data

    # Without a public id, the first chunk's answer names the one the upload gets.
    data = os.urandom(2000)
    chunks = Chunks(blobs)
    first = chunks.send(0, 999, 2000, data[:1000])
    assert first.status == 200, first.describe()
    public_id = first.json()["public_id"]
    assert isinstance(public_id, str) and public_id, first.describe()
    last = chunks.send(1000, 1999, 2000, data[1000:], public_id=public_id)
    assert last.status == 200 and last.json()["public_id"] == public_id, last.describe()
    assert blobs.download(resource_url(last.json())) == data


# Each case: the chunks sent before (all accepted), then the refused one. Sizes: total 3000, chunks of 1000.
BAD_SEQUENCES = {
    "gap": ([(0, 999)], (2000, 2999)),
    "overlap": ([(0, 999)], (500, 1499)),
    "repeated-chunk": ([(0, 999)], (0, 999)),
    "first-chunk-not-at-zero": ([], (1000, 1999)),
    "back-to-the-start": ([(0, 999), (1000, 1999)], (0, 999)),
}


@pytest.mark.parametrize("case", sorted(BAD_SEQUENCES))
def test_malformed_chunk_sequences_are_refused(blobs, case):
    data = os.urandom(3000)
    before, (first, last) = BAD_SEQUENCES[case]
    chunks = Chunks(blobs, public_id=f"seq-{case}")
    for a, b in before:
        response = chunks.send(a, b, 3000, data[a:b + 1])
        assert response.status == 200 and response.json().get("done") is False, response.describe()
    response = chunks.send(first, last, 3000, data[first:last + 1])
    assert_cloudinary_error(response, 400)
    assert blobs.fetch(blobs.url(f"seq-{case}", resource_type="raw")).status == 404
    assert blobs.blob_files() == []
    finish_or_refuse(blobs, chunks, data, before)


def finish_or_refuse(blobs, chunks, data, before):
    """After a refused chunk, sending the right remaining chunks either completes the upload with exactly the right
    bytes or is refused; it never stores anything else."""
    offset = before[-1][1] + 1 if before else 0
    response = None
    while offset < len(data):
        end = min(offset + 1000, len(data)) - 1
        response = chunks.send(offset, end, len(data), data[offset:end + 1])
        if response.status != 200:
            assert_cloudinary_error(response, 400)
            assert blobs.blob_files() == []
            return
        offset = end + 1
    answer = response.json()
    assert_upload_answer(answer, data, resource_type="raw")
    assert blobs.download(resource_url(answer)) == data


def test_wrong_upload_id_is_refused(blobs):
    data = os.urandom(3000)
    chunks = Chunks(blobs, public_id="switch")
    assert chunks.send(0, 999, 3000, data[:1000]).status == 200
    # The next chunk under another id: that id has no upload that could continue at 1000.
    response = chunks.send(1000, 1999, 3000, data[1000:2000], upload_id=uuid.uuid4().hex[:16])
    assert_cloudinary_error(response, 400)
    response = chunks.send(2000, 2999, 3000, data[2000:], upload_id=uuid.uuid4().hex[:16])
    assert_cloudinary_error(response, 400)
    assert blobs.fetch(blobs.url("switch", resource_type="raw")).status == 404
    assert blobs.blob_files() == []
    # Upload ids that could name a file are refused outright.
    for bad in ("../../chat.db", "a/b", "x" * 200, "", "\u00e9t\u00e9"):
        response = chunks.send(0, 999, 3000, data[:1000], upload_id=bad.encode("utf-8").decode("latin-1"))
        assert_cloudinary_error(response, 400)
    assert not (blobs.server.data_dir / "chat.db.part").exists()


@pytest.mark.parametrize("case", ["total-changes", "body-shorter", "body-longer", "inverted", "past-total",
                                  "not-bytes", "garbage", "star-total"])
def test_malformed_chunks_are_refused(blobs, case):
    data = os.urandom(3000)
    chunks = Chunks(blobs, public_id=f"bad-{case}")
    assert chunks.send(0, 999, 3000, data[:1000]).status == 200
    send = {
        "total-changes": lambda: chunks.send(1000, 1999, 4000, data[1000:2000]),
        "body-shorter": lambda: chunks.send(1000, 1999, 3000, data[1000:1500]),
        "body-longer": lambda: chunks.send(1000, 1999, 3000, data[1000:2500]),
        "inverted": lambda: chunks.send(0, 0, 0, data[1000:2000], content_range="bytes 1999-1000/3000"),
        "past-total": lambda: chunks.send(0, 0, 0, data[1000:2000], content_range="bytes 1000-3999/3000"),
        "not-bytes": lambda: chunks.send(0, 0, 0, data[1000:2000], content_range="items 1000-1999/3000"),
        "garbage": lambda: chunks.send(0, 0, 0, data[1000:2000], content_range="bytes=1000-1999"),
        "star-total": lambda: chunks.send(0, 0, 0, data[1000:2000], content_range="bytes 1000-1999/*"),
    }[case]
    assert_cloudinary_error(send(), 400)
    assert blobs.fetch(blobs.url(f"bad-{case}", resource_type="raw")).status == 404
    assert blobs.blob_files() == []


def test_chunks_must_be_signed(blobs):
    data = os.urandom(2000)
    chunks = Chunks(blobs, public_id="signed-chunks")
    assert chunks.send(0, 999, 2000, data[:1000]).status == 200
    fields = signed({"timestamp": int(time.time()), "public_id": "signed-chunks"}, secret="wrong")
    response = blobs.post_form(blobs.api_path("upload", "raw"), fields,
                               [("file", "blob.bin", data[1000:], "application/octet-stream")],
                               {"Content-Range": "bytes 1000-1999/2000", "X-Unique-Upload-Id": chunks.upload_id})
    assert_cloudinary_error(response, 401)
    assert blobs.fetch(blobs.url("signed-chunks", resource_type="raw")).status == 404
    assert blobs.blob_files() == []


def test_chunked_upload_respects_the_size_limit(start_blobs):
    blobs = start_blobs(env={"CHAT_BLOBS_MAX_RAW_BYTES": "10k"})
    data = os.urandom(12_000)
    chunks = Chunks(blobs, public_id="too-big")
    response = chunks.send(0, 5999, 12_000, data[:6000])
    if response.status == 200:  # refused at the first chunk (the total is known) or at the one crossing the limit
        response = chunks.send(6000, 11_999, 12_000, data[6000:])
    assert_cloudinary_error(response, 400)
    assert blobs.fetch(blobs.url("too-big", resource_type="raw")).status == 404
    assert blobs.blob_files() == []
