"""The accounts read model: what support shows on every ticket and decides with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from servicedb import UtcDateTime

from ..db import Base


class KnownAccount(Base):
    """One account as accounts last described it (the highest ``version`` seen wins)."""

    __tablename__ = "known_accounts"

    account_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[str] = mapped_column(String(100), index=True)
    owner_team: Mapped[str | None] = mapped_column(String(100), index=True)
    version: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # From the ``account`` snapshot (absent in older accounts.account.opened.v1 events).
    status: Mapped[str | None] = mapped_column(String(20))
    archive_state: Mapped[str | None] = mapped_column(String(20))
    grade: Mapped[str | None] = mapped_column(String(5))
    member: Mapped[bool] = mapped_column(Boolean, default=False)
    key_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    credit_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    city: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str | None] = mapped_column(String(60))
    contact: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    phone: Mapped[str | None] = mapped_column(String(40), index=True)  # the contact's mobile
