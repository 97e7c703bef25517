"""Friend requests (send, accept, reject, cancel, auto-accept when both ask), the friends list, unfriending, and
blocks (which remove friendship and pending requests, and hide the blocker from the blocked user)."""

from __future__ import annotations

from authhelpers import AUTH_ENV, PASSWORD, check_cases
from chathelpers import assert_error, assert_friend, assert_friend_request, assert_status
from helpers import run_chat, wait_until


def request_ids(requests):
    return [request["id"] for request in requests]


def test_request_then_accept(chat):
    alice, bob = chat.user("alice"), chat.user("bob")
    response = chat.request_friend(alice, bob.id)
    assert_status(response, 201, "request")
    request = assert_friend_request(response.json())
    assert request["from"]["id"] == alice.id and request["from"]["username"] == "alice", request
    assert request["to"]["id"] == bob.id and request["to"]["username"] == "bob", request
    assert "email" not in request["from"] and "email" not in request["to"]

    assert request_ids(chat.friend_requests(bob)) == [request["id"]], "incoming is the default direction"
    assert request_ids(chat.friend_requests(bob, "incoming")) == [request["id"]]
    assert chat.friend_requests(bob, "outgoing") == []
    assert request_ids(chat.friend_requests(alice, "outgoing")) == [request["id"]]
    assert chat.friend_requests(alice, "incoming") == []
    assert chat.friends(alice) == [] and chat.friends(bob) == []

    assert_error(chat.request_friend(alice, bob.id), 409, "request_pending", "asking twice")

    accepted = chat.post(f"friends/requests/{request['id']}/accept", token=bob.access)
    assert_status(accepted, 200, "accept")
    document = accepted.json()
    assert set(document) == {"friend"}, document
    friend = assert_friend(document["friend"])
    assert friend["user"]["id"] == alice.id, f"bob's new friend is alice: {document}"

    assert chat.friend_ids(alice) == [bob.id]
    assert chat.friend_ids(bob) == [alice.id]
    for account in (alice, bob):
        for direction in ("incoming", "outgoing"):
            assert chat.friend_requests(account, direction) == [], (account.username, direction)
    assert_error(chat.request_friend(alice, bob.id), 409, "already_friends", "asking a friend")
    assert_error(chat.request_friend(bob, alice.id), 409, "already_friends", "asking a friend back")
    assert_error(chat.post(f"friends/requests/{request['id']}/accept", token=bob.access), 404, "not_found",
                 "accepting an accepted request")


def test_both_asking_makes_friends(chat):
    alice, bob = chat.user("alice"), chat.user("bob")
    assert_status(chat.request_friend(alice, bob.id), 201, "alice asks")
    response = chat.request_friend(bob, alice.id)
    assert_status(response, 200, "bob asks back: accepted at once")
    document = response.json()
    assert set(document) == {"friend"}, document
    assert assert_friend(document["friend"])["user"]["id"] == alice.id, document
    assert chat.friend_ids(alice) == [bob.id] and chat.friend_ids(bob) == [alice.id]
    for account in (alice, bob):
        assert chat.friend_requests(account, "incoming") == [] and chat.friend_requests(account, "outgoing") == []


def test_who_may_accept_reject_and_cancel(chat):
    alice, bob, carol = chat.user("alice"), chat.user("bob"), chat.user("carol")
    request = chat.request_friend(alice, bob.id).json()["id"]

    cases = [
        ("sender accepts", alice, "POST", f"friends/requests/{request}/accept"),
        ("sender rejects", alice, "POST", f"friends/requests/{request}/reject"),
        ("recipient cancels", bob, "DELETE", f"friends/requests/{request}"),
        ("stranger accepts", carol, "POST", f"friends/requests/{request}/accept"),
        ("stranger rejects", carol, "POST", f"friends/requests/{request}/reject"),
        ("stranger cancels", carol, "DELETE", f"friends/requests/{request}"),
        ("unknown id", bob, "POST", "friends/requests/987654/accept"),
    ]
    check_cases(cases, lambda account, method, path: assert_error(
        chat.call(method, path, token=account.access), 404, "not_found", f"{method} {path} as {account.username}"))
    assert request_ids(chat.friend_requests(bob)) == [request], "the refused attempts left the request alone"

    rejected = chat.post(f"friends/requests/{request}/reject", token=bob.access)
    assert_status(rejected, 204, "reject")
    assert rejected.body == b""
    assert chat.friend_requests(bob) == [] and chat.friend_requests(alice, "outgoing") == []
    assert chat.friends(alice) == [] and chat.friends(bob) == []
    assert_error(chat.post(f"friends/requests/{request}/accept", token=bob.access), 404, "not_found",
                 "accept after reject")

    # Rejected is not forever: alice may ask again, and then take it back.
    again = chat.request_friend(alice, bob.id)
    assert_status(again, 201, "asking again after a rejection")
    again_id = again.json()["id"]
    cancelled = chat.delete(f"friends/requests/{again_id}", token=alice.access)
    assert_status(cancelled, 204, "cancel")
    assert chat.friend_requests(bob) == [] and chat.friend_requests(alice, "outgoing") == []
    assert_error(chat.delete(f"friends/requests/{again_id}", token=alice.access), 404, "not_found", "cancel twice")
    assert chat.friends(alice) == []


