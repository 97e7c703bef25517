"""Helpers for the blob store tests (issue 7, docs/blobs.md): a `chat` server with known Cloudinary credentials, the
real `cloudinary` Python SDK pointed at it, tiny media files built from Python literals, and a hand-made
`multipart/form-data` client for the requests the SDK will not make (stale timestamps, broken chunk sequences,
HTTP Basic, a 200 MB streamed body).

`start_blobs(env=...)` starts `chat serve` with `BLOB_ENV` (plus the accounts/realtime test settings, so the chat
API and the WebSocket work too) and configures the SDK for it; `blobs` is one such server with the defaults. Import
both into a test module. On teardown the SDK configuration is reset, WebSocket connections are closed, and the test
fails if the server answered any request with a 5xx status (from its access log, so the SDK's requests count too).

The media files are valid files of their formats, built here without any imaging library: PNG (zlib), a baseline
JPEG whose every 8x8 block is flat (one-symbol Huffman tables), a GIF whose LZW stream clears every two pixels (every
code 3 bits), a 1x1 lossless WebP, a one-page PDF, the first boxes of an MP4 and the EBML header of a WebM.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import re
import struct
import threading
import time
import uuid
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import cloudinary
import cloudinary.uploader
import cloudinary.utils
import pytest

from helpers import HOST, WAIT, Response, run_chat
from wshelpers import RT_ENV, Realtime

API_KEY = "614937258830127"
API_SECRET = "e2e-Secret_k9Zq3vT7wXbLm2Np"
CLOUD = "e2ecloud"

# Presets (docs/blobs.md, `presets`): `open` takes unsigned uploads into a folder with a tag; `signedonly` must be
# signed; `pngonly` is unsigned but only PNGs of at most 2000 bytes; `private` makes unsigned uploads authenticated.
PRESETS = ("open:unsigned=true,folder=incoming,tags=anon|guest;"
           "signedonly:unsigned=false;"
           "pngonly:unsigned=true,formats=png,max_bytes=2000;"
           "private:unsigned=true,type=authenticated")

BLOB_ENV = {
    "CHAT_BLOBS_API_KEY": API_KEY,
    "CHAT_BLOBS_API_SECRET": API_SECRET,
    "CHAT_BLOBS_CLOUD_NAME": CLOUD,
    "CHAT_BLOBS_PRESETS": PRESETS,
}

# The keys of an upload answer (docs/blobs.md "Answer 200"); `existing`/`overwritten` come on top when they apply.
ANSWER_KEYS = {"asset_id", "public_id", "version", "version_id", "signature", "width", "height", "format",
               "resource_type", "created_at", "tags", "bytes", "type", "etag", "placeholder", "url", "secure_url",
               "folder", "original_filename", "api_key"}
ATTACHMENT_KEYS = {"public_id", "resource_type", "format", "bytes", "width", "height", "original_filename", "url"}
IMMUTABLE = "public, max-age=31536000, immutable"
ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


# --------------------------------------------------------------------------------------------------------------
# Media files from literals


def png_bytes(width: int = 7, height: int = 5, seed: int = 0, random_pixels: bool = False) -> bytes:
    """An RGB PNG; `seed` changes the pixels (so two calls can differ), `random_pixels` makes it incompressible
    (stored with zlib level 0), for files of a chosen size."""
    if random_pixels:
        rows = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))
        compressed = zlib.compress(rows, 0)
    else:
        rows = b"".join(b"\x00" + bytes((x * 7 + y * 13 + seed) & 0xFF for x in range(width * 3))
                        for y in range(height))
        compressed = zlib.compress(rows, 9)

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", compressed) + chunk(b"IEND", b""))


def jpeg_bytes(width: int = 37, height: int = 21) -> bytes:
    """A baseline grey-scale JPEG whose blocks are all flat: one-symbol Huffman tables (DC category 0, AC EOB, each
    the 1-bit code `0`), so every 8x8 block is the two bits `00`."""
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    bits = "00" * blocks
    bits += "1" * (-len(bits) % 8)
    scan = int(bits, 2).to_bytes(len(bits) // 8, "big")  # never 0xFF: no byte stuffing needed

    def segment(marker: int, payload: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload

    one_symbol = bytes([1] + [0] * 15) + b"\x00"
    return (b"\xff\xd8"
            + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
            + segment(0xDB, b"\x00" + b"\x01" * 64)
            + segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
            + segment(0xC4, b"\x00" + one_symbol)
            + segment(0xC4, b"\x10" + one_symbol)
            + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
            + scan + b"\xff\xd9")


def gif_bytes(width: int = 6, height: int = 4) -> bytes:
    """A two-colour GIF89a (a checkerboard). LZW with minimum code size 2 (clear 4, end 5) and a clear code before
    every two pixels, so that the code width never grows past 3 bits."""
    pixels = [(x + y) % 2 for y in range(height) for x in range(width)]
    codes = []
    for index in range(0, len(pixels), 2):
        codes += [4, *pixels[index:index + 2]]
    codes.append(5)
    packed, accumulator, count = bytearray(), 0, 0
    for code in codes:
        accumulator |= code << count
        count += 3
        while count >= 8:
            packed.append(accumulator & 0xFF)
            accumulator >>= 8
            count -= 8
    if count:
        packed.append(accumulator & 0xFF)
    blocks = b"".join(bytes([len(packed[i:i + 255])]) + bytes(packed[i:i + 255]) for i in range(0, len(packed), 255))
    return (b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
            + b"," + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02" + blocks + b"\x00;")


# A 1x1 lossless WebP (VP8L).
WEBP_1X1 = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")

PDF = (b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
       b"2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n"
       b"3 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]>> endobj\n"
       b"trailer <</Root 1 0 R>>\n%%EOF\n")

# The `ftyp` box of an ISO base media file (major brand isom), then a free and an (empty-ish) mdat box.
MP4 = (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00\x00\x00\x08free"
       + b"\x00\x00\x00\x10mdat" + bytes(range(8)))


def _ebml(element_id: bytes, payload: bytes) -> bytes:
    return element_id + bytes([0x80 | len(payload)]) + payload


# An EBML header with DocType webm, then a Segment of unknown size.
WEBM = (_ebml(b"\x1a\x45\xdf\xa3", _ebml(b"\x42\x86", b"\x01") + _ebml(b"\x42\xf7", b"\x01")
                + _ebml(b"\x42\xf2", b"\x04") + _ebml(b"\x42\xf3", b"\x08") + _ebml(b"\x42\x82", b"webm")
                + _ebml(b"\x42\x87", b"\x02") + _ebml(b"\x42\x85", b"\x02"))
        + b"\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff")

TEXT = b"plain notes, not an image\n" * 3
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>\n"
SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<script>alert(document.cookie)</script><rect width="10" height="10"/></svg>\n')


# --------------------------------------------------------------------------------------------------------------
# multipart/form-data by hand


def multipart(fields=(), files=(), boundary: str | None = None) -> tuple[bytes, str]:
    """`fields`: (name, value) pairs; `files`: (name, filename, bytes, content type) tuples. Returns the body and
    its Content-Type."""
    boundary = boundary or "----e2e" + uuid.uuid4().hex
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                     + str(value).encode() + b"\r\n")
    for name, filename, data, content_type in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def signed(params: dict, secret: str = API_SECRET, api_key: str = API_KEY, algorithm: str = "sha1") -> dict:
    """`params` plus `api_key` and the `signature` the SDK itself computes for them (`utils.api_sign_request`)."""
    clean = {key: value for key, value in params.items() if value not in (None, "")}
    signature = cloudinary.utils.api_sign_request(clean, secret, algorithm)
    return {**clean, "api_key": api_key, "signature": signature}


def basic(api_key: str = API_KEY, secret: str = API_SECRET) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{api_key}:{secret}".encode()).decode()}


def assert_cloudinary_error(response: Response, status: int, *needles: str) -> str:
    """`status` with Cloudinary's error body `{"error": {"message": "..."}}` whose message contains every needle
    (case-insensitively); returns the message."""
    assert response.status == status, f"expected {status}, got:\n{response.describe()}"
    content_type = (response.header("Content-Type") or "").split(";")[0].strip().lower()
    assert content_type == "application/json", response.describe()
    document = json.loads(response.body)
    assert isinstance(document, dict) and isinstance(document.get("error"), dict), response.describe()
    message = document["error"].get("message")
    assert isinstance(message, str) and message.strip(), response.describe()
    for needle in needles:
        assert needle.lower() in message.lower(), f"{needle!r} not in the message:\n{response.describe()}"
    return message


# --------------------------------------------------------------------------------------------------------------
# Answers


def assert_upload_answer(answer: dict, data: bytes | None = None, *, resource_type: str = "image",
                         type: str = "upload", format: str | None = None, width: int | None = None,
                         height: int | None = None, size: int | None = None, etag: str | None = None) -> dict:
    """An upload answer as docs/blobs.md lists it, signed as the SDK verifies it, describing `data` (or an asset of
    `size` bytes with MD5 `etag`)."""
    # `original_filename` is checked by the tests that upload a named file (a data URI has no file name).
    missing = ANSWER_KEYS - set(answer) - {"original_filename"}
    if resource_type != "image":
        missing -= {"width", "height"}  # images only (issue 7)
    if resource_type == "raw":
        missing -= {"format"}  # Cloudinary has no format for raw files; the public id carries the extension
    assert not missing, f"answer lacks {sorted(missing)}: {answer}"
    assert isinstance(answer["asset_id"], str) and answer["asset_id"], answer
    assert isinstance(answer["public_id"], str) and answer["public_id"], answer
    version = answer["version"]
    assert isinstance(version, int) and not isinstance(version, bool), answer
    assert abs(version - time.time()) < 3600, f"version is not the upload's unix time: {answer}"
    assert isinstance(answer["version_id"], str) and answer["version_id"], answer
    expected_signature = sha1(f"public_id={answer['public_id']}&version={version}{API_SECRET}")
    assert answer["signature"] == expected_signature, answer
    assert cloudinary.utils.verify_api_response_signature(answer["public_id"], version, answer["signature"], "sha1")
    assert answer["resource_type"] == resource_type, answer
    assert answer["type"] == type, answer
    if format is not None:
        assert answer["format"] == format, answer
    if width is not None:
        assert answer["width"] == width and answer["height"] == height, answer
    assert ISO_Z.fullmatch(answer["created_at"]), answer
    assert isinstance(answer["tags"], list), answer
    if data is not None:
        size, etag = len(data), md5(data)
    if size is not None:
        assert answer["bytes"] == size, answer
    if etag is not None:
        assert answer["etag"] == etag, answer
    assert answer["placeholder"] is False, answer
    assert answer["api_key"] == API_KEY, answer
    assert isinstance(answer["folder"], str), answer
    for key in ("url", "secure_url"):
        parts = urlsplit(answer[key])
        assert parts.scheme in ("http", "https") and parts.netloc, (key, answer)
    assert urlsplit(answer["url"]).path == urlsplit(answer["secure_url"]).path, answer
    # The SDK's URL for the answer (an authenticated asset's may carry a signature, as Cloudinary's do).
    path = urlsplit(answer["url"]).path
    expected = urlsplit(resource_url(answer, sign_url="/s--" in path)).path
    assert path == expected, f"the answer's url is not the one the SDK builds from the answer ({expected}): {answer}"
    return answer


def blobs_credentials_output(server) -> str:
    """What `chat blobs credentials` prints for the server's data directory and blob settings."""
    result = run_chat(["blobs", "credentials", "--data-dir", str(server.data_dir)], cwd=server.workdir,
                      env={key: value for key, value in server.env.items() if key.startswith("CHAT_BLOBS_")})
    assert result.returncode == 0, f"chat blobs credentials: {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def resource_url(answer: dict, **options) -> str:
    """The delivery URL an application builds from an upload answer with the SDK (what `upload_resource` does)."""
    resource = cloudinary.CloudinaryResource(answer["public_id"], format=answer.get("format"),
                                             version=str(answer["version"]), type=answer["type"],
                                             resource_type=answer["resource_type"])
    return resource.build_url(**options)


