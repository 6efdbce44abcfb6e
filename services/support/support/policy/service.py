"""Load and change the organisation's support policy (audited: who, when, why, before/after)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .models import SupportPolicyChange, SupportPolicyRow
from .rules import SupportPolicy

POLICY_ID = 1


def policy_row(session: Session, lock: bool = False) -> SupportPolicyRow:
    row = session.get(SupportPolicyRow, POLICY_ID, with_for_update=lock)
    if row is None:
        row = SupportPolicyRow(id=POLICY_ID, data={}, version=0)
        session.add(row)
        session.flush()
    return row


def policy_from_row(row: SupportPolicyRow | None) -> SupportPolicy:
    if row is None or not row.data:
        return SupportPolicy()
    return SupportPolicy.from_dict(row.data)


def current_policy(session: Session) -> SupportPolicy:
    """The organisation's support policy now: the documents' defaults with the admin's changes."""
    return policy_from_row(session.get(SupportPolicyRow, POLICY_ID))


def change_policy(
    session: Session, actor: str, at: datetime, changes: dict[str, Any], reason: str
) -> tuple[SupportPolicyRow, SupportPolicyChange | None]:
    """Apply ``changes`` (PolicyError names each bad field) and audit them; no-op if nothing differs."""
    row = policy_row(session, lock=True)
    old = policy_from_row(row)
    new = old.with_changes(**changes)
    diff = old.changes(new)
    if not diff:
        return row, None
    row.data, row.version, row.updated_at, row.updated_by = new.to_dict(), row.version + 1, at, actor
    audit = SupportPolicyChange(
        version=row.version, at=at, actor=actor, reason=reason, changes={k: list(v) for k, v in diff.items()}
    )
    session.add(audit)
    session.flush()
    return row, audit
