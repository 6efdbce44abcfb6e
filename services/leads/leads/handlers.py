"""Event handlers of the leads service: one function per consumed event type."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from eventbus import Envelope, Subscription

from .events import ACCOUNT_OPENED, AccountOpenedIn
from .models import Lead


def on_account_opened(session: Session, event: Envelope, data: dict[str, Any]) -> None:
    """Record on a converted lead the account that accounts opened for it."""
    if not data["source_lead_id"]:
        return  # an account opened directly, not from a lead
    lead = session.get(Lead, data["source_lead_id"], with_for_update=True)
    if lead is None or lead.account_id == data["account_id"]:
        return
    lead.account_id = data["account_id"]
    lead.version += 1


SUBSCRIPTIONS = {
    ACCOUNT_OPENED: Subscription(on_account_opened, AccountOpenedIn().load),
}
