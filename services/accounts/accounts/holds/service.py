"""Hold changes, each with its history row and event in the caller's transaction (the caller
holds the credit row's lock)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..credit import events
from ..credit.models import CreditAccount
from ..credit.state import exposure, limit_in_force
from ..ledger.models import Charge
from ..limits.rules import add_months
from ..models import Account
from . import rules
from .models import HoldEntry, Violation


def _history(session: Session, row: CreditAccount, *, at: datetime, before: str, actor: str,
             note: str | None) -> None:
    session.add(HoldEntry(account_id=row.account_id, at=at, from_state=before,
                          to_state=row.hold_state, reasons=list(row.hold_reasons), actor=actor,
                          note=note))


def place(session: Session, emit: events.Emit, account: Account, row: CreditAccount,
          reasons: list[str], *, at: datetime, actor: str, note: str | None = None) -> bool:
    """Put the account on hold for ``reasons`` (added to any it has); False if nothing new."""
    try:
        merged = rules.place(row.hold_state, list(row.hold_reasons or []), reasons)
    except rules.HoldTransitionError:
        return False
    before = row.hold_state
    row.hold_state, row.hold_reasons = rules.ON_HOLD, merged
    _history(session, row, at=at, before=before, actor=actor, note=note)
    events.emit(session, emit, events.HOLD_PLACED, account, reasons=merged, held_at=at)
    return True


def release(session: Session, emit: events.Emit, account: Account, row: CreditAccount, *,
            at: datetime, actor: str, reason: str) -> None:
    """Release the hold (every reason); raises HoldTransitionError when not on hold."""
    rules.release(row.hold_state)
    row.hold_state, row.hold_reasons = rules.RELEASED, []
    _history(session, row, at=at, before=rules.ON_HOLD, actor=actor, note=reason)
    events.emit(session, emit, events.HOLD_RELEASED, account, released_by=actor, reason=reason)


def has_default(session: Session, account_id: str, today: date, months: int) -> bool:
    """An open charge overdue beyond ``months`` months (default liability, §2.7)."""
    return bool(session.scalar(select(exists().where(
        Charge.account_id == account_id, Charge.settled_on.is_(None),
        Charge.due_on < add_months(today, -months)))))


def reevaluate(session: Session, emit: events.Emit, account: Account, row: CreditAccount, *,
               at: datetime, today: date, months: int, actor: str, cause: str) -> None:
    """After money moved or a limit changed: lift automatic reasons that no longer hold
    (released with ``cause`` when none remain), place ``over_limit`` when exposure now exceeds
    an approved limit."""
    over = row.effective_limit is not None and exposure(row) > limit_in_force(row)
    if row.hold_state == rules.ON_HOLD:
        still = set()
        if over:
            still.add(rules.OVER_LIMIT)
        if rules.OVERDUE_DEFAULT in row.hold_reasons and has_default(session, row.account_id, today, months):
            still.add(rules.OVERDUE_DEFAULT)
        if account.status == "lost":
            still.add(rules.ACCOUNT_LOST)
        remaining = rules.cured(list(row.hold_reasons), still)
        if not remaining:
            release(session, emit, account, row, at=at, actor=actor, reason=cause)
        elif remaining != list(row.hold_reasons):
            before = row.hold_state
            row.hold_reasons = remaining
            _history(session, row, at=at, before=before, actor=actor, note=cause)
    if over:
        place(session, emit, account, row, [rules.OVER_LIMIT], at=at, actor=actor, note=cause)


def record_violation(session: Session, account_id: str, *, charge_id: str | None, at: datetime,
                     type_: str, description: str) -> Violation:
    violation = Violation(id=str(uuid.uuid4()), account_id=account_id, charge_id=charge_id, at=at,
                          type=type_, description=description)
    session.add(violation)
    return violation
