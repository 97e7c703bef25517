"""Blob store, delivery and deletion (issue 7, docs/blobs.md): URLs built by `cloudinary.utils.cloudinary_url` return
the bytes with Content-Type, ETag, immutable caching for versioned URLs, ranges, HEAD, nosniff and `attachment` for
raw files; `authenticated` assets need a valid `s--SIG--`; transformations are refused by name; `uploader.destroy`;
content-addressed storage (the same bytes twice are one file, which goes with its last asset)."""

from __future__ import annotations

import hashlib
import re
import time
from urllib.parse import quote

import cloudinary.uploader as uploader
import pytest

from blobhelpers import (  # noqa: F401
    CLOUD,
    HTML,
    IMMUTABLE,
    PDF,
    SVG,
    TEXT,
    assert_cloudinary_error,
    assert_upload_answer,
    blobs,
    blobs_credentials_output,
    data_uri,
    gif_bytes,
    jpeg_bytes,
    png_bytes,
    resource_url,
    signed,
    start_blobs,
)


def upload_png(data, **options):
    answer = uploader.upload(data_uri("image/png", data), timeout=30, **options)
    assert_upload_answer(answer, data, type=options.get("type", "upload"))
    return answer


def test_delivery_headers(blobs):
    data = png_bytes(11, 7, seed=5)
    answer = upload_png(data, public_id="pic")
    versioned = blobs.url("pic", format="png", version=answer["version"])

    response = blobs.fetch(versioned)
    assert response.status == 200 and response.body == data, response.describe()
    assert response.header("Content-Type").split(";")[0].strip() == "image/png", response.describe()
    assert int(response.header("Content-Length")) == len(data), response.describe()
    etag = response.header("ETag")
    assert etag and re.fullmatch(r'(W/)?"[^"]+"', etag), response.describe()
    assert response.header("Cache-Control") == IMMUTABLE, response.describe()
    assert response.header("X-Content-Type-Options") == "nosniff", response.describe()
    assert "attachment" not in (response.header("Content-Disposition") or ""), response.describe()

    # Without a version: the same bytes, not cached as immutable.
    unversioned = blobs.url("pic", format="png")
    assert "/v" not in unversioned.split(f"/{CLOUD}/image/upload/")[1], unversioned
    response = blobs.fetch(unversioned)
    assert response.status == 200 and response.body == data, response.describe()
    assert "immutable" not in (response.header("Cache-Control") or ""), response.describe()
    assert response.header("X-Content-Type-Options") == "nosniff", response.describe()

    # HEAD: the same head, no body.
    head = blobs.fetch(versioned, "HEAD")
    assert head.status == 200 and head.body == b"", head.describe()
    assert int(head.header("Content-Length")) == len(data), head.describe()
    assert head.header("ETag") == etag and head.header("Cache-Control") == IMMUTABLE, head.describe()
    assert head.header("Content-Type").split(";")[0].strip() == "image/png", head.describe()

    # An unknown id, or a known one with a wrong version component shape, is 404.
    assert blobs.fetch(blobs.url("nope", format="png", version=answer["version"])).status == 404
    assert blobs.fetch(blobs.url("pic", format="png", version=answer["version"], type="private")).status in (400, 404)


def test_ranges(blobs):
    data = png_bytes(30, 30, random_pixels=True)
    answer = upload_png(data, public_id="ranged")
    url = resource_url(answer)
    size = len(data)

    response = blobs.fetch(url, headers={"Range": "bytes=2-9"})
    assert response.status == 206 and response.body == data[2:10], response.describe()
    assert response.header("Content-Range") == f"bytes 2-9/{size}", response.describe()
    assert int(response.header("Content-Length")) == 8, response.describe()

    response = blobs.fetch(url, headers={"Range": "bytes=-5"})
    assert response.status == 206 and response.body == data[-5:], response.describe()
    assert response.header("Content-Range") == f"bytes {size - 5}-{size - 1}/{size}", response.describe()

    response = blobs.fetch(url, headers={"Range": f"bytes={size - 3}-"})
    assert response.status == 206 and response.body == data[-3:], response.describe()

    response = blobs.fetch(url, headers={"Range": f"bytes={size + 10}-{size + 20}"})
    assert response.status == 416, response.describe()
    assert response.header("Content-Range") == f"bytes */{size}", response.describe()

    # Range is defined for GET only (RFC 9110 §14.2): a HEAD with one is a plain HEAD.
    response = blobs.fetch(url, "HEAD", headers={"Range": "bytes=0-0"})
    assert response.status in (200, 206) and response.body == b"", response.describe()


