"""Who the organisation's users are, for services that must refuse an unknown user id.

A token tells a service who is calling; it says nothing about the other users a caller names
(an owner to reassign a lead to, an assignee). The directory answers that: the built-in demo
users when ``AUTH_DEMO_USERS=1`` (the embedded and local modes), or a JSON file named by
``AUTH_DIRECTORY_FILE`` (``[{"user_id": "rep1", "roles": ["sales_rep"], "team": "east"}]``),
exported from the identity provider. Without either a service has no directory (None) and
falls back on the users its own records name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .principal import (
    ADMIN,
    ARCHIVE_CLERK,
    BRAND_DEPT,
    FINANCE,
    GROUP_GM,
    QUALITY_INSPECTOR,
    RECEPTIONIST,
    REVIEW_GROUP,
    ROLES,
    SALES_GM,
    SALES_MANAGER,
    SALES_OPS_MANAGER,
    SALES_REP,
    SALES_VP,
    SERVICE_CLERK,
    SUPPORT_AGENT,
    SUPPORT_SUPERVISOR,
    TECHNICIAN,
)


@dataclass(frozen=True)
class Person:
    """A user's public facts: id (the token's ``sub``), roles and team; never credentials."""

    user_id: str
    roles: tuple[str, ...]
    team: str | None = None

    def has_any(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)


class Directory:
    """An immutable look-up of people by user id."""

    def __init__(self, people: Iterable[Person]) -> None:
        self._people = {p.user_id: p for p in people}

    def get(self, user_id: str) -> Person | None:
        return self._people.get(user_id)

    def __contains__(self, user_id: object) -> bool:
        return user_id in self._people

    def __len__(self) -> int:
        return len(self._people)

    @classmethod
    def of(cls, *people: tuple[str, str, str | None]) -> Directory:
        """``Directory.of(("rep1", "sales_rep", "east"), ...)``: one role each, for tests and tools."""
        return cls(Person(user_id, (role,), team) for user_id, role, team in people)

    @classmethod
    def from_json(cls, data: object) -> Directory:
        """From the ``AUTH_DIRECTORY_FILE`` shape; ValueError names what is wrong."""
        if not isinstance(data, list):
            raise ValueError("the directory must be a JSON list of users")
        people = []
        for i, item in enumerate(data):
            if not isinstance(item, Mapping) or not isinstance(item.get("user_id"), str):
                raise ValueError(f"user {i}: needs a user_id")
            roles = item.get("roles", [])
            if not isinstance(roles, list) or not all(r in ROLES for r in roles):
                raise ValueError(f"user {item['user_id']}: roles must be a list of known roles")
            team = item.get("team")
            if team is not None and not isinstance(team, str):
                raise ValueError(f"user {item['user_id']}: team must be text")
            people.append(Person(item["user_id"], tuple(roles), team))
        return cls(people)


# The demo users' public facts (gateway.users.DEMO_USERS holds them with the password hash;
# tests/unit/test_directory.py keeps the two lists equal).
DEMO_PEOPLE: tuple[Person, ...] = (
    Person("admin", (ADMIN,)),
    Person("manager", (SALES_MANAGER,), "east"),
    Person("rep1", (SALES_REP,), "east"),
    Person("rep2", (SALES_REP,), "east"),
    Person("manager2", (SALES_MANAGER,), "west"),
    Person("rep3", (SALES_REP,), "west"),
    Person("reception", (RECEPTIONIST,), "east"),
    Person("clerk", (ARCHIVE_CLERK,)),
    Person("svcclerk", (SERVICE_CLERK,)),
    Person("reviewer", (REVIEW_GROUP,)),
    Person("opsmgr", (SALES_OPS_MANAGER,)),
    Person("vp", (SALES_VP,)),
    Person("gm", (SALES_GM,)),
    Person("ceo", (GROUP_GM,)),
    Person("brand", (BRAND_DEPT,)),
    Person("finance", (FINANCE,)),
    Person("agent", (SUPPORT_AGENT,), "service"),
    Person("agent2", (SUPPORT_AGENT,), "service"),
    Person("supervisor", (SUPPORT_SUPERVISOR,), "service"),
    Person("tech", (TECHNICIAN,), "service"),
    Person("qa", (QUALITY_INSPECTOR,), "service"),
)


def directory_from_env(env: Mapping[str, str]) -> Directory | None:
    """``AUTH_DIRECTORY_FILE`` first, else the demo users with ``AUTH_DEMO_USERS=1``, else None."""
    path = env.get("AUTH_DIRECTORY_FILE")
    if path:
        return Directory.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
    if (env.get("AUTH_DEMO_USERS") or "").strip().lower() in ("1", "true", "yes", "on"):
        return Directory(DEMO_PEOPLE)
    return None
