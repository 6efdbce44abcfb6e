"""Hold history (append-only) and the archive's violation records (§2.4, §2.7)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from servicedb import UtcDateTime

from ..db import Base


class HoldEntry(Base):
    __tablename__ = "credit_hold_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)  # the order
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index("ix_credit_hold_history_account", "account_id", "at"),)


class Violation(Base):
    """A violation record on the archive (time, type, description); one per defaulted charge."""

    __tablename__ = "credit_violations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    charge_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    type: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(500))

    __table_args__ = (Index("ix_credit_violations_account", "account_id", "at"),)
