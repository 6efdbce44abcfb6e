"""The demo users of the built-in issuer (``AUTH_DEMO_USERS=1``), kept here so the README can
list them. They exist only to try the system without an identity provider; production signs
in through a real OIDC provider (``AUTH_JWKS_URL``) or uses API keys.

| username   | roles              | team    |
|------------|--------------------|---------|
| admin      | admin              |         |
| manager    | sales_manager      | east    |
| rep1       | sales_rep          | east    |
| rep2       | sales_rep          | east    |
| manager2   | sales_manager      | west    |
| rep3       | sales_rep          | west    |
| reception  | receptionist       | east    |
| clerk      | archive_clerk      |         |
| svcclerk   | service_clerk      |         |
| reviewer   | review_group       |         |
| opsmgr     | sales_ops_manager  |         |
| vp         | sales_vp           |         |
| gm         | sales_gm           |         |
| ceo        | group_gm           |         |
| brand      | brand_dept         |         |
| finance    | finance            |         |
| agent      | support_agent      | service |
| agent2     | support_agent      | service |
| supervisor | support_supervisor | service |
| tech       | technician         | service |
| qa         | quality_inspector  | service |

Every demo user's password is ``crm-demo``. It is kept only as an argon2id hash
(``DEMO_PASSWORD_HASH``) and checked with argon2-cffi; the gateway never compares plaintext.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from authn import (
    ADMIN,
    ARCHIVE_CLERK,
    BRAND_DEPT,
    FINANCE,
    GROUP_GM,
    QUALITY_INSPECTOR,
    RECEPTIONIST,
    REVIEW_GROUP,
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

DEMO_PASSWORD = "crm-demo"  # noqa: S105 - documented demo credential, off unless AUTH_DEMO_USERS=1
# argon2id with OWASP's minimum parameters (19 MiB, 2 passes, 1 lane): about 0.05-0.1 s per check,
# which the sign-in throttle multiplies into years for a guesser.
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_PARAMS = "$argon2id$v=19$m=19456,t=2,p=1$"
# The hash of "crm-demo", made with HASHER.
DEMO_PASSWORD_HASH = _PARAMS + "ci/GqAHp76Dc38IcGc4bJQ$g8n39rdF5wUz6XZP3Oya68CQxOd+R2FvqcQNgPF+OU0"
# A random password's hash, checked for unknown names so they cost what a known name costs.
_NOBODY_HASH = _PARAMS + "9fazsz8Xdnu+DuMDxN9RyQ$fw1NPHdIVXZAl0y3J6yC0FZGgIaljKLOPto3Nc45+H0"


@dataclass(frozen=True)
class User:
    username: str
    name: str
    roles: tuple[str, ...]
    team: str | None = None
    password_hash: str = DEMO_PASSWORD_HASH


DEMO_USERS: dict[str, User] = {u.username: u for u in (
    User("admin", "Ada Admin", (ADMIN,)),
    User("manager", "Mia Manager", (SALES_MANAGER,), "east"),
    User("rep1", "Ray Rep One", (SALES_REP,), "east"),
    User("rep2", "Rita Rep Two", (SALES_REP,), "east"),
    User("manager2", "Wen Manager West", (SALES_MANAGER,), "west"),
    User("rep3", "Rui Rep Three", (SALES_REP,), "west"),
    User("reception", "Rong Reception", (RECEPTIONIST,), "east"),
    User("clerk", "Chen Archive Clerk", (ARCHIVE_CLERK,)),
    User("svcclerk", "Shu Service Clerk", (SERVICE_CLERK,)),
    User("reviewer", "Rao Review Group", (REVIEW_GROUP,)),
    User("opsmgr", "Ou Sales Ops Manager", (SALES_OPS_MANAGER,)),
    User("vp", "Wei Sales VP", (SALES_VP,)),
    User("gm", "Guo Sales GM", (SALES_GM,)),
    User("ceo", "Cai Group GM", (GROUP_GM,)),
    User("brand", "Bai Brand Dept", (BRAND_DEPT,)),
    User("finance", "Fan Finance", (FINANCE,)),
    User("agent", "Sam Support", (SUPPORT_AGENT,), "service"),
    User("agent2", "Su Support Two", (SUPPORT_AGENT,), "service"),
    User("supervisor", "Song Supervisor", (SUPPORT_SUPERVISOR,), "service"),
    User("tech", "Tang Technician", (TECHNICIAN,), "service"),
    User("qa", "Qian Quality", (QUALITY_INSPECTOR,), "service"),
)}


def authenticate(users: dict[str, User], username: str, password: str) -> User | None:
    """The user whose password matches its argon2 hash (argon2-cffi compares in constant time).
    An unknown name is checked against a hash with the same parameters, so it costs the same
    work as a known one and timing does not reveal which names exist."""
    user = users.get(username)
    try:
        HASHER.verify(user.password_hash if user is not None else _NOBODY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return user
