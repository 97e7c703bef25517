"""Blob store, streaming (issue 7, docs/blobs.md "Storage"): an upload streams to disk. A 200 MB raw upload, sent
as one multipart body with a Content-Length, must not grow the server's resident memory by anything close to
200 MB: the peak VmRSS while it runs stays within RSS_ALLOWANCE of the RSS before it.

MEMORY TEST: it reads /proc/<pid>/status of the server (VmRSS sampled every 20 ms, and VmHWM), so it is Linux only,
and it moves 200 MB through loopback (well under 20 s on 2 cores with the debug build)."""

from __future__ import annotations

import os
import sys
import time

import cloudinary.uploader as uploader
import pytest

from blobhelpers import (  # noqa: F401
    RSSSampler,
    assert_upload_answer,
    blobs,
    data_uri,
    resource_url,
    signed,
    start_blobs,
    stream_upload,
)

MB = 1024 * 1024
SIZE = 200 * MB
RSS_ALLOWANCE = 64 * MB

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/status")


def test_200_mb_upload_streams_to_disk(blobs):
    # Warm up: one small upload through the same route, so first-use allocations are not counted against streaming.
    uploader.upload(data_uri("text/plain", b"warm-up bytes"), resource_type="raw", timeout=30)
    time.sleep(0.2)
    rss_before = blobs.status_field("VmRSS")
    hwm_before = blobs.status_field("VmHWM")

    fields = list(signed({"timestamp": int(time.time()), "public_id": "huge.bin"}).items())
    started = time.monotonic()
    with RSSSampler(blobs) as sampler:
        response, sent_md5 = stream_upload(blobs.port, blobs.api_path("upload", "raw"), fields, "huge.bin", SIZE,
                                           os.urandom(MB), timeout=120)
    elapsed = time.monotonic() - started
    assert response.status == 200, response.describe()
    answer = assert_upload_answer(response.json(), resource_type="raw", size=SIZE, etag=sent_md5)
    assert answer["public_id"] == "huge.bin", answer

    rss_after = blobs.status_field("VmRSS")
    hwm_after = blobs.status_field("VmHWM")
    peak = max(sampler.samples + [rss_after])
    report = (f"RSS before {rss_before / MB:.1f} MB, peak sampled {peak / MB:.1f} MB, after {rss_after / MB:.1f} MB; "
              f"VmHWM {hwm_before / MB:.1f} -> {hwm_after / MB:.1f} MB; {SIZE / MB / elapsed:.0f} MB/s, "
              f"{len(sampler.samples)} samples")
    print(report)
    assert peak - rss_before < RSS_ALLOWANCE, report
    assert hwm_after <= max(hwm_before, rss_before + RSS_ALLOWANCE), report

    # The file is all there, and HEAD knows its size without reading it into memory either.
    head = blobs.fetch(resource_url(answer), "HEAD")
    assert head.status == 200 and int(head.header("Content-Length")) == SIZE, head.describe()
    files = blobs.blob_files()
    assert len(files) == 2 and SIZE in [file.stat().st_size for file in files], files
    assert uploader.destroy("huge.bin", resource_type="raw", timeout=30)["result"] == "ok"
    assert len(blobs.blob_files()) == 1


def test_chat_upload_streams_to_disk(blobs):
    """The same through the chat API (`POST /api/v1/uploads`, bearer token): 100 MB, streamed."""
    size = 100 * MB
    alice = blobs.chat.user("alice")
    blobs.chat.get("users/me", alice.access)
    time.sleep(0.2)
    rss_before = blobs.status_field("VmRSS")
    with RSSSampler(blobs) as sampler:
        response, sent_md5 = stream_upload(blobs.port, "/api/v1/uploads", [], "big.bin", size, os.urandom(MB),
                                           headers={"Authorization": f"Bearer {alice.access}"}, timeout=120)
    assert response.status in (200, 201), response.describe()
    answer = assert_upload_answer(response.json(), resource_type="raw", type="authenticated", size=size,
                                  etag=sent_md5)
    peak = max(sampler.samples + [blobs.status_field("VmRSS")])
    report = f"RSS before {rss_before / MB:.1f} MB, peak {peak / MB:.1f} MB ({len(sampler.samples)} samples)"
    print(report)
    assert peak - rss_before < RSS_ALLOWANCE, report
    assert uploader.destroy(answer["public_id"], resource_type="raw", type="authenticated", timeout=30)["result"] \
        == "ok"
