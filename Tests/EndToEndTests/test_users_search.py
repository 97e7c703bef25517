"""GET /api/v1/users?q=&limit=&cursor=: prefix search on username and display name, ordering, limits, cursors."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from authhelpers import Api, assert_profile, check_cases
from helpers import assert_json_error

PEOPLE = {
    # username: display name
    "alice": "Alice Liddell",
    "alfred": "Batman's Butler",
    "bob": "Alchemist Bob",
    "al_x": "Under Score",
    "alzx": "No Match Here",
    "carol": "carol",
    "zed": "Zed",
}


def search(api: Api, token: str, q: str, **params) -> tuple[list[dict], str | None]:
    query = f"users?q={quote(q)}" + "".join(f"&{key}={quote(str(value))}" for key, value in params.items())
    response = api.get(query, token)
    assert response.status == 200, f"{query}: {response.describe()}"
    document = response.json()
    assert set(document) == {"users", "next_cursor"}, document
    assert document["next_cursor"] is None or isinstance(document["next_cursor"], str), document
    for profile in document["users"]:
        assert_profile(profile)
        assert profile["deleted"] is False, profile
    return document["users"], document["next_cursor"]


def names(users: list[dict]) -> list[str]:
    return [user["username"] for user in users]


@pytest.fixture
def people(api):
    accounts = {name: api.new_account(name, display_name=display) for name, display in PEOPLE.items()}
    return api, accounts["zed"].access


PREFIX_CASES = [
    ("username-and-display-prefix", "al", ["al_x", "alfred", "alice", "alzx", "bob"]),
    ("case-insensitive", "AL", ["al_x", "alfred", "alice", "alzx", "bob"]),
    ("narrower", "ali", ["alice"]),
    ("display-name-only", "batman", ["alfred"]),
    ("display-name-with-space", "Alice L", ["alice"]),
    ("not-a-substring-search", "lice", []),
    ("underscore-is-literal", "al_", ["al_x"]),
    ("percent-is-literal", "%", []),
    ("percent-after-prefix-is-literal", "a%", []),
    ("empty-query-lists-everyone", "", sorted(PEOPLE)),
]


def test_search_prefix(people):
    api, token = people

    def check(q, expected):
        users, cursor = search(api, token, q)
        assert names(users) == expected, users
        assert cursor is None

    check_cases(PREFIX_CASES, check)


def test_search_results_are_profiles(people):
    api, token = people
    users, _ = search(api, token, "alice")
    assert len(users) == 1
    assert users[0]["display_name"] == "Alice Liddell"
    assert "email" not in users[0]


def test_search_limit_default_and_bounds(api):
    searcher = api.new_account("aaa-searcher")
    for index in range(24):
        api.new_account(f"member{index:02d}")
    users, cursor = search(api, searcher.access, "")
    assert len(users) == 20 and cursor is not None, (names(users), cursor)
    users, _ = search(api, searcher.access, "", limit=1)
    assert names(users) == ["aaa-searcher"]
    users, cursor = search(api, searcher.access, "", limit=100)
    assert len(users) == 25 and cursor is None
    for bad in ("0", "101", "-1", "abc", "1.5"):
        response = api.get(f"users?q=&limit={bad}", searcher.access)
        assert_json_error(response, 422)


def test_cursor_walk_visits_everyone_once(api):
    searcher = api.new_account("searcher")
    expected = sorted(api.new_account(f"walk{index:02d}").username for index in range(13))
    api.new_account("walkaway-not")  # "walka..." sorts after "walk12" and matches the prefix too
    expected.append("walkaway-not")

    seen: list[str] = []
    pages = 0
    cursor = None
    while True:
        params = {"limit": 4} if cursor is None else {"limit": 4, "cursor": cursor}
        users, cursor = search(api, searcher.access, "walk", **params)
        assert len(users) <= 4
        seen += names(users)
        pages += 1
        assert pages <= 10, f"cursor walk does not end: {seen}"
        if cursor is None:
            break
    assert seen == expected, seen
    assert len(seen) == len(set(seen))


def test_bad_cursor_is_refused(api):
    searcher = api.new_account()
    response = api.get("users?q=&cursor=%00not-a-cursor%FF", searcher.access)
    assert_json_error(response, response.status)
    assert response.status in (400, 422), response.describe()
