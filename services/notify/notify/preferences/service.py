"""Read and change preferences (one function per state change)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .models import Preference
from .rules import Prefs


def prefs_of(session: Session, user_id: str) -> Prefs:
    row = session.get(Preference, user_id)
    if row is None:
        return Prefs(user_id=user_id)
    return Prefs(
        user_id=row.user_id,
        channels=tuple(row.channels),
        language=row.language,
        timezone=row.timezone,
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
        email=row.email,
        mobile=row.mobile,
    )


def set_prefs(session: Session, user_id: str, changes: dict[str, Any], now: datetime) -> Prefs:
    row = session.get(Preference, user_id, with_for_update=True)
    if row is None:
        row = Preference(user_id=user_id, channels=[], language="zh-CN", updated_at=now)
        session.add(row)
    for name, value in changes.items():
        setattr(row, name, list(dict.fromkeys(value)) if name == "channels" else value)
    row.updated_at = now
    session.flush()
    return prefs_of(session, user_id)
