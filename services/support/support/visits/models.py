"""Return visits, scripts, delivered projects."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from servicedb import UtcDateTime

from ..db import Base


class ReturnVisit(Base):
    __tablename__ = "return_visits"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_id: Mapped[str | None] = mapped_column(String(36), index=True)
    project_id: Mapped[str | None] = mapped_column(String(36), index=True)
    account_id: Mapped[str] = mapped_column(String(36), index=True)
    reason: Mapped[str] = mapped_column(String(20))  # resolution | project
    member: Mapped[bool] = mapped_column(Boolean, default=False)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    agent_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="due")  # due | done
    script_id: Mapped[str | None] = mapped_column(String(36))
    result: Mapped[str | None] = mapped_column(String(20))  # satisfied | neutral | dissatisfied
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(20))
    recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    recorded_by: Mapped[str | None] = mapped_column(String(100))
    follow_up_ticket_id: Mapped[str | None] = mapped_column(String(36))
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (Index("ix_return_visits_status_due", "status", "due_at"),)


class VisitScript(Base):
    """A return-visit script: an introduction, questions, and the text of each answer branch."""

    __tablename__ = "visit_scripts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    reason: Mapped[str] = mapped_column(String(20))
    intro: Mapped[str] = mapped_column(Text)
    questions: Mapped[list[str]] = mapped_column(JSON)
    branches: Mapped[dict[str, str]] = mapped_column(JSON)  # satisfied / neutral / dissatisfied
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(100))


class DeliveredProject(Base):
    """A delivered project: visited monthly in its first year, quarterly after (§3.6, §3.8)."""

    __tablename__ = "delivered_projects"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str] = mapped_column(String(200))
    delivered_on: Mapped[date] = mapped_column(Date)
    visits_planned: Mapped[int] = mapped_column(Integer, default=0)  # visits created so far
    next_visit_on: Mapped[date] = mapped_column(Date, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
