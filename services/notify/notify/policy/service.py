"""Load and change the organisation's notify policy (audited: who, when, why, before/after)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .models import NotifyPolicyChange, NotifyPolicyRow
from .rules import NotifyPolicy

POLICY_ID = 1


def policy_row(session: Session, lock: bool = False) -> NotifyPolicyRow:
    row = session.get(NotifyPolicyRow, POLICY_ID, with_for_update=lock)
    if row is None:
        row = NotifyPolicyRow(id=POLICY_ID, data={}, version=0)
        session.add(row)
        session.flush()
    return row


def policy_from_row(row: NotifyPolicyRow | None) -> NotifyPolicy:
    if row is None or not row.data:
        return NotifyPolicy()
    return NotifyPolicy.from_dict(row.data)


def current_policy(session: Session) -> NotifyPolicy:
    """The policy now: the documents' defaults with the admin's changes."""
    return policy_from_row(session.get(NotifyPolicyRow, POLICY_ID))


def change_policy(
    session: Session, actor: str, at: datetime, changes: dict[str, Any], reason: str
) -> tuple[NotifyPolicyRow, NotifyPolicyChange | None]:
    """Apply ``changes`` (PolicyError names each bad field) and audit them; no-op if nothing differs."""
    row = policy_row(session, lock=True)
    old = policy_from_row(row)
    new = old.with_changes(**changes)
    diff = old.changes(new)
    if not diff:
        return row, None
    row.data, row.version, row.updated_at, row.updated_by = new.to_dict(), row.version + 1, at, actor
    audit = NotifyPolicyChange(
        version=row.version, at=at, actor=actor, reason=reason, changes={k: list(v) for k, v in diff.items()}
    )
    session.add(audit)
    session.flush()
    return row, audit