@pytest.mark.parametrize("kind", ["jpeg", "gif", "pdf"])
def test_content_types(blobs, kind):
    data, content_type = {"jpeg": (jpeg_bytes(), "image/jpeg"), "gif": (gif_bytes(), "image/gif"),
                          "pdf": (PDF, "application/pdf")}[kind]
    answer = uploader.upload(data_uri(content_type, data), resource_type="auto", timeout=30)
    response = blobs.fetch(resource_url(answer))
    assert response.status == 200 and response.body == data, response.describe()
    assert response.header("Content-Type").split(";")[0].strip() == content_type, response.describe()
    assert response.header("X-Content-Type-Options") == "nosniff", response.describe()


@pytest.mark.parametrize("data", [TEXT, HTML, SVG], ids=["text", "html", "svg"])
def test_raw_files_are_attachments(blobs, tmp_path, data):
    path = tmp_path / "page.html"
    path.write_bytes(data)
    answer = uploader.upload(str(path), resource_type="auto", timeout=30)
    assert answer["resource_type"] == "raw", answer
    url = resource_url(answer)
    for method in ("GET", "HEAD"):
        response = blobs.fetch(url, method)
        assert response.status == 200, response.describe()
        assert response.body == (data if method == "GET" else b""), response.describe()
        disposition = response.header("Content-Disposition") or ""
        assert disposition.lower().startswith("attachment"), response.describe()
        assert response.header("X-Content-Type-Options") == "nosniff", response.describe()
        assert response.header("Cache-Control") == IMMUTABLE, response.describe()
        assert (response.header("Content-Type") or "").split(";")[0].strip().lower() not in \
            ("text/html", "image/svg+xml"), f"stored markup served as such from our origin:\n{response.describe()}"


def test_authenticated_assets_need_a_signed_url(blobs):
    data = png_bytes(6, 6, seed=9)
    answer = upload_png(data, public_id="secret/pic", type="authenticated")
    version = answer["version"]

    signed_url = blobs.url("secret/pic", format="png", version=version, type="authenticated", sign_url=True)
    assert "/s--" in signed_url, signed_url
    response = blobs.fetch(signed_url)
    assert response.status == 200 and response.body == data, response.describe()
    assert response.header("X-Content-Type-Options") == "nosniff", response.describe()
    # The answer's own URL works if it is signed, and is refused if it is not.
    response = blobs.fetch(answer["url"])
    assert response.status == (200 if "/s--" in answer["url"] else 401), response.describe()
    # Signed without the version: the version is not part of what is signed.
    response = blobs.fetch(blobs.url("secret/pic", format="png", type="authenticated", sign_url=True,
                                     force_version=False))
    assert response.status == 200 and response.body == data, response.describe()

    unsigned = blobs.url("secret/pic", format="png", version=version, type="authenticated")
    response = blobs.fetch(unsigned)
    assert response.status == 401, response.describe()

    # A tampered signature: one character changed, the signature of another asset, a signature made with another
    # secret.
    signature = re.search(r"/s--([^/]+)--/", signed_url).group(1)
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    response = blobs.fetch(signed_url.replace(f"s--{signature}--", f"s--{flipped}--"))
    assert response.status == 401, response.describe()
    other = upload_png(png_bytes(2, 2), public_id="secret/other", type="authenticated")
    other_url = blobs.url("secret/other", format="png", version=other["version"], type="authenticated",
                          sign_url=True)
    other_signature = re.search(r"/s--([^/]+)--/", other_url).group(1)
    response = blobs.fetch(signed_url.replace(f"s--{signature}--", f"s--{other_signature}--"))
    assert response.status == 401, response.describe()
    blobs.configure(api_secret="another-secret")
    forged = blobs.url("secret/pic", format="png", version=version, type="authenticated", sign_url=True)
    blobs.configure()
    assert forged != signed_url
    assert blobs.fetch(forged).status == 401

    # HEAD needs the signature too; the public URL form does not reach a private asset.
    assert blobs.fetch(unsigned, "HEAD").status == 401
    assert blobs.fetch(signed_url, "HEAD").status == 200
    assert blobs.fetch(blobs.url("secret/pic", format="png", version=version)).status in (401, 404)


