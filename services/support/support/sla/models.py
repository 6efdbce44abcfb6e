"""SLA clocks (one per ticket and metric) and their ledger (append-only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from servicedb import UtcDateTime

from ..db import Base


class SlaClockRow(Base):
    __tablename__ = "sla_clocks"

    ticket_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    metric: Mapped[str] = mapped_column(String(20), primary_key=True)
    target_seconds: Mapped[int] = mapped_column(Integer)
    consumed_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    running_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    met_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    attained: Mapped[bool | None] = mapped_column(Boolean)  # met within target (reports)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    notified_percent: Mapped[int] = mapped_column(Integer, default=0)
    next_check_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)


class SlaLedger(Base):
    """start / pause / resume / met / retarget / warning / breach / escalation, with the due time
    then in force: the clock's whole story, which peers keep only as a final state."""

    __tablename__ = "sla_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(String(36), index=True)
    metric: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    consumed_seconds: Mapped[float] = mapped_column(Float)
