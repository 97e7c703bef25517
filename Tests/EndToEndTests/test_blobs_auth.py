"""Blob store, Upload API authentication (issue 7, docs/blobs.md): the SDK's signatures (SHA-1 and SHA-256) are
accepted, a wrong secret, a tampered parameter, a missing signature or a stale timestamp are 401 with Cloudinary's
error body (and the SDK's `AuthorizationRequired`), an unknown cloud is 404 (`NotFound`)."""

from __future__ import annotations

import os
import threading
import time

import cloudinary
import cloudinary.uploader as uploader
import cloudinary.utils
import pytest
from cloudinary.exceptions import AuthorizationRequired, NotFound

from blobhelpers import (  # noqa: F401
    API_KEY,
    API_SECRET,
    CLOUD,
    assert_cloudinary_error,
    assert_upload_answer,
    blobs,
    data_uri,
    multipart,
    png_bytes,
    signed,
    start_blobs,
)

PNG = png_bytes(3, 3)


def form(blobs, fields, resource_type="image", headers=None):
    return blobs.post_form(blobs.api_path("upload", resource_type), fields, [("file", "a.png", PNG, "image/png")],
                           headers)


def test_wrong_secret_raises_authorization_required(blobs):
    blobs.configure(api_secret="not-the-secret")
    with pytest.raises(AuthorizationRequired, match="(?i)invalid signature"):
        uploader.upload(data_uri("image/png", PNG), timeout=30)
    with pytest.raises(AuthorizationRequired):
        uploader.destroy("anything", timeout=30)
    blobs.configure(api_key="999999999999999")
    with pytest.raises(AuthorizationRequired):
        uploader.upload(data_uri("image/png", PNG), timeout=30)
    assert blobs.blob_files() == []

    response = form(blobs, signed({"timestamp": int(time.time())}, secret="not-the-secret"))
    assert_cloudinary_error(response, 401, "invalid signature")


def test_stale_timestamp_is_refused(blobs):
    old = int(time.time()) - 2 * 3600
    fields = {"timestamp": old, "public_id": "stale"}
    signature = cloudinary.utils.api_sign_request(fields, API_SECRET)
    response = form(blobs, {**fields, "api_key": API_KEY, "signature": signature})
    assert_cloudinary_error(response, 401, "stale request")

    # Through the SDK: its low-level call signs the parameters given, timestamp included.
    with pytest.raises(AuthorizationRequired, match="(?i)stale request"):
        uploader.call_api("upload", {"timestamp": old, "public_id": "stale"}, file=data_uri("image/png", PNG),
                          timeout=30)
    assert blobs.blob_files() == []

    # Within the hour is fine (`max_timestamp_age`, 1h by default).
    recent = signed({"timestamp": int(time.time()) - 50 * 60, "public_id": "recent"})
    response = form(blobs, recent)
    assert response.status == 200, response.describe()
    assert_upload_answer(response.json(), PNG)


def test_max_timestamp_age_setting(start_blobs):
    blobs = start_blobs(env={"CHAT_BLOBS_MAX_TIMESTAMP_AGE": "60s"})
    response = form(blobs, signed({"timestamp": int(time.time()) - 120}))
    assert_cloudinary_error(response, 401, "stale request")
    response = form(blobs, signed({"timestamp": int(time.time()) - 5}))
    assert response.status == 200, response.describe()


def test_sha256_signatures(blobs):
    blobs.configure(signature_algorithm="sha256")
    answer = uploader.upload(data_uri("image/png", PNG), public_id="sha256", tags=["a", "b"], timeout=30)
    assert_upload_answer(answer, PNG)
    assert uploader.destroy("sha256", timeout=30)["result"] == "ok"
    fields = signed({"timestamp": int(time.time()), "public_id": "by-hand"}, algorithm="sha256")
    assert len(fields["signature"]) == 64
    response = form(blobs, fields)
    assert response.status == 200, response.describe()