def auth_token_key(blobs) -> str:
    """The key `chat blobs credentials` prints for token-based URLs."""
    output = blobs_credentials_output(blobs.server)
    match = re.search(r"^CLOUDINARY_AUTH_TOKEN_KEY=([0-9a-f]{64})$", output, re.MULTILINE)
    assert match, f"no CLOUDINARY_AUTH_TOKEN_KEY in the output:\n{output}"
    return match.group(1)


def test_sdk_token_urls_expire(blobs):
    # Cloudinary's token-based access (`auth_token`), as the SDK builds it with the key `chat blobs credentials`
    # prints: valid until its expiry, bound to its path (or ACL) and, if it names one, to the client's address.
    data = png_bytes(5, 7, seed=12)
    answer = upload_png(data, public_id="tokens/pic", type="authenticated")
    key = auth_token_key(blobs)

    def url(**token):
        return blobs.url("tokens/pic", format="png", version=answer["version"], type="authenticated",
                         sign_url=True, auth_token={"key": key, **token})

    fresh = url(duration=300)
    assert "__cld_token__=" in fresh and "/s--" not in fresh, fresh
    response = blobs.fetch(fresh)
    assert response.status == 200 and response.body == data, response.describe()
    covering = url(acl=f"/{CLOUD}/image/authenticated/*", duration=300)
    assert blobs.fetch(covering).status == 200, covering
    assert blobs.fetch(url(ip="127.0.0.1", duration=300)).status == 200

    expired = blobs.fetch(url(expiration=int(time.time()) - 60))
    assert_cloudinary_error(expired, 401)
    assert b"Token expired" in expired.body, expired.describe()
    later = blobs.fetch(url(start_time=int(time.time()) + 3600, duration=300))
    assert_cloudinary_error(later, 401)
    elsewhere = blobs.fetch(url(ip="192.0.2.7", duration=300))
    assert_cloudinary_error(elsewhere, 401)
    outside = blobs.fetch(url(acl=f"/{CLOUD}/raw/*", duration=300))
    assert_cloudinary_error(outside, 401)
    wrong_key = blobs.fetch(blobs.url("tokens/pic", format="png", version=answer["version"], type="authenticated",
                                      sign_url=True, auth_token={"key": "ab" * 32, "duration": 300}))
    assert_cloudinary_error(wrong_key, 401)
    # A token whose separators arrive percent-encoded (as URLSearchParams writes them) is the same token.
    path, token = fresh.split("?", 1)
    name, value = token.split("=", 1)
    assert blobs.fetch(path + "?" + name + "=" + quote(value, safe="")).status == 200
    # On a public asset a token changes nothing, even a bad one.
    public = upload_png(png_bytes(2, 2, seed=15), public_id="tokens/public")
    public_url = blobs.url("tokens/public", format="png", version=public["version"])
    assert blobs.fetch(public_url + "?__cld_token__=exp=1~hmac=" + "0" * 64).status == 200
    # A token for one asset does not open another.
    other = upload_png(png_bytes(2, 3, seed=13), public_id="tokens/other", type="authenticated")
    token = fresh.split("?", 1)[1]
    other_url = blobs.url("tokens/other", format="png", version=other["version"], type="authenticated")
    assert_cloudinary_error(blobs.fetch(other_url + "?" + token), 401)


