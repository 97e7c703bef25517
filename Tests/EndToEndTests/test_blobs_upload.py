"""Blob store, Upload API with the real `cloudinary` SDK (issue 7, docs/blobs.md): `uploader.upload` of files, data
URIs and raw files, the answer's fields and signature, public ids (`public_id`, `folder`, `use_filename`,
`unique_filename`, `overwrite`), tags, upload presets (unsigned and signed-only), format sniffing from the bytes,
size limits and refused public ids."""

from __future__ import annotations

import os
import re
import struct
import time

import cloudinary.uploader as uploader
import pytest
from cloudinary.exceptions import AuthorizationRequired, BadRequest

from blobhelpers import (  # noqa: F401
    API_KEY,
    CLOUD,
    HTML,
    MP4,
    PDF,
    SVG,
    TEXT,
    WEBM,
    WEBP_1X1,
    assert_cloudinary_error,
    assert_upload_answer,
    basic,
    blobs,
    data_uri,
    gif_bytes,
    jpeg_bytes,
    md5,
    png_bytes,
    resource_url,
    signed,
    start_blobs,
)

GENERATED_ID = re.compile(r"[a-z0-9]{20}")


def test_upload_png_file(blobs, tmp_path):
    data = png_bytes(7, 5)
    path = tmp_path / "cat photo.png"
    path.write_bytes(data)
    before = int(time.time())
    answer = uploader.upload(str(path), timeout=30)
    after = int(time.time())

    assert_upload_answer(answer, data, resource_type="image", type="upload", format="png", width=7, height=5)
    assert GENERATED_ID.fullmatch(answer["public_id"]), answer
    assert before - 1 <= answer["version"] <= after + 1, answer
    assert answer["original_filename"] == "cat photo", answer
    assert answer["folder"] == "" and answer["tags"] == [], answer
    assert not answer.get("existing") and not answer.get("overwritten"), answer
    assert answer["etag"] == md5(data)

    # The answer's url, and the one the SDK builds, deliver the bytes.
    assert blobs.download(answer["url"]) == data
    built = blobs.url(answer["public_id"], format="png", version=answer["version"])
    assert built == f"http://127.0.0.1:{blobs.port}/{CLOUD}/image/upload/v{answer['version']}/{answer['public_id']}.png"
    assert blobs.download(built) == data

    # Two uploads of a file get two ids, asset ids and version ids.
    again = uploader.upload(str(path), timeout=30)
    assert again["public_id"] != answer["public_id"] and again["asset_id"] != answer["asset_id"], (answer, again)
    assert again["version_id"] != answer["version_id"], (answer, again)


def test_upload_jpeg_from_data_uri(blobs):
    data = jpeg_bytes(37, 21)
    answer = uploader.upload(data_uri("image/jpeg", data), timeout=30)
    assert_upload_answer(answer, data, format="jpg", width=37, height=21)
    response = blobs.fetch(resource_url(answer))
    assert response.status == 200 and response.body == data, response.describe()
    assert response.header("Content-Type").split(";")[0] == "image/jpeg", response.describe()


def test_data_uri_answer_lists_every_documented_key(blobs):
    # docs/blobs.md lists `original_filename` among the keys of every answer (Cloudinary says "file" for a data URI).
    answer = uploader.upload(data_uri("image/png", png_bytes(2, 2)), timeout=30)
    assert "original_filename" in answer, answer


