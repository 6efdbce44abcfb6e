"""What credit consumes: the archive's approval sets the first effective limit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from eventbus import Envelope, Subscription

from ..limits.service import on_archive_approved
from ..models import Account
from .events import ARCHIVE_APPROVED, ArchiveApprovedIn, Emit


def on_archive_approved_event(session: Session, event: Envelope, data: dict[str, Any], *,
                              clock: Callable[[], datetime], emit: Emit) -> None:
    """Idempotent: the inbox drops redeliveries, and the first limit is set only once."""
    account = session.get(Account, data["account_id"])
    if account is None:
        return
    on_archive_approved(session, emit, account, now=clock(), actor=data["approved_by"])


def subscriptions(clock: Callable[[], datetime], emit: Emit) -> dict[str, Subscription]:
    return {ARCHIVE_APPROVED: Subscription(
        partial(on_archive_approved_event, clock=clock, emit=emit), ArchiveApprovedIn().load)}