def assert_attachment(attachment: dict, answer: dict) -> dict:
    """One entry of a message's `attachments` (docs/blobs.md, Chat) describing the upload `answer`."""
    assert set(attachment) == ATTACHMENT_KEYS, f"attachment keys {sorted(attachment)}: {attachment}"
    for key in ("public_id", "resource_type", "bytes", "width", "height", "original_filename"):
        assert attachment.get(key) == answer.get(key), (key, attachment, answer)
    # A raw upload's answer has no format (its public id carries the extension); its attachment may name one.
    extension = answer["public_id"].rsplit(".", 1)[-1] if "." in answer["public_id"] else None
    assert attachment.get("format") in ((answer.get("format"), extension) if answer["resource_type"] == "raw"
                                        else (answer.get("format"),)), (attachment, answer)
    url = attachment["url"]
    assert isinstance(url, str) and "/authenticated/" in url and "?__cld_token__=exp=" in url and "/s--" not in url, \
        f"the attachment's url is not an expiring (token) delivery URL: {attachment}"
    return attachment


def check_message_with_attachments(message: dict, answers: list[dict]) -> dict:
    """A message (REST or an event's data) whose attachments describe `answers`, in order; the rest of it is checked
    with chathelpers' shape check (which wants no attachments)."""
    from chathelpers import assert_message

    attachments = message["attachments"]
    assert_message({**{k: v for k, v in message.items() if k != "chat_room_id"}, "attachments": []})
    assert isinstance(attachments, list) and len(attachments) == len(answers), message
    for attachment, answer in zip(attachments, answers):
        assert_attachment(attachment, answer)
    return message