def test_tampered_and_missing_signatures(blobs):
    now = int(time.time())
    # A parameter changed after signing.
    fields = signed({"timestamp": now, "public_id": "granted"})
    response = form(blobs, {**fields, "public_id": "other"})
    assert_cloudinary_error(response, 401, "invalid signature")
    # A parameter added after signing.
    response = form(blobs, {**fields, "type": "authenticated"})
    assert_cloudinary_error(response, 401, "invalid signature")
    # A parameter removed after signing.
    response = form(blobs, {key: value for key, value in fields.items() if key != "public_id"})
    assert_cloudinary_error(response, 401, "invalid signature")
    # Signature of another length, or not hex.
    for bad in (fields["signature"][:-1], fields["signature"] + "0", "z" * 40, ""):
        response = form(blobs, {**fields, "signature": bad})
        assert response.status in (400, 401), (bad, response.describe())
        assert_cloudinary_error(response, response.status)
    # No signature, no timestamp, no api key.
    response = form(blobs, {key: value for key, value in fields.items() if key != "signature"})
    assert_cloudinary_error(response, 401)
    response = form(blobs, signed({"public_id": "no-timestamp"}))
    assert response.status in (400, 401), response.describe()
    assert_cloudinary_error(response, response.status)
    response = form(blobs, {key: value for key, value in fields.items() if key != "api_key"})
    assert response.status in (400, 401), response.describe()
    assert_cloudinary_error(response, response.status)
    # `&` in a value: signed as `%26` (signature version 2), so it cannot smuggle a parameter.
    smuggled = signed({"timestamp": now, "public_id": "a", "tags": "x&public_id=b"})
    response = form(blobs, smuggled)
    assert response.status in (200, 400), response.describe()
    if response.status == 200:
        assert response.json()["public_id"] == "a", response.describe()
    assert blobs.fetch(blobs.url("b", format="png")).status == 404


def test_unknown_cloud_is_not_found(blobs):
    blobs.configure(cloud_name="someone-else")
    with pytest.raises(NotFound):
        uploader.upload(data_uri("image/png", PNG), timeout=30)
    with pytest.raises(NotFound):
        uploader.destroy("x", timeout=30)
    response = blobs.post_form(blobs.api_path("upload", cloud="someone-else"), signed({"timestamp": int(time.time())}),
                               [("file", "a.png", PNG, "image/png")])
    assert_cloudinary_error(response, 404)
    assert blobs.blob_files() == []

    # Delivery from another cloud is 404 too, even for an id that exists here.
    blobs.configure()
    answer = uploader.upload(data_uri("image/png", PNG), public_id="mine", timeout=30)
    here = blobs.url("mine", format="png", version=answer["version"])
    assert blobs.fetch(here).status == 200
    assert blobs.fetch(here.replace(f"/{CLOUD}/", "/someone-else/")).status == 404


def test_unknown_resource_type_and_action(blobs):
    fields = signed({"timestamp": int(time.time())})
    response = form(blobs, fields, resource_type="document")
    assert response.status in (400, 404), response.describe()
    assert_cloudinary_error(response, response.status)
    response = blobs.post_form(f"/v1_1/{CLOUD}/image/explode", fields)
    assert response.status in (400, 404, 405), response.describe()
    assert blobs.blob_files() == []


