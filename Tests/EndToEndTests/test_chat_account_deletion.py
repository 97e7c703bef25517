"""Accounts seen from the chat side. Deleting an account takes it out of its groups like leaving would: ownership passes to the oldest admin
(else the oldest member), so no group keeps an owner who can never act again. Direct rooms keep the history."""

from __future__ import annotations

from chathelpers import assert_status, event_types


def test_deleting_the_owner_hands_each_group_to_its_heir(chat):
    owner, admin, member, friend = chat.users(4, "del")
    group = chat.group(owner, [admin, member], name="keeps going")["id"]
    assert_status(chat.set_role(owner, group, admin.id, "admin"), 200, "make an admin")
    solo = chat.group(owner, [member], name="member inherits")["id"]
    dm = chat.dm(owner, friend)["id"]
    chat.send(owner, dm, "before deletion")

    assert_status(chat.delete("users/me", {"password": owner.password}, owner.access), 204, "delete the owner")

    assert chat.roles(admin, group) == {admin.id: "owner", member.id: "member"}
    assert chat.roles(member, solo) == {member.id: "owner"}
    # The heir can act as owner, which nobody could if the deleted account had kept the role.
    renamed = chat.patch(f"rooms/{group}", {"name": "renamed by the heir"}, admin.access)
    assert_status(renamed, 200, "the new owner renames the room")
    history, _ = chat.history(admin, group)
    assert "member_left" in event_types(history) and "owner_changed" in event_types(history)
    # The direct room and its history stay for the peer.
    messages, _ = chat.history(friend, dm)
    assert any(message["content"] == "before deletion" for message in messages)


def test_a_block_looks_like_a_missing_user_in_profiles_and_search(chat):
    blocker, blocked, bystander = chat.users(3, "hide")
    chat.block(blocker, blocked.id)
    # The blocked user sees the blocker as it would see an id that does not exist ...
    assert chat.get(f"users/{blocker.id}", blocked.access).status == 404
    assert chat.get("users/999999", blocked.access).status == 404
    found = chat.get(f"users?q={blocker.username}", blocked.access)
    assert_status(found, 200, "search")
    assert [user["id"] for user in found.json()["users"]] == []
    # ... while everyone else still finds the blocker.
    assert chat.get(f"users/{blocker.id}", bystander.access).status == 200
    others = chat.get(f"users?q={blocker.username}", bystander.access).json()["users"]
    assert [user["id"] for user in others] == [blocker.id]
