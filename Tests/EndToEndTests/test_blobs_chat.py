"""Blob store, chat integration (issue 7, docs/blobs.md "Chat"): `POST /api/v1/uploads` with a bearer token stores an
authenticated asset owned by the caller, within `user_quota`; messages carry `attachments: [public_id]` of the
sender's own uploads, over REST and over the WebSocket, and NEW_MESSAGE and history describe each with a signed URL
that downloads the bytes; `PATCH /users/me {"avatar_public_id"}` makes an upload the public avatar."""

from __future__ import annotations

import json
import os
import re
import time

import cloudinary.uploader as uploader

from authhelpers import assert_unauthorized, assert_validation
from blobhelpers import (  # noqa: F401
    TEXT,
    assert_upload_answer,
    blobs,
    check_message_with_attachments,
    data_uri,
    jpeg_bytes,
    multipart,
    png_bytes,
    start_blobs,
)
from chathelpers import assert_status
from helpers import Response, assert_json_error


def chat_upload(blobs, account, data: bytes, filename: str = "photo.png", content_type: str = "image/png",
                token: str | None = None) -> Response:
    body, multipart_type = multipart(files=[("file", filename, data, content_type)])
    headers = {"Content-Type": multipart_type}
    if token is not False:
        headers["Authorization"] = f"Bearer {token or account.access}"
    response = blobs.server.request("POST", "/api/v1/uploads", headers, body, 60)
    if response.status >= 500:
        blobs.chat.server_errors.append(f"POST /api/v1/uploads -> {response.describe()}")
    return response


def uploaded(blobs, account, data: bytes, filename: str = "photo.png", content_type: str = "image/png") -> dict:
    response = chat_upload(blobs, account, data, filename, content_type)
    assert response.status in (200, 201), response.describe()
    return response.json()


def assert_api_error(response: Response, statuses: tuple[int, ...]) -> dict:
    """An error of one of `statuses` with an `{"error": {..., "message"}}` body."""
    assert response.status in statuses, f"expected one of {statuses}, got:\n{response.describe()}"
    document = json.loads(response.body)
    assert isinstance(document.get("error"), dict) and document["error"].get("message"), response.describe()
    return document["error"]


def test_chat_upload(blobs):
    chat = blobs.chat
    alice = chat.user("alice")
    data = png_bytes(8, 6, seed=2)
    response = chat_upload(blobs, alice, data, "holiday.png")
    assert response.status in (200, 201), response.describe()
    answer = assert_upload_answer(response.json(), data, type="authenticated", format="png", width=8, height=6)
    assert answer["original_filename"] == "holiday", answer
    # Private: the unsigned URL is refused, a signed one works.
    unsigned = blobs.url(answer["public_id"], format="png", version=answer["version"], type="authenticated")
    assert blobs.fetch(unsigned).status == 401
    signed_url = blobs.url(answer["public_id"], format="png", version=answer["version"], type="authenticated",
                           sign_url=True)
    assert blobs.download(signed_url) == data

    # Raw files too.
    raw = uploaded(blobs, alice, TEXT, "notes.txt", "text/plain")
    assert raw["resource_type"] == "raw" and raw["type"] == "authenticated" and raw["bytes"] == len(TEXT), raw

    # A bearer token is required.
    assert_unauthorized(chat_upload(blobs, alice, data, token=False), "unauthorized")
    assert_unauthorized(chat_upload(blobs, alice, data, token="not-a-token"), "invalid_token")
    # A body without a file part.
    body, multipart_type = multipart(fields=[("note", "no file")])
    response = blobs.server.request("POST", "/api/v1/uploads",
                                    {"Content-Type": multipart_type, "Authorization": f"Bearer {alice.access}"}, body)
    assert response.status in (400, 422), response.describe()
    response = chat.post("uploads", {"file": data_uri("image/png", data)}, alice.access)
    assert response.status in (400, 415, 422), response.describe()