def test_signature_fields_after_the_file_part(blobs):
    """A form may put the file first (browsers send fields in document order): the upload is authenticated by the
    fields whatever their order, and a bad signature after the bytes still stores nothing."""
    now = int(time.time())
    good = signed({"timestamp": now, "public_id": "late-fields"})
    body_files = [("file", "a.png", PNG, "image/png")]

    def post(fields):
        boundary = "----order"
        file_part, _ = multipart((), body_files, boundary)
        file_part = file_part[: -len(f"--{boundary}--\r\n")]
        field_parts, _ = multipart(list(fields.items()), (), boundary)
        body = file_part + field_parts
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return blobs.server.request("POST", blobs.api_path(), headers, body, 30)

    response = post({**good, "signature": "0" * 40})
    assert_cloudinary_error(response, 401)
    assert blobs.fetch(blobs.url("late-fields", format="png")).status == 404
    assert blobs.blob_files() == []
    # Good credentials after the bytes: accepted, or refused (a server that streams the file to disk may want the
    # credentials first), never half-done.
    response = post(good)
    assert response.status in (200, 400, 401), response.describe()
    if response.status == 200:
        assert response.json()["public_id"] == "late-fields", response.describe()
        assert blobs.download(blobs.url("late-fields", format="png")) == PNG
    else:
        assert_cloudinary_error(response, response.status)
        assert blobs.blob_files() == []


def test_repeated_fields_cannot_smuggle_a_public_id(blobs):
    """What is signed is what is stored: a second `public_id` next to a signed one is either refused or ignored."""
    fields = list(signed({"timestamp": int(time.time()), "public_id": "granted"}).items())
    for extra in ([("public_id", "smuggled")], [("public_id", "smuggled"), ("public_id", "granted")]):
        response = blobs.post_form(blobs.api_path(), extra + fields if len(extra) == 1 else fields + extra,
                                   [("file", "a.png", PNG, "image/png")])
        assert response.status in (200, 400, 401), response.describe()
        if response.status == 200:
            assert response.json()["public_id"] == "granted", response.describe()
        else:
            assert_cloudinary_error(response, response.status)
    assert blobs.fetch(blobs.url("smuggled", format="png")).status == 404


def test_concurrent_chunks_of_one_upload(blobs):
    """Two clients sending chunks under one upload id at once: never a 5xx, and never an asset of the wrong bytes."""
    data = os.urandom(40_000)
    headers = {"X-Unique-Upload-Id": "racing-upload-01"}
    results = []

    def send(first, last):
        fields = signed({"timestamp": int(time.time()), "public_id": "raced.bin"})
        response = blobs.post_form(blobs.api_path("upload", "raw"), fields,
                                   [("file", "raced.bin", data[first:last + 1], "application/octet-stream")],
                                   {**headers, "Content-Range": f"bytes {first}-{last}/{len(data)}"})
        results.append(response)

    send(0, 9_999)
    threads = [threading.Thread(target=send, args=(10_000, 19_999)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(r.status == 200 for r in results[1:]) <= 1, [r.describe() for r in results]
    for response in results:
        assert response.status in (200, 400, 409), response.describe()
    send(20_000, 29_999)
    send(30_000, 39_999)
    final = results[-1]
    if final.status == 200 and final.json().get("done") is not False:
        assert_upload_answer(final.json(), data, resource_type="raw")
        assert blobs.download(blobs.url("raced.bin", resource_type="raw")) == data
    else:
        assert blobs.fetch(blobs.url("raced.bin", resource_type="raw")).status == 404


def test_upload_api_is_rate_limited_per_client_with_420(start_blobs):
    """Upload API requests count against `rate_limit.api_per_minute` per client address; past it Cloudinary's 420,
    which the SDK raises as RateLimited, with Retry-After."""
    from cloudinary.exceptions import RateLimited

    start_blobs(env={"CHAT_RATE_LIMIT_API_PER_MINUTE": "3"})
    for index in range(3):
        assert_upload_answer(uploader.upload(data_uri("image/png", png_bytes(2, 2, seed=index)), timeout=30),
                             png_bytes(2, 2, seed=index))
    with pytest.raises(RateLimited) as refused:
        uploader.upload(data_uri("image/png", png_bytes(2, 2, seed=9)), timeout=30)
    assert "Rate Limit" in str(refused.value), refused.value
    with pytest.raises(RateLimited):
        uploader.destroy("anything", timeout=30)
