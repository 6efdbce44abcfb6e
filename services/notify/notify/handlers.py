"""Event handlers of the notify service: one function per consumed event type."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from eventbus import Envelope, Subscription

from . import domain
from .events import (
    ACCOUNT_LINKED,
    ACCOUNT_OPENED,
    NOTIFICATION_CREATED,
    AccountLinkedIn,
    AccountOpenedIn,
    created_payload,
)
from .models import Notification

Emit = Callable[[Session, str, dict[str, Any], str | None], Envelope]


@dataclass(frozen=True)
class HandlerDeps:
    """What handlers need besides the session: the time, and the bus's ``emit`` so events they
    cause go to the outbox in the handler's own transaction."""

    clock: Callable[[], datetime]
    emit: Emit


def notify(session: Session, event: Envelope, draft: domain.Draft, deps: HandlerDeps) -> None:
    """Create ``draft`` once per (event, recipient) and announce it.

    The inbox drops a redelivery; the unique (source_event_id, recipient_id) also covers a
    replay under another consumer name.
    """
    exists = session.scalar(select(Notification.id).where(
        Notification.source_event_id == event.id, Notification.recipient_id == draft.recipient_id))
    if exists is not None:
        return
    n = Notification(
        id=str(uuid.uuid4()), recipient_id=draft.recipient_id, kind=draft.kind, title=draft.title,
        body=draft.body, subject_type=draft.subject_type, subject_id=draft.subject_id,
        source_event_id=event.id, created_at=deps.clock(), read_at=None,
    )
    session.add(n)
    session.flush()
    deps.emit(session, NOTIFICATION_CREATED, created_payload(n), n.id)


def on_account_opened(session: Session, event: Envelope, data: dict[str, Any], *,
                      deps: HandlerDeps) -> None:
    """Tell the owner their converted lead now has an account."""
    draft = domain.for_account_opened(data)
    if draft is not None:
        notify(session, event, draft, deps)


def on_account_linked(session: Session, event: Envelope, data: dict[str, Any], *,
                      deps: HandlerDeps) -> None:
    """Tell the lead's owner their converted lead was linked to an existing account."""
    notify(session, event, domain.for_account_linked(data), deps)


def subscriptions(deps: HandlerDeps) -> dict[str, Subscription]:
    return {
        ACCOUNT_OPENED: Subscription(partial(on_account_opened, deps=deps), AccountOpenedIn().load),
        ACCOUNT_LINKED: Subscription(partial(on_account_linked, deps=deps), AccountLinkedIn().load),
    }