def test_attachments_over_rest(blobs):
    chat = blobs.chat
    alice, bob, carol = chat.user("alice"), chat.user("bob"), chat.user("carol")
    room = chat.dm(alice, bob)["id"]
    picture, photo = png_bytes(9, 9, seed=4), jpeg_bytes(20, 10)
    first = uploaded(blobs, alice, picture, "cat.png")
    second = uploaded(blobs, alice, photo, "photo.jpg", "image/jpeg")

    response = chat.post_message(alice, room, "look", attachments=[first["public_id"], second["public_id"]])
    assert_status(response, 201, "message with attachments")
    sent = check_message_with_attachments(response.json(), [first, second])
    assert [a["public_id"] for a in sent["attachments"]] == [first["public_id"], second["public_id"]]

    # Bob reads it in the history: the same attachments, with URLs that download the bytes.
    response = chat.history_response(bob, room)
    assert_status(response, 200, "history")
    stored = next(m for m in response.json()["messages"] if m["id"] == sent["id"])
    check_message_with_attachments(stored, [first, second])
    picture_url, photo_url = (a["url"] for a in stored["attachments"])
    assert blobs.download(picture_url) == picture
    fetched = blobs.fetch(photo_url)
    assert fetched.status == 200 and fetched.body == photo, fetched.describe()
    assert fetched.header("Content-Type").split(";")[0] == "image/jpeg", fetched.describe()
    # The URL carries an expiring token: without it, or with its expiry changed, it is refused.
    bare, token = picture_url.split("?", 1)
    assert blobs.fetch(bare).status == 401, bare
    expiry = int(token.split("exp=", 1)[1].split("~", 1)[0])
    tampered = picture_url.replace(f"exp={expiry}", f"exp={expiry + 86400}")
    answer = blobs.fetch(tampered)
    assert answer.status == 401 and b"Invalid token" in answer.body, answer.describe()
    # The room's last message carries them too.
    response = chat.get(f"rooms/{room}", bob.access)
    assert_status(response, 200, "room")
    check_message_with_attachments(response.json()["last_message"], [first, second])

    # Several messages may use one upload.
    response = chat.post_message(alice, room, "again", attachments=[first["public_id"]])
    assert_status(response, 201, "reuse of an upload")
    check_message_with_attachments(response.json(), [first])

    # Someone else's upload, an unknown id, an id from the Upload API (owned by no user), more than 10, or not a
    # list of strings: 422, and no message.
    carols = uploaded(blobs, carol, png_bytes(2, 2, seed=5))
    api_asset = uploader.upload(data_uri("image/png", png_bytes(2, 2, seed=6)), timeout=30)
    start = chat.get(f"rooms/{room}", alice.access).json()["last_seq"]
    many = [uploaded(blobs, alice, png_bytes(1, 1, seed=10 + i))["public_id"] for i in range(11)]
    for attachments in ([carols["public_id"]], ["no-such-upload"], [api_asset["public_id"]],
                        [first["public_id"], carols["public_id"]], many):
        response = chat.post_message(alice, room, "x", attachments=attachments)
        assert_validation(response, "attachments")
    for attachments in ([7], [{"public_id": first["public_id"]}], first["public_id"]):
        error = assert_json_error(chat.post_message(alice, room, "x", attachments=attachments), 422)
        assert error["code"] in ("validation_failed", "invalid_body"), error
    assert_status(chat.post_message(alice, room, "ten", attachments=many[:10]), 201, "ten attachments")
    assert chat.get(f"rooms/{room}", alice.access).json()["last_seq"] == start + 1, "refused messages take no seq"
    # Bob cannot attach Alice's upload either.
    assert_validation(chat.post_message(bob, room, "mine now", attachments=[first["public_id"]]), "attachments")


def test_raw_file_attachment(blobs):
    chat = blobs.chat
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.dm(alice, bob)["id"]
    notes = uploaded(blobs, alice, TEXT, "notes.txt", "text/plain")
    response = chat.post_message(alice, room, "minutes", attachments=[notes["public_id"]])
    assert_status(response, 201, "message with a raw attachment")
    # docs/blobs.md: each attachment carries public_id, resource_type, format, bytes, width, height,
    # original_filename and url (width and height are null for a file that is not an image).
    attachment = check_message_with_attachments(response.json(), [notes])["attachments"][0]
    assert attachment["width"] is None and attachment["height"] is None, attachment
    fetched = blobs.fetch(attachment["url"])
    assert fetched.status == 200 and fetched.body == TEXT, fetched.describe()
    assert (fetched.header("Content-Disposition") or "").lower().startswith("attachment"), fetched.describe()


def test_attachments_over_the_websocket(blobs):
    chat = blobs.chat
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.group(alice, [bob], name="pictures")["id"]
    data = jpeg_bytes(24, 16)
    answer = uploaded(blobs, alice, data, "shot.jpg", "image/jpeg")
    alice_ws, bob_ws = blobs.rt.connect(alice), blobs.rt.connect(bob)

    ack = alice_ws.send_message(room, "via ws", client_msg_id="ws-1", attachments=[answer["public_id"]])
    event = bob_ws.expect("NEW_MESSAGE", lambda d: d.get("id") == ack["message_id"])["data"]
    assert event["chat_room_id"] == room, event
    check_message_with_attachments(event, [answer])
    assert blobs.download(event["attachments"][0]["url"]) == data

    # A REST send reaches the WebSocket with the attachments too.
    other = uploaded(blobs, alice, png_bytes(3, 4, seed=8))
    response = chat.post_message(alice, room, "via rest", attachments=[other["public_id"]])
    assert_status(response, 201, "REST send")
    event = bob_ws.expect("NEW_MESSAGE", lambda d: d.get("id") == response.json()["id"])["data"]
    check_message_with_attachments(event, [other])
    assert blobs.download(event["attachments"][0]["url"]) == png_bytes(3, 4, seed=8)

    # Someone else's upload over the WebSocket: a validation error, nothing sent.
    error = bob_ws.call_error("SEND_MESSAGE", {"chat_room_id": room, "content": "stolen",
                                               "attachments": [answer["public_id"]]}, "validation_failed")
    assert "attachments" in error.get("fields", {}), error
    ack = bob_ws.send_message(room, "plain")
    alice_ws.expect("NEW_MESSAGE", lambda d: d.get("id") == ack["message_id"])
    alice_ws.never_got("NEW_MESSAGE", lambda d: d.get("content") == "stolen")