def test_request_targets(chat):
    me = chat.user("asker")
    gone, disabled, blocker, blocked = chat.user("gone"), chat.user("disabled"), chat.user("blocker"), chat.user(
        "blockedone")
    assert_status(chat.delete("users/me", {"password": PASSWORD}, gone.access), 204, "delete account")
    data_dir = chat.server.data_dir
    result = run_chat(["user", "disable", "disabled", "--data-dir", str(data_dir)], cwd=data_dir.parent,
                      env=AUTH_ENV)
    assert result.returncode == 0, result.stderr
    wait_until(lambda: chat.get(f"users/{disabled.id}", me.access).status == 404,
               message="the disabled user to disappear")
    chat.block(blocker, me.id)
    chat.block(me, blocked.id)

    unknown = assert_error(chat.request_friend(me, 987654), 404, "not_found", "unknown user")

    def hidden(user_id):
        error = assert_error(chat.request_friend(me, user_id), 404, "not_found", f"user {user_id}")
        assert "block" not in error["message"].lower(), f"the answer reveals the block: {error}"
        assert set(error) == set(unknown), (error, unknown)

    check_cases([("deleted", gone.id), ("disabled", disabled.id), ("has blocked the caller", blocker.id)], hidden)
    assert_error(chat.request_friend(me, blocked.id), 409, "blocked", "a user the caller blocked")
    assert_error(chat.request_friend(me, me.id), 422, None, "yourself")
    assert chat.friend_requests(me, "outgoing") == []
    assert chat.friend_requests(blocker) == [], "the blocker never hears of it"


def test_lists_are_ordered(chat):
    me = chat.user("middle")
    zoe, adam, mia = chat.user("zoe"), chat.user("adam"), chat.user("mia")
    for account in (zoe, adam, mia):  # asked in this order
        assert_status(chat.request_friend(account, me.id), 201, f"{account.username} asks")
    incoming = chat.friend_requests(me)
    assert [request["from"]["username"] for request in incoming] == ["mia", "adam", "zoe"], "newest first"
    for request in incoming:
        assert_status(chat.post(f"friends/requests/{request['id']}/accept", token=me.access), 200, "accept")
    names = [friend["user"]["username"] for friend in chat.friends(me)]
    assert names == ["adam", "mia", "zoe"], f"friends by username: {names}"
    for friend in chat.friends(me):
        assert friend["since"] >= friend["user"]["created_at"], friend


def test_unfriend(chat):
    alice, bob, carol = chat.user("alice"), chat.user("bob"), chat.user("carol")
    chat.befriend(alice, bob)
    chat.befriend(alice, carol)
    response = chat.delete(f"friends/{bob.id}", token=alice.access)
    assert_status(response, 204, "unfriend")
    assert chat.friend_ids(alice) == [carol.id]
    assert chat.friend_ids(bob) == [], "unfriending ends it for both"
    assert_error(chat.delete(f"friends/{bob.id}", token=alice.access), 404, "not_found", "unfriend twice")
    assert_error(chat.delete(f"friends/{alice.id}", token=bob.access), 404, "not_found", "the other side")
    assert_error(chat.delete(f"friends/{carol.id}", token=bob.access), 404, "not_found", "never friends")
    # And they can become friends again.
    chat.befriend(bob, alice)
    assert sorted(chat.friend_ids(alice)) == sorted([bob.id, carol.id])


def test_blocking(chat):
    alice, bob, carol, dave = chat.user("alice"), chat.user("bob"), chat.user("carol"), chat.user("dave")
    chat.befriend(alice, bob)
    assert_status(chat.request_friend(carol, alice.id), 201, "carol asks alice")
    assert_status(chat.request_friend(alice, dave.id), 201, "alice asks dave")

    for target in (bob, carol, dave):
        chat.block(alice, target.id)
    chat.block(alice, bob.id)  # idempotent

    blocks = chat.blocks(alice)
    assert sorted(entry["user"]["id"] for entry in blocks) == sorted([bob.id, carol.id, dave.id]), blocks
    assert chat.blocks(bob) == [], "a block is one-sided"
    assert chat.friends(alice) == [] and chat.friends(bob) == [], "blocking ends the friendship"
    assert chat.friend_requests(alice, "incoming") == [] and chat.friend_requests(carol, "outgoing") == []
    assert chat.friend_requests(alice, "outgoing") == [] and chat.friend_requests(dave, "incoming") == []

    # The blocked user sees alice as if she did not exist; alice knows what she did.
    unknown = assert_error(chat.request_friend(bob, 987654), 404, "not_found", "unknown")
    hidden = assert_error(chat.request_friend(bob, alice.id), 404, "not_found", "blocked user asks the blocker")
    assert set(hidden) == set(unknown) and "block" not in hidden["message"].lower(), hidden
    assert_error(chat.request_friend(alice, bob.id), 409, "blocked", "blocker asks the blocked user")

    check_cases([
        ("block yourself", lambda: assert_error(chat.post(f"blocks/{alice.id}", token=alice.access), 422)),
        ("block unknown", lambda: assert_error(chat.post("blocks/987654", token=alice.access), 404, "not_found")),
        ("unblock a user never blocked", lambda: assert_error(chat.delete(f"blocks/{bob.id}", token=carol.access),
                                                              404, "not_found")),
    ], lambda check: check())

    assert_status(chat.delete(f"blocks/{bob.id}", token=alice.access), 204, "unblock")
    assert_error(chat.delete(f"blocks/{bob.id}", token=alice.access), 404, "not_found", "unblock twice")
    assert sorted(entry["user"]["id"] for entry in chat.blocks(alice)) == sorted([carol.id, dave.id])
    assert chat.friends(alice) == [], "unblocking does not restore the friendship"
    assert_status(chat.request_friend(bob, alice.id), 201, "after the unblock bob may ask again")
