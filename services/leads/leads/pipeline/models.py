"""Mapped classes of the pipeline and follow-ups: stage history, follow-up log, reminders sent.

The pipeline columns on ``leads`` itself (stage, checklist, tracking class, cadence_due_at …) live
on :class:`leads.models.Lead`; these tables hang off it by ``lead_id``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from leads.db import Base
from leads.intake.models import Lead
from servicedb import UtcDateTime

FOLLOW_UP_CHANNELS = ("visit", "phone", "sms", "email", "message", "other")


class LeadStageHistory(Base):
    """One stay of a lead in a stage (outcomes included); ``left_at`` is NULL for the current one."""

    __tablename__ = "lead_stage_history"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    lead_id: Mapped[str] = mapped_column(String(36))
    stage: Mapped[str] = mapped_column(String(40))
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(100))  # lost / termination reason

    __table_args__ = (Index("ix_lead_stage_history_lead", "lead_id", "entered_at", "id"),)


class LeadFollowUp(Base):
    """A follow-up with the customer as the rep logged it; ``at`` is server time, never the client's."""

    __tablename__ = "lead_follow_ups"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    lead_id: Mapped[str] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    by: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(String(500))
    next_date: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_lead_follow_ups_lead_at", "lead_id", "at", "id"),)


class LeadReminderSent(Base):
    """A cadence reminder already emitted; the unique ``key`` (cadence.Reminder.key) makes the
    scheduler emit each reminder once however often and however concurrently it runs."""

    __tablename__ = "lead_reminders_sent"

    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    lead_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(60))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime())
    event_type: Mapped[str] = mapped_column(String(100))

    __table_args__ = (Index("ix_lead_reminders_sent_lead", "lead_id"),)


# The scheduler's scan: open, live leads whose next reminder is due (or unknown = NULL).
Index("ix_leads_cadence_due", Lead.cadence_due_at,
      postgresql_where=text("status = 'open' AND merged_into IS NULL"))