# --------------------------------------------------------------------------------------------------------------
# The server


class BlobServer:
    """A running `chat serve` with the blob settings, its chat client (`chat`, a `chathelpers.Chat`) and realtime
    connections (`rt`, a `wshelpers.Realtime`)."""

    def __init__(self, chat):
        self.chat = chat
        self.server = chat.server
        self.rt = Realtime(chat)

    @property
    def port(self) -> int:
        return self.server.port

    # -- SDK -------------------------------------------------------------------------------------------------

    @property
    def prefix(self) -> str:
        return f"http://{HOST}:{self.port}"

    def configure(self, **overrides) -> None:
        """Point the SDK at this server (a fresh configuration; `overrides` on top)."""
        cloudinary.reset_config()
        settings = dict(cloud_name=CLOUD, api_key=API_KEY, api_secret=API_SECRET, upload_prefix=self.prefix,
                        secure=False, cname=f"{HOST}:{self.port}")
        settings.update(overrides)
        cloudinary.config(**settings)

    def url(self, public_id: str, **options) -> str:
        return cloudinary.utils.cloudinary_url(public_id, **options)[0]

    # -- raw HTTP --------------------------------------------------------------------------------------------

    def api_path(self, action: str = "upload", resource_type: str = "image", cloud: str = CLOUD) -> str:
        return f"/v1_1/{cloud}/{resource_type}/{action}"

    def post_form(self, path: str, fields=(), files=(), headers: dict[str, str] | None = None,
                  timeout: float = 60) -> Response:
        if isinstance(fields, dict):
            fields = list(fields.items())
        body, content_type = multipart(fields, files)
        return self.server.request("POST", path, {"Content-Type": content_type, **(headers or {})}, body, timeout)

    def upload_raw_http(self, data: bytes, params: dict | None = None, resource_type: str = "image",
                        filename: str = "file.bin", headers=None, sign: bool = True, **sign_options) -> Response:
        """A signed upload request made by hand (the SDK's exceptions hide the status and body)."""
        params = {"timestamp": int(time.time()), **(params or {})}
        fields = signed(params, **sign_options) if sign else params
        return self.post_form(self.api_path("upload", resource_type), fields,
                              [("file", filename, data, "application/octet-stream")], headers)

    def fetch(self, url: str, method: str = "GET", headers: dict[str, str] | None = None,
              timeout: float = WAIT) -> Response:
        """GET (or HEAD) a delivery URL, which must point at this server; a bare path is taken as on it."""
        parts = urlsplit(url)
        if parts.netloc:
            assert parts.netloc == f"{HOST}:{self.port}", f"{url} does not point at this server ({self.port})"
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return self.server.request(method, path, headers or {}, None, timeout)

    def download(self, url: str) -> bytes:
        response = self.fetch(url)
        assert response.status == 200, f"GET {url}:\n{response.describe()}"
        return response.body

    # -- process and disk ------------------------------------------------------------------------------------

    def blob_files(self) -> list[Path]:
        """The stored blobs: files under `<data_dir>/blobs/` named by a SHA-256 (temporary files and the credentials
        file are not blobs)."""
        root = self.server.data_dir / "blobs"
        return sorted(path for path in root.rglob("*")
                      if path.is_file() and re.fullmatch(r"[0-9a-f]{64}", path.name)
                      and "tmp" not in path.relative_to(root).parts)

    def status_field(self, field: str) -> int:
        """A `kB` field of /proc/<pid>/status of the server, in bytes."""
        with open(f"/proc/{self.server.proc.pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        raise AssertionError(f"no {field} in /proc/{self.server.proc.pid}/status")

    def server_error_lines(self) -> list[dict]:
        return [entry for entry in self.server.access_entries()
                if str(entry.get("status", "")).isdigit() and int(entry["status"]) >= 500]


@pytest.fixture
def start_blobs(start_chat, monkeypatch):
    """Factory: `start_blobs(env=...)` starts a server with `BLOB_ENV` (plus the chat and realtime test settings) and
    `env` (a value of None drops a setting), points the SDK at it and returns a `BlobServer`."""
    monkeypatch.delenv("CLOUDINARY_URL", raising=False)
    made: list[BlobServer] = []

    def start(*, env: dict[str, str] | None = None, configure: bool = True, **options) -> BlobServer:
        merged = {key: value for key, value in {**RT_ENV, **BLOB_ENV, **(env or {})}.items() if value is not None}
        blob_server = BlobServer(start_chat(env=merged, **options))
        made.append(blob_server)
        if configure:
            blob_server.configure()
        return blob_server

    yield start

    cloudinary.reset_config()
    for blob_server in made:
        blob_server.rt.close_all()
    errors = []
    for blob_server in made:
        time.sleep(0.05)  # the access line of the last answer
        errors += [f"{entry.get('method')} {entry.get('path')} -> {entry.get('status')}"
                   for entry in blob_server.server_error_lines()]
    if errors:
        pytest.fail(f"{len(errors)} requests answered with a 5xx status:\n" + "\n".join(errors[:20]), pytrace=False)


@pytest.fixture
def blobs(start_blobs) -> BlobServer:
    return start_blobs()


class RSSSampler:
    """Samples a process's VmRSS every `interval` seconds in a thread (for the streaming upload test)."""

    def __init__(self, blob_server: BlobServer, interval: float = 0.02):
        self.blob_server = blob_server
        self.interval = interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.samples.append(self.blob_server.status_field("VmRSS"))
            except (OSError, AssertionError):
                return
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)


def stream_upload(port: int, path: str, fields: list[tuple[str, str]], filename: str, size: int,
                  block: bytes, headers: dict[str, str] | None = None, timeout: float = 120) -> tuple[Response, str]:
    """POST a multipart upload whose file part is `size` bytes made of `block` repeated (each copy stamped with its
    index so the content does not repeat), streamed with a Content-Length; never holds more than a block in memory
    here. Returns the response and the MD5 of the bytes sent."""
    boundary = "----e2e" + uuid.uuid4().hex
    head = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                    for name, value in fields)
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
             "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    digest = hashlib.md5()
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        connection.putheader("Content-Length", str(len(head) + size + len(tail)))
        for key, value in (headers or {}).items():
            connection.putheader(key, value)
        connection.endheaders()
        connection.send(head)
        sent, index = 0, 0
        while sent < size:
            piece = (struct.pack(">Q", index) + block[8:])[:size - sent]
            digest.update(piece)
            connection.send(piece)
            sent += len(piece)
            index += 1
        connection.send(tail)
        reply = connection.getresponse()
        body = reply.read()
        return Response(reply.status, reply.reason, reply.getheaders(), body), digest.hexdigest()
    finally:
        connection.close()
