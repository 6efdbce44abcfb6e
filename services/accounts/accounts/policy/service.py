"""Load and change the organisation's accounts policy (audited: who, when, why, before/after)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .models import AccountsPolicyChange, AccountsPolicyRow
from .rules import AccountsPolicy

POLICY_ID = 1


def policy_row(session: Session, lock: bool = False) -> AccountsPolicyRow:
    row = session.get(AccountsPolicyRow, POLICY_ID, with_for_update=lock)
    if row is None:
        row = AccountsPolicyRow(id=POLICY_ID, data={}, version=0)
        session.add(row)
        session.flush()
    return row


def policy_from_row(row: AccountsPolicyRow | None) -> AccountsPolicy:
    if row is None or not row.data:
        return AccountsPolicy()
    return AccountsPolicy.from_dict(row.data)


def current_policy(session: Session) -> AccountsPolicy:
    """The policy now: the documents' defaults with the admin's changes."""
    return policy_from_row(session.get(AccountsPolicyRow, POLICY_ID))


def change_policy(session: Session, actor: str, at: datetime, changes: dict[str, Any],
                  reason: str) -> tuple[AccountsPolicyRow, AccountsPolicyChange | None]:
    """Apply ``changes`` (PolicyError names each bad field) and audit them; no-op if equal."""
    row = policy_row(session, lock=True)
    old = policy_from_row(row)
    new = old.with_changes(**changes)
    diff = old.changes(new)
    if not diff:
        return row, None
    row.data, row.version, row.updated_at, row.updated_by = new.to_dict(), row.version + 1, at, actor
    audit = AccountsPolicyChange(version=row.version, at=at, actor=actor, reason=reason,
                                 changes={k: list(v) for k, v in diff.items()})
    session.add(audit)
    session.flush()
    return row, audit
