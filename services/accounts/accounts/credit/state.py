"""The credit row: created on first use, locked by every money movement and check."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .models import CreditAccount
from .money import ZERO

NONE, ON_HOLD = "none", "on_hold"
CHINA = ZoneInfo("Asia/Shanghai")


def credit_row(session: Session, account_id: str, currency: str, *, lock: bool = True) -> CreditAccount:
    """The account's credit row, inserted if missing (a race-free ``ON CONFLICT DO NOTHING``),
    then read ``FOR UPDATE`` when ``lock``: the serialization point of every credit change."""
    row = session.get(CreditAccount, account_id, with_for_update=lock or None)
    if row is not None:
        return row
    values = {"account_id": account_id, "currency": currency, "temporary_increase": ZERO,
              "outstanding": ZERO, "reserved": ZERO, "unapplied": ZERO, "hold_state": NONE,
              "hold_reasons": [], "inputs": {}, "version": 1}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(pg_insert(CreditAccount).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite_insert(CreditAccount).values(**values).on_conflict_do_nothing())
    else:  # pragma: no cover - the two supported backends are above
        session.execute(insert(CreditAccount).values(**values))
    row = session.get(CreditAccount, account_id, with_for_update=lock or None, populate_existing=True)
    assert row is not None
    return row


def limit_in_force(row: CreditAccount) -> Decimal:
    """Effective limit plus any temporary increase; no approved limit = 0 (cash before delivery)."""
    return (row.effective_limit or ZERO) + row.temporary_increase


def exposure(row: CreditAccount) -> Decimal:
    """Open charges and reservations, less cash received but not yet applied."""
    return row.outstanding + row.reserved - row.unapplied


def available(row: CreditAccount) -> Decimal:
    return limit_in_force(row) - exposure(row)


def business_date(now: datetime) -> date:
    """The organisation's calendar day (China time) at ``now``: due dates are days there."""
    return now.astimezone(CHINA).date()
