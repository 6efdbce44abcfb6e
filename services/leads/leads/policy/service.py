"""The organisation's lead policy as stored: the one way to load it (``current_policy``) and to
change it (``change_policy``, audited)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .models import LeadPolicyChange, LeadPolicyRow
from .rules import LeadPolicy

POLICY_ID = 1


def policy_row(session: Session, lock: bool = False) -> LeadPolicyRow:
    """The stored policy row (created by migration 0003; recreated if someone deleted it)."""
    row = session.get(LeadPolicyRow, POLICY_ID, with_for_update=lock)
    if row is None:
        row = LeadPolicyRow(id=POLICY_ID, data={}, version=0)
        session.add(row)
        session.flush()
    return row


def policy_from_row(row: LeadPolicyRow | None) -> LeadPolicy:
    """Fields this code no longer knows are dropped, so an old stored policy never breaks reads."""
    return policy_from_data(row.data if row is not None else None)


def policy_from_data(data: dict[str, Any] | None) -> LeadPolicy:
    if not data:
        return LeadPolicy()
    known = {f.name for f in dataclasses.fields(LeadPolicy) if f.init}
    return LeadPolicy.from_dict({k: v for k, v in data.items() if k in known})


def current_policy(session: Session) -> LeadPolicy:
    """The organization's lead policy now: the documents' defaults with the admin's changes."""
    return policy_from_row(session.get(LeadPolicyRow, POLICY_ID))


def change_policy(session: Session, actor: str, at: datetime, changes: dict[str, Any],
                  reason: str) -> tuple[LeadPolicyRow, LeadPolicyChange | None]:
    """Apply ``changes`` (PolicyError names each bad field) and audit them; no-op if nothing differs."""
    row = policy_row(session, lock=True)
    old = policy_from_row(row)
    new = old.with_changes(**changes)
    diff = old.changes(new)
    if not diff:
        return row, None
    row.data, row.version, row.updated_at, row.updated_by = new.to_dict(), row.version + 1, at, actor
    audit = LeadPolicyChange(version=row.version, at=at, actor=actor, reason=reason,
                             changes={k: list(v) for k, v in diff.items()})
    session.add(audit)
    session.flush()
    return row, audit
