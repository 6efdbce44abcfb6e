"""Consumed accounts events: every one carrying the ``account`` snapshot updates the read model."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from eventbus import Envelope, Subscription

from . import service
from .events import (
    ACCOUNT_OPENED,
    ACCOUNT_PATTERNS,
    CREDIT_HOLD_PLACED,
    CREDIT_HOLD_RELEASED,
    AccountEventIn,
    AccountOpenedIn,
)


def on_account_opened(
    session: Session, event: Envelope, data: dict[str, Any], *, clock: Callable[[], datetime]
) -> None:
    service.apply_snapshot(session, service.snapshot_from_opened(data), clock())


def on_account_event(
    session: Session, event: Envelope, data: dict[str, Any], *, clock: Callable[[], datetime]
) -> None:
    if data.get("account"):
        service.apply_snapshot(session, data["account"], clock())


def subscriptions(clock: Callable[[], datetime]) -> dict[str, Subscription]:
    snapshot = Subscription(partial(on_account_event, clock=clock), AccountEventIn().load)
    return {
        ACCOUNT_OPENED: Subscription(partial(on_account_opened, clock=clock), AccountOpenedIn().load),
        **{pattern: snapshot for pattern in ACCOUNT_PATTERNS},
        CREDIT_HOLD_PLACED: snapshot,
        CREDIT_HOLD_RELEASED: snapshot,
    }
