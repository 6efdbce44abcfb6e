"""What credit consumes: the archive's approval sets the first effective limit; a lost
account goes on hold."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from eventbus import Envelope, Subscription

from ..holds import rules as hold_rules
from ..holds import service as holds
from ..limits.service import on_archive_approved
from ..models import Account
from . import policy as credit_policy
from .events import ARCHIVE_APPROVED, STATUS_CHANGED, ArchiveApprovedIn, Emit, StatusChangedIn
from .state import business_date, credit_row


def on_archive_approved_event(session: Session, event: Envelope, data: dict[str, Any], *,
                              clock: Callable[[], datetime], emit: Emit) -> None:
    """Idempotent: the inbox drops redeliveries, and the first limit is set only once."""
    account = session.get(Account, data["account_id"])
    if account is None:
        return
    on_archive_approved(session, emit, account, now=clock(), actor=data["approved_by"])


def on_status_changed(session: Session, event: Envelope, data: dict[str, Any], *,
                      clock: Callable[[], datetime], emit: Emit) -> None:
    """A lost account goes on hold (``account_lost``); when it is active again the reason is
    lifted. Idempotent: placing an existing reason or curing an absent one changes nothing."""
    account = session.get(Account, data["account_id"])
    if account is None:
        return
    policy = credit_policy.current(session)
    row = credit_row(session, account.id, policy.default_currency)
    now = clock()
    if account.status == "lost":
        holds.place(session, emit, account, row, [hold_rules.ACCOUNT_LOST], at=now, actor="archive",
                    note=data.get("reason"))
    elif hold_rules.ACCOUNT_LOST in (row.hold_reasons or []):
        holds.reevaluate(session, emit, account, row, at=now, today=business_date(now),
                         months=policy.default_liability_months, actor="archive",
                         cause=f"account {account.status}")


def subscriptions(clock: Callable[[], datetime], emit: Emit) -> dict[str, Subscription]:
    return {
        ARCHIVE_APPROVED: Subscription(partial(on_archive_approved_event, clock=clock, emit=emit),
                                       ArchiveApprovedIn().load),
        STATUS_CHANGED: Subscription(partial(on_status_changed, clock=clock, emit=emit),
                                     StatusChangedIn().load),
    }