def test_transformations_are_refused_by_name(blobs):
    data = png_bytes(8, 8)
    answer = upload_png(data, public_id="shape")
    url = blobs.url("shape", format="png", version=answer["version"], width=100, height=100, crop="fill")
    assert "c_fill,h_100,w_100" in url, url
    response = blobs.fetch(url)
    assert response.status == 400, response.describe()
    text = response.body.decode("utf-8", "replace")
    assert any(name in text for name in ("c_fill", "h_100", "w_100")), response.describe()
    # Chained, and on a signed authenticated URL.
    response = blobs.fetch(blobs.url("shape", format="png", version=answer["version"],
                                     transformation=[{"width": 10}, {"angle": 90}]))
    assert response.status == 400 and ("w_10" in response.body.decode() or "a_90" in response.body.decode()), \
        response.describe()
    upload_png(data, public_id="shape2", type="authenticated")
    response = blobs.fetch(blobs.url("shape2", format="png", type="authenticated", sign_url=True, width=50))
    assert response.status == 400 and b"w_50" in response.body, response.describe()
    # Original delivery still works.
    assert blobs.download(resource_url(answer)) == data


@pytest.mark.parametrize("path", [
    "/{cloud}/image/upload/../../../etc/passwd",
    "/{cloud}/image/upload/%2e%2e/%2e%2e/etc/passwd",
    "/{cloud}/image/upload/..%2f..%2fchat.db",
    "/{cloud}/raw/upload/credentials",
    "/{cloud}/raw/upload/v1/..%2fcredentials",
    "/{cloud}/image/upload/v1/%00.png",
])
def test_delivery_paths_never_reach_files(blobs, path):
    upload_png(png_bytes(2, 2), public_id="present")
    response = blobs.fetch(path.format(cloud=CLOUD))
    assert response.status in (400, 401, 404), response.describe()


def test_destroy(blobs, tmp_path):
    data = png_bytes(5, 5, seed=3)
    answer = upload_png(data, public_id="doomed")
    url = resource_url(answer)
    assert blobs.download(url) == data
    assert len(blobs.blob_files()) == 1

    result = uploader.destroy("doomed", timeout=30)
    assert result["result"] == "ok", result
    assert blobs.fetch(url).status == 404
    assert blobs.fetch(url, "HEAD").status == 404
    assert blobs.blob_files() == []
    assert uploader.destroy("doomed", timeout=30)["result"] == "not found"
    assert uploader.destroy("never-was", timeout=30)["result"] == "not found"

    # The id can be used again.
    again = upload_png(png_bytes(5, 5, seed=4), public_id="doomed")
    assert blobs.download(resource_url(again)) == png_bytes(5, 5, seed=4)

    # Resource type and type select the asset: a raw file and an authenticated image.
    path = tmp_path / "notes.txt"
    path.write_bytes(TEXT)
    raw = uploader.upload(str(path), resource_type="raw", public_id="notes.txt", timeout=30)
    assert uploader.destroy("notes.txt", timeout=30)["result"] == "not found", "an image destroy finds no raw file"
    assert uploader.destroy("notes.txt", resource_type="raw", invalidate=True, timeout=30)["result"] == "ok"
    assert blobs.fetch(resource_url(raw)).status == 404
    private = upload_png(data, public_id="hidden", type="authenticated")
    assert uploader.destroy("hidden", timeout=30)["result"] == "not found"
    assert uploader.destroy("hidden", type="authenticated", timeout=30)["result"] == "ok"
    assert blobs.fetch(resource_url(private, sign_url=True)).status == 404

    # destroy must be signed.
    response = blobs.post_form(blobs.api_path("destroy"), {"public_id": "doomed", "timestamp": int(time.time())})
    assert_cloudinary_error(response, 401)
    response = blobs.post_form(blobs.api_path("destroy"), signed({"public_id": "doomed",
                                                                  "timestamp": int(time.time())}, secret="x"))
    assert_cloudinary_error(response, 401)
    assert blobs.download(resource_url(again)) == png_bytes(5, 5, seed=4)
    response = blobs.post_form(blobs.api_path("destroy"), signed({"public_id": "doomed",
                                                                  "timestamp": int(time.time())}))
    assert response.status == 200 and response.json() == {"result": "ok"}, response.describe()


