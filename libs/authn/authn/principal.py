"""Who is calling, as every service sees it, whatever proved it (a JWT or an API key)."""

from __future__ import annotations

from dataclasses import dataclass, field

ADMIN = "admin"
SALES_MANAGER = "sales_manager"
SALES_REP = "sales_rep"
SUPPORT_AGENT = "support_agent"
INTEGRATION = "integration"
ROLES = (ADMIN, SALES_MANAGER, SALES_REP, SUPPORT_AGENT, INTEGRATION)


@dataclass(frozen=True)
class Principal:
    sub: str
    username: str
    roles: frozenset[str] = field(default_factory=frozenset)
    team: str | None = None
    name: str | None = None
    kind: str = "user"  # "user" (bearer JWT) or "apikey"

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    @property
    def is_manager(self) -> bool:
        return SALES_MANAGER in self.roles

    def to_dict(self) -> dict[str, object]:
        return {"sub": self.sub, "username": self.username, "roles": sorted(self.roles),
                "team": self.team, "name": self.name, "kind": self.kind}
