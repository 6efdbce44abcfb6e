"""Event handlers of the accounts service: one function per consumed event type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from eventbus import Envelope, Subscription

from . import domain
from .events import LEAD_CONVERTED, LeadConvertedIn
from .models import Account
from .records import Emit, open_account


@dataclass(frozen=True)
class HandlerDeps:
    """What handlers need besides the session: the time, and the bus's ``emit`` so events they
    cause go to the outbox in the handler's own transaction."""

    clock: Callable[[], datetime]
    emit: Emit


def on_lead_converted(session: Session, event: Envelope, data: dict[str, Any], *,
                      deps: HandlerDeps) -> None:
    """Open the customer account for a converted lead, once per lead.

    The inbox already drops a redelivered event; the source_lead_id check (and its unique
    index, if two events race) also makes a *different* event for the same lead a no-op.
    """
    existing = session.scalar(select(Account.id).where(Account.source_lead_id == data["lead_id"]))
    if existing is not None:
        return
    open_account(
        session, deps.emit, at=deps.clock(), actor=data["converted_by"],
        reason=domain.conversion_reason(data["code"]),
        name=domain.account_name(data["name"], data["company"]), company=data["company"],
        phone=data["phone"], email=data["email"], owner_id=data["owner_id"],
        owner_team=data["owner_team"], source_lead_id=data["lead_id"],
        source_lead_code=data["code"], source_lead_name=data["name"],
    )


def subscriptions(deps: HandlerDeps) -> dict[str, Subscription]:
    return {
        LEAD_CONVERTED: Subscription(partial(on_lead_converted, deps=deps), LeadConvertedIn().load),
    }