def test_same_bytes_are_one_file(blobs, tmp_path):
    data = png_bytes(12, 12, seed=7)
    first = upload_png(data, public_id="one")
    second = upload_png(data, public_id="two", type="authenticated")
    path = tmp_path / "same.png"
    path.write_bytes(data)
    third = uploader.upload(str(path), resource_type="raw", public_id="three.png", timeout=30)
    files = blobs.blob_files()
    assert len(files) == 1, files
    assert files[0].read_bytes() == data
    assert files[0].name == hashlib.sha256(data).hexdigest(), "content-addressed by SHA-256"

    # Other bytes are another file.
    other = upload_png(png_bytes(12, 12, seed=8), public_id="other")
    assert len(blobs.blob_files()) == 2

    # Deleting one reference keeps the others.
    assert uploader.destroy("one", timeout=30)["result"] == "ok"
    assert blobs.fetch(resource_url(first)).status == 404
    assert blobs.download(resource_url(second, sign_url=True)) == data
    assert blobs.download(resource_url(third)) == data
    assert len(blobs.blob_files()) == 2
    assert uploader.destroy("two", type="authenticated", timeout=30)["result"] == "ok"
    assert blobs.download(resource_url(third)) == data
    assert len(blobs.blob_files()) == 2

    # The last reference takes the file with it.
    assert uploader.destroy("three.png", resource_type="raw", timeout=30)["result"] == "ok"
    assert [file.name for file in blobs.blob_files()] == [hashlib.sha256(png_bytes(12, 12, seed=8))
                                                          .hexdigest()]
    assert blobs.download(resource_url(other)) == png_bytes(12, 12, seed=8)

    # Overwriting the last reference to some bytes removes them too.
    upload_png(png_bytes(12, 12, seed=9), public_id="other")
    assert [file.name for file in blobs.blob_files()] == [hashlib.sha256(png_bytes(12, 12, seed=9))
                                                          .hexdigest()]


def test_assets_survive_a_restart(blobs):
    data = png_bytes(4, 9, seed=11)
    public = upload_png(data, public_id="kept")
    private = upload_png(data, public_id="kept-private", type="authenticated")
    server = blobs.server
    assert server.stop() == 0
    server.start()
    blobs.configure()
    assert blobs.download(resource_url(public)) == data
    assert blobs.download(resource_url(private, sign_url=True)) == data
    again = uploader.upload(data_uri("image/png", data), public_id="kept", overwrite=False, timeout=30)
    assert again.get("existing") is True and again["version"] == public["version"], again


@pytest.mark.parametrize("public_id", ["photos/café ñ", "a b/c,d;e", "日本/写真", "x(1)=y!~"])
def test_public_ids_with_special_characters(blobs, public_id):
    """Cloudinary allows any printable character but `? & # \\ % < > +`: the SDK escapes them in URLs, signed ones
    included, and the server finds the asset from the escaped path."""
    data = png_bytes(3, 2, seed=len(public_id))
    public = upload_png(data, public_id=public_id)
    assert public["public_id"] == public_id, public
    response = blobs.fetch(resource_url(public))
    assert response.status == 200 and response.body == data, (resource_url(public), response.describe())
    private = upload_png(data, public_id=public_id, type="authenticated")
    signed_url = resource_url(private, sign_url=True)
    response = blobs.fetch(signed_url)
    assert response.status == 200 and response.body == data, (signed_url, response.describe())
    assert blobs.fetch(resource_url(private)).status == 401
    assert uploader.destroy(public_id, timeout=30)["result"] == "ok"
    assert blobs.fetch(resource_url(public)).status == 404