def test_user_quota(start_blobs):
    blobs = start_blobs(env={"CHAT_BLOBS_USER_QUOTA": "10k"})
    chat = blobs.chat
    alice, bob = chat.user("alice"), chat.user("bob")
    first = os.urandom(6000)
    uploaded(blobs, alice, first, "a.bin", "application/octet-stream")
    response = chat_upload(blobs, alice, os.urandom(6000), "b.bin", "application/octet-stream")
    assert_api_error(response, (413, 422))
    files = blobs.blob_files()
    assert len(files) == 1, files
    # The quota is per user, and uploads under it still work.
    uploaded(blobs, bob, os.urandom(6000), "c.bin", "application/octet-stream")
    uploaded(blobs, alice, os.urandom(3000), "d.bin", "application/octet-stream")
    # The Upload API (the operator's credentials) is not a user's quota.
    uploader.upload(data_uri("application/octet-stream", os.urandom(20_000)), resource_type="raw", timeout=30)


def test_avatar_from_an_upload(blobs):
    chat = blobs.chat
    alice, bob = chat.user("alice"), chat.user("bob")
    data = png_bytes(16, 16, seed=12)
    answer = uploaded(blobs, alice, data, "me.png")

    response = chat.patch("users/me", {"avatar_public_id": answer["public_id"]}, alice.access)
    assert_status(response, 200, "avatar from an upload")
    me = response.json()
    avatar_url = me["avatar_url"]
    assert isinstance(avatar_url, str) and answer["public_id"] in avatar_url, me
    # Served publicly: no token, no signature.
    fetched = blobs.fetch(avatar_url)
    assert fetched.status == 200 and fetched.body == data, fetched.describe()
    assert fetched.header("Content-Type").split(";")[0] == "image/png", fetched.describe()
    # Others see it on the profile.
    profile = chat.get(f"users/{alice.id}", bob.access)
    assert_status(profile, 200, "profile")
    assert profile.json()["avatar_url"] == avatar_url, profile.json()
    assert chat.me(alice.access).json()["avatar_url"] == avatar_url

    # Someone else's upload, or an unknown id, is not an avatar.
    bobs = uploaded(blobs, bob, png_bytes(2, 2, seed=13))
    assert_validation(chat.patch("users/me", {"avatar_public_id": bobs["public_id"]}, alice.access),
                      "avatar_public_id")
    assert_validation(chat.patch("users/me", {"avatar_public_id": "no-such-upload"}, alice.access),
                      "avatar_public_id")
    error = assert_json_error(chat.patch("users/me", {"avatar_public_id": 5}, alice.access), 422)
    assert error["code"] in ("validation_failed", "invalid_body"), error
    assert chat.me(alice.access).json()["avatar_url"] == avatar_url
    # Bob's upload stays private.
    assert blobs.fetch(blobs.url(bobs["public_id"], format="png", version=bobs["version"],
                                 type="authenticated")).status == 401
    # The avatar itself is public (issue 7: "public type=upload"; docs: "served publicly from then on"): its URL
    # needs no signature.
    assert "/s--" not in avatar_url and "/authenticated/" not in avatar_url, f"the avatar is not public: {me}"
    unsigned = blobs.url(answer["public_id"], format="png", version=answer["version"])
    assert blobs.download(unsigned) == data


def test_attachment_links_last_the_configured_time(start_blobs):
    blobs = start_blobs(env={"CHAT_BLOBS_ATTACHMENT_URL_TTL": "10m"})
    chat = blobs.chat
    alice, bob = chat.user("alice"), chat.user("bob")
    room = chat.dm(alice, bob)["id"]
    picture = png_bytes(3, 3, seed=14)
    answer = uploaded(blobs, alice, picture, "p.png")
    before = int(time.time())
    response = chat.post_message(alice, room, "pic", attachments=[answer["public_id"]])
    after = int(time.time())
    assert_status(response, 201, "message with an attachment")
    url = response.json()["attachments"][0]["url"]
    expiry = int(re.search(r"exp=(\d+)", url).group(1))
    # At least the TTL from now, at most a sixth more: the rounding that keeps one URL for a while.
    assert before + 600 <= expiry <= after + 700, (before, expiry, after)
    assert expiry % 100 == 0, expiry
    assert blobs.download(url) == picture
