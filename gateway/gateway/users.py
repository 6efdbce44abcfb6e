"""The demo users of the built-in issuer (``AUTH_DEMO_USERS=1``), kept here so the README can
list them. They exist only to try the system without an identity provider; production signs
in through a real OIDC provider (``AUTH_JWKS_URL``) or uses API keys.

| username | roles         | team    |
|----------|---------------|---------|
| admin    | admin         |         |
| manager  | sales_manager | east    |
| rep1     | sales_rep     | east    |
| rep2     | sales_rep     | east    |
| agent    | support_agent | service |

Every demo user's password is ``crm-demo``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import cache

from authn import ADMIN, SALES_MANAGER, SALES_REP, SUPPORT_AGENT

DEMO_PASSWORD = "crm-demo"  # noqa: S105 - documented demo credential, off unless AUTH_DEMO_USERS=1
_SALT = b"crm-gateway-demo-users"
_ITERATIONS = 20_000


@dataclass(frozen=True)
class User:
    username: str
    name: str
    roles: tuple[str, ...]
    team: str | None = None


DEMO_USERS: dict[str, User] = {u.username: u for u in (
    User("admin", "Ada Admin", (ADMIN,)),
    User("manager", "Mia Manager", (SALES_MANAGER,), "east"),
    User("rep1", "Ray Rep One", (SALES_REP,), "east"),
    User("rep2", "Rita Rep Two", (SALES_REP,), "east"),
    User("agent", "Sam Support", (SUPPORT_AGENT,), "service"),
)}


def _hash(password: str) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), _SALT, _ITERATIONS)


@cache
def _demo_hash() -> bytes:
    return _hash(DEMO_PASSWORD)


def authenticate(users: dict[str, User], username: str, password: str) -> User | None:
    """The user whose password matches, compared as hashes in constant time. An unknown
    name costs the same work as a known one, so timing does not reveal which names exist."""
    user = users.get(username)
    matches = hmac.compare_digest(_hash(password), _demo_hash())
    return user if user is not None and matches else None
