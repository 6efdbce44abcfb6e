"""The user directory services use to refuse unknown user ids (authn.directory)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authn.directory import DEMO_PEOPLE, Directory, directory_from_env
from gateway.users import DEMO_USERS


def test_demo_people_are_the_gateways_demo_users() -> None:
    assert {(p.user_id, p.roles, p.team) for p in DEMO_PEOPLE} == {
        (u.username, u.roles, u.team) for u in DEMO_USERS.values()}


def test_directory_from_env(tmp_path: Path) -> None:
    assert directory_from_env({}) is None
    demo = directory_from_env({"AUTH_DEMO_USERS": "1"})
    assert demo is not None and "rep1" in demo and demo.get("rep1").team == "east"  # type: ignore[union-attr]
    path = tmp_path / "users.json"
    path.write_text(json.dumps([{"user_id": "li", "roles": ["sales_rep"], "team": "north"}]))
    loaded = directory_from_env({"AUTH_DIRECTORY_FILE": str(path), "AUTH_DEMO_USERS": "1"})
    assert loaded is not None and len(loaded) == 1 and loaded.get("li").has_any("sales_rep")  # type: ignore[union-attr]


@pytest.mark.parametrize("data", [{}, [{"roles": []}], [{"user_id": "a", "roles": ["boss"]}],
                                  [{"user_id": "a", "team": 3}]])
def test_a_malformed_directory_is_refused(data: object) -> None:
    with pytest.raises(ValueError):
        Directory.from_json(data)