def test_upload_raw_file(blobs, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(TEXT)
    answer = uploader.upload(str(path), resource_type="raw", timeout=30)
    assert_upload_answer(answer, TEXT, resource_type="raw")
    assert answer["original_filename"] == "notes", answer
    assert blobs.download(resource_url(answer)) == TEXT
    assert blobs.download(answer["url"]) == TEXT

    # A file object and a given public id.
    with open(path, "rb") as handle:
        named = uploader.upload(handle, resource_type="raw", public_id="docs/readme.txt", timeout=30)
    assert_upload_answer(named, TEXT, resource_type="raw")
    assert named["public_id"] == "docs/readme.txt", named
    assert blobs.download(blobs.url("docs/readme.txt", resource_type="raw", version=named["version"])) == TEXT


def test_public_id_folder_and_tags(blobs):
    data = png_bytes(3, 3, seed=1)
    answer = uploader.upload(data_uri("image/png", data), public_id="avatar", folder="people/alice",
                             tags=["blue", "big cat"], timeout=30)
    assert_upload_answer(answer, data, format="png", width=3, height=3)
    assert answer["public_id"] == "people/alice/avatar", answer
    assert answer["folder"] == "people/alice", answer
    assert answer["tags"] == ["blue", "big cat"], answer
    assert blobs.download(blobs.url("people/alice/avatar", format="png", version=answer["version"])) == data

    # A folder with a trailing slash is the same folder; a public id with folders of its own keeps them.
    nested = uploader.upload(data_uri("image/png", data), public_id="x/y", folder="people/", tags="one,two",
                             timeout=30)
    assert nested["public_id"] == "people/x/y" and nested["tags"] == ["one", "two"], nested


def test_overwrite(blobs):
    first_data, second_data, third_data = png_bytes(4, 4, seed=1), png_bytes(4, 4, seed=2), png_bytes(4, 4, seed=3)
    first = uploader.upload(data_uri("image/png", first_data), public_id="same", timeout=30)
    assert_upload_answer(first, first_data)
    assert not first.get("overwritten") and not first.get("existing"), first

    # overwrite defaults to true: the asset is replaced.
    second = uploader.upload(data_uri("image/png", second_data), public_id="same", timeout=30)
    assert_upload_answer(second, second_data)
    assert second["public_id"] == "same" and second.get("overwritten") is True, second
    assert second["version_id"] != first["version_id"], (first, second)
    assert blobs.download(resource_url(second)) == second_data

    # overwrite=False finds it: `existing: true`, the stored asset's answer, nothing stored.
    third = uploader.upload(data_uri("image/png", third_data), public_id="same", overwrite=False, timeout=30)
    assert third.get("existing") is True, third
    assert third["public_id"] == "same" and third["etag"] == md5(second_data), third
    assert third["bytes"] == len(second_data) and third["version"] == second["version"], third
    assert blobs.download(resource_url(second)) == second_data
    assert len(blobs.blob_files()) == 1, "the replaced bytes and the refused ones are not kept"

    # overwrite=False on a fresh id stores it.
    fresh = uploader.upload(data_uri("image/png", third_data), public_id="fresh", overwrite=False, timeout=30)
    assert not fresh.get("existing"), fresh
    assert blobs.download(resource_url(fresh)) == third_data


def test_overwrite_gives_a_new_version(blobs):
    """Versioned URLs are served as immutable: the bytes behind one must never change, so a replacement has to come
    with another version (and URL), even when it lands within the same second."""
    first = uploader.upload(data_uri("image/png", png_bytes(4, 4, seed=1)), public_id="again", timeout=30)
    second = uploader.upload(data_uri("image/png", png_bytes(4, 4, seed=2)), public_id="again", timeout=30)
    assert second["version"] != first["version"], (first, second)
    old = blobs.fetch(resource_url(first))
    assert old.status == 404 or old.body == png_bytes(4, 4, seed=1), \
        f"the old versioned URL now serves other bytes:\n{old.describe()}"


def test_use_filename_and_unique_filename(blobs, tmp_path):
    data = png_bytes(2, 2)
    path = tmp_path / "My Holiday.png"
    path.write_bytes(data)
    unique = uploader.upload(str(path), use_filename=True, timeout=30)
    assert re.fullmatch(r"My_Holiday_[a-z0-9]{6}", unique["public_id"]), unique
    assert unique["original_filename"] == "My Holiday", unique

    exact = uploader.upload(str(path), use_filename=True, unique_filename=False, timeout=30)
    assert exact["public_id"] == "My_Holiday", exact
    with_folder = uploader.upload(str(path), use_filename=True, unique_filename=False, folder="trips", timeout=30)
    assert with_folder["public_id"] == "trips/My_Holiday" and with_folder["folder"] == "trips", with_folder

    # Without use_filename the name is not used; with a public_id, use_filename changes nothing.
    plain = uploader.upload(str(path), timeout=30)
    assert GENERATED_ID.fullmatch(plain["public_id"]), plain
    given = uploader.upload(str(path), use_filename=True, public_id="chosen", timeout=30)
    assert given["public_id"] == "chosen", given
    for answer in (unique, exact, with_folder, plain, given):
        assert blobs.download(resource_url(answer)) == data


def test_unsigned_upload_with_unsigned_preset(blobs):
    data = png_bytes(5, 2)
    answer = uploader.unsigned_upload(data_uri("image/png", data), "open", timeout=30)
    assert_upload_answer(answer, data, format="png", width=5, height=2)
    assert answer["public_id"].startswith("incoming/") and answer["folder"] == "incoming", answer
    assert sorted(answer["tags"]) == ["anon", "guest"], answer
    assert blobs.download(resource_url(answer)) == data

    # A preset's type: unsigned uploads that are private.
    private = uploader.unsigned_upload(data_uri("image/png", data), "private", timeout=30)
    assert_upload_answer(private, data, type="authenticated")
    assert blobs.fetch(resource_url(private)).status in (401, 404)
    assert blobs.download(resource_url(private, sign_url=True)) == data


def test_signed_only_preset_needs_a_signature(blobs):
    data = png_bytes(2, 2)
    with pytest.raises((BadRequest, AuthorizationRequired)):
        uploader.unsigned_upload(data_uri("image/png", data), "signedonly", timeout=30)
    with pytest.raises((BadRequest, AuthorizationRequired)):
        uploader.unsigned_upload(data_uri("image/png", data), "no-such-preset", timeout=30)
    # Unsigned without any preset.
    response = blobs.post_form(blobs.api_path(), {"timestamp": int(time.time())},
                               [("file", "a.png", data, "image/png")])
    assert response.status in (400, 401), response.describe()
    assert_cloudinary_error(response, response.status)
    # Signed, the preset is fine.
    answer = uploader.upload(data_uri("image/png", data), upload_preset="signedonly", timeout=30)
    assert_upload_answer(answer, data)


def test_preset_formats_and_max_bytes(blobs):
    small = png_bytes(2, 2)
    assert_upload_answer(uploader.unsigned_upload(data_uri("image/png", small), "pngonly", timeout=30), small)
    with pytest.raises(BadRequest):
        uploader.unsigned_upload(data_uri("image/jpeg", jpeg_bytes()), "pngonly", timeout=30)
    big = png_bytes(40, 40, random_pixels=True)
    assert len(big) > 2000
    with pytest.raises(BadRequest):
        uploader.unsigned_upload(data_uri("image/png", big), "pngonly", timeout=30)
    assert len(blobs.blob_files()) == 1, "refused uploads leave no file"


@pytest.mark.parametrize("name, data, resource_type, format, size", [
    ("png", png_bytes(9, 4), "image", "png", (9, 4)),
    ("jpeg", jpeg_bytes(16, 33), "image", "jpg", (16, 33)),
    ("gif", gif_bytes(6, 4), "image", "gif", (6, 4)),
    ("webp", WEBP_1X1, "image", "webp", (1, 1)),
    ("pdf", PDF, "image", "pdf", None),
    ("mp4", MP4, "video", "mp4", None),
    ("webm", WEBM, "video", "webm", None),
    ("text", TEXT, "raw", None, None),
    ("html", HTML, "raw", None, None),
    ("svg", SVG, "raw", None, None),
], ids=["png", "jpeg", "gif", "webp", "pdf", "mp4", "webm", "text", "html", "svg"])
def test_format_comes_from_the_bytes(blobs, tmp_path, name, data, resource_type, format, size):
    # The file name lies (a .png that is text, a .txt that is a PNG): only the bytes count.
    path = tmp_path / ("upload.txt" if resource_type != "raw" else "upload.png")
    path.write_bytes(data)
    answer = uploader.upload(str(path), resource_type="auto", timeout=30)
    width, height = size if size else (None, None)
    assert_upload_answer(answer, data, resource_type=resource_type, format=format, width=width, height=height)
    response = blobs.fetch(resource_url(answer))
    assert response.status == 200 and response.body == data, response.describe()


@pytest.mark.parametrize("uri", [
    "data:image/png;base64,!!!not base64!!!",
    "data:image/png;base64,",
    "data:image/png;base64",
    "data:;base64,iVBORw0KGgo=x",
])
def test_malformed_data_uris_are_refused(blobs, uri):
    # By hand: the SDK would take these for file names.
    response = blobs.post_form(blobs.api_path(), signed({"timestamp": int(time.time())}) | {"file": uri})
    assert_cloudinary_error(response, 400)
    assert blobs.blob_files() == []


def test_non_image_as_image_is_refused(blobs, tmp_path):
    path = tmp_path / "fake.png"
    path.write_bytes(TEXT)
    with pytest.raises(BadRequest, match="(?i)invalid image file"):
        uploader.upload(str(path), timeout=30)
    with pytest.raises(BadRequest, match="(?i)invalid image file"):
        uploader.upload(str(path), resource_type="image", timeout=30)
    # HTML, SVG (script from our origin) and a video are not images either.
    for data in (HTML, SVG, MP4):
        response = blobs.upload_raw_http(data, resource_type="image", filename="x.png")
        assert_cloudinary_error(response, 400, "invalid image file")
    assert blobs.blob_files() == []


def test_size_limits_per_resource_type(start_blobs):
    blobs = start_blobs(env={"CHAT_BLOBS_MAX_IMAGE_BYTES": "4k", "CHAT_BLOBS_MAX_VIDEO_BYTES": "4k",
                             "CHAT_BLOBS_MAX_RAW_BYTES": "8k"})
    small = png_bytes(10, 10, random_pixels=True)
    big = png_bytes(40, 40, random_pixels=True)
    assert len(small) < 4096 < len(big) < 8192
    assert_upload_answer(uploader.upload(data_uri("image/png", small), timeout=30), small)
    for resource_type in ("image", "auto"):
        response = blobs.upload_raw_http(big, resource_type=resource_type, filename="big.png")
        assert_cloudinary_error(response, 400)
    with pytest.raises(BadRequest):
        uploader.upload(data_uri("image/png", big), timeout=30)
    # The image limit is the image limit: the same bytes as a raw file are within the raw one.
    assert_upload_answer(uploader.upload(data_uri("image/png", big), resource_type="raw", timeout=30), big,
                         resource_type="raw")
    # Video and raw limits.
    video = MP4[:-16] + struct.pack(">I", 16 + 6000) + b"mdat" + os.urandom(6000)
    for resource_type in ("video", "auto"):
        assert_cloudinary_error(blobs.upload_raw_http(video, resource_type=resource_type, filename="v.mp4"), 400)
    assert_cloudinary_error(blobs.upload_raw_http(os.urandom(9000), resource_type="raw", filename="r.bin"), 400)
    assert len(blobs.blob_files()) == 2
    assert not [p for p in (blobs.server.data_dir / "blobs" / "tmp").rglob("*") if p.is_file()], \
        "refused uploads leave no temporary file"


@pytest.mark.parametrize("field, value", [
    ("public_id", "../x"),
    ("public_id", "../../etc/passwd"),
    ("public_id", "/abs"),
    ("public_id", "a/../b"),
    ("public_id", "a/./b"),
    ("public_id", "a//b"),
    ("public_id", "x\x01y"),
    ("public_id", "back\\slash"),
    ("public_id", "x" * 256),
    ("folder", "../up"),
    ("folder", "/root"),
    ("folder", "a/../../b"),
])
def test_bad_public_ids_are_refused(blobs, field, value):
    data = png_bytes(2, 2)
    with pytest.raises(BadRequest):
        uploader.upload(data_uri("image/png", data), timeout=30, **{field: value})
    response = blobs.upload_raw_http(data, {field: value}, filename="a.png")
    assert_cloudinary_error(response, 400)
    assert blobs.blob_files() == []
    data_dir = blobs.server.data_dir
    assert not (data_dir.parent / "x").exists() and not (data_dir / "blobs" / "abs").exists()


def test_remote_urls_are_not_fetched(blobs):
    # Remote fetch is off by default (docs/blobs.md): refused, and nothing is fetched from the URL.
    def probes():
        return [entry for entry in blobs.server.access_entries() if entry.get("path") == "/healthz?probe"]

    with pytest.raises(BadRequest):
        uploader.upload(f"http://127.0.0.1:{blobs.port}/healthz?probe", timeout=30)
    fields = signed({"timestamp": int(time.time())}) | {"file": f"https://127.0.0.1:{blobs.port}/healthz?probe"}
    response = blobs.post_form(blobs.api_path(), fields)
    assert_cloudinary_error(response, 400)
    time.sleep(0.2)
    assert probes() == [], "the server fetched the URL it was given"


def test_other_parameters_are_accepted_and_ignored(blobs):
    data = png_bytes(3, 2)
    answer = uploader.upload(data_uri("image/png", data), context={"alt": "a cat", "caption": "hi"},
                             format="png", return_delete_token=True, eager=[{"width": 100, "crop": "scale"}],
                             quality_analysis=True, notification_url="http://example.test/hook", invalidate=True,
                             timeout=30)
    assert_upload_answer(answer, data, format="png", width=3, height=2)
    assert "delete_token" not in answer, "return_delete_token is accepted, no token is issued"
    response = blobs.upload_raw_http(data, {"some_unknown_parameter": "x", "colors": "true"}, filename="a.png")
    assert response.status == 200, response.describe()
    assert_upload_answer(response.json(), data)


def test_basic_auth_upload(blobs):
    data = png_bytes(2, 3)
    response = blobs.post_form(blobs.api_path(), {"public_id": "basic"}, [("file", "b.png", data, "image/png")],
                               basic())
    assert response.status == 200, response.describe()
    answer = assert_upload_answer(response.json(), data, width=2, height=3)
    assert answer["public_id"] == "basic"
    response = blobs.post_form(blobs.api_path(), {"public_id": "basic2"}, [("file", "b.png", data, "image/png")],
                               basic(secret="wrong"))
    assert_cloudinary_error(response, 401)
    response = blobs.post_form(blobs.api_path(), {"public_id": "basic3"}, [("file", "b.png", data, "image/png")],
                               basic(api_key="123"))
    assert_cloudinary_error(response, 401)
    assert API_KEY == answer["api_key"]
