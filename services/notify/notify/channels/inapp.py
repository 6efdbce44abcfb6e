"""In-app: a row in the recipient's inbox (``notifications``), announced as an event."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from servicedb import dialect_insert, writes

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
    # One statement instead of a lookup, then an insert: the unique pair decides.
    row = {c.key: getattr(n, c.key) for c in Notification.__table__.columns}
    if not writes.execute(session, _insert(session.get_bind().dialect.name), row):
        return None
    emit(session, NOTIFICATION_CREATED, created_payload(n), n.id)
    return n


@lru_cache(maxsize=4)
def _insert(dialect: str) -> Any:
    table = Notification.__table__
    return (
        dialect_insert(dialect, table)
        .on_conflict_do_nothing(index_elements=[table.c.source_event_id, table.c.recipient_id])
        .returning(table.c.id)
    )
