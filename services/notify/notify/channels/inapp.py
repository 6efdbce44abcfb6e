"""In-app: a row in the recipient's inbox (``notifications``), announced as an event."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain import Draft
from ..events import NOTIFICATION_CREATED, created_payload
from ..models import Notification

Emit = Callable[[Session, str, dict[str, Any], str | None], object]


def deliver(
    session: Session, source_event_id: str, draft: Draft, now: datetime, emit: Emit
) -> Notification | None:
    """Create ``draft`` once per (causing event, recipient) and announce it; None if it exists.

    The inbox drops a redelivery; the unique (source_event_id, recipient_id) also covers a
    replay under another consumer name.
    """
    exists = session.scalar(
        select(Notification.id).where(
            Notification.source_event_id == source_event_id, Notification.recipient_id == draft.recipient_id
        )
    )
    if exists is not None:
        return None
    n = Notification(
        id=str(uuid.uuid4()),
        recipient_id=draft.recipient_id,
        kind=draft.kind,
        title=draft.title[:200],
        body=draft.body,
        subject_type=draft.subject_type,
        subject_id=draft.subject_id,
        source_event_id=source_event_id,
        created_at=now,
        read_at=None,
    )
    session.add(n)
    session.flush()
    emit(session, NOTIFICATION_CREATED, created_payload(n), n.id)
    return n
