"""Keep and read the accounts read model."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from servicedb import dialect_insert, writes

from ..tickets.rules import normalize_phone
from .models import KnownAccount

_FIELDS = (
    "name",
    "code",
    "owner_id",
    "owner_team",
    "status",
    "archive_state",
    "grade",
    "member",
    "key_customer",
    "credit_hold",
    "city",
    "timezone",
    "contact",
)


def snapshot_from_opened(data: dict[str, Any]) -> dict[str, Any]:
    """The snapshot an ``opened`` event carries, or one built from its top-level fields."""
    if data.get("account"):
        return dict(data["account"])
    return {
        "id": data["account_id"],
        "code": data["code"],
        "name": data["name"],
        "owner_id": data["owner_id"],
        "owner_team": data.get("owner_team"),
        "version": data["version"],
        "status": "active",
    }


def apply_snapshot(session: Session, snapshot: dict[str, Any], now: datetime) -> None:
    """Upsert the account when ``version`` is higher than what is held: one atomic statement, so
    redeliveries, replays and events overtaking each other leave the newest state in place.

    Fields a snapshot lacks keep their defaults (a later, fuller snapshot fills them)."""
    contact = snapshot.get("contact")
    values: dict[str, Any] = {
        "account_id": snapshot["id"],
        "version": snapshot["version"],
        "updated_at": now,
        "phone": normalize_phone(contact.get("mobile")) if contact else None,
    }
    for name in _FIELDS:
        value = snapshot.get(name)
        if name in ("member", "key_customer", "credit_hold"):
            value = bool(value)
        values[name] = value
    writes.execute(session, _upsert(session.get_bind().dialect.name), values)


@lru_cache(maxsize=4)
def _upsert(dialect: str) -> Any:
    """The upsert, built once per dialect: the same keys every time, so each event only binds
    its values instead of building and cache-keying a new statement."""
    table = KnownAccount.__table__
    stmt = dialect_insert(dialect, table)
    keys = ("version", "updated_at", "phone", *_FIELDS)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.account_id],
        set_={k: stmt.excluded[k] for k in keys},
        where=table.c.version < stmt.excluded.version,
    )


def get(session: Session, account_id: str) -> KnownAccount | None:
    return session.get(KnownAccount, account_id)


def customer(account: KnownAccount | None) -> dict[str, Any]:
    """The ``customer`` shape of support events that reach a customer (CONTRACTS.md)."""
    contact = (account.contact if account else None) or {}
    return {
        "name": contact.get("name") or (account.name if account else None),
        "title": contact.get("title"),
        "mobile": contact.get("mobile"),
        "email": contact.get("email"),
        "timezone": account.timezone if account else None,
    }


def view(account: KnownAccount | None) -> dict[str, Any] | None:
    """What every ticket shows of its account."""
    if account is None:
        return None
    return {
        "id": account.account_id,
        "code": account.code,
        "name": account.name,
        "owner_id": account.owner_id,
        "owner_team": account.owner_team,
        "grade": account.grade,
        "member": account.member,
        "key_customer": account.key_customer,
        "status": account.status,
        "credit_hold": account.credit_hold,
        "contact": account.contact,
        "timezone": account.timezone,
        "version": account.version,
    }


def is_priority_customer(account: KnownAccount | None, grades: tuple[str, ...]) -> bool:
    """Brand / high-grade customers are scheduled first (§3.7 「按品牌客户优先的原则」)."""
    return bool(account and (account.key_customer or (account.grade or "") in grades))
