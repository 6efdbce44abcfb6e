"""A complaint's state, its steps and approvals (append-only), accountability entries (append-only)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from servicedb import UtcDateTime

from ..db import Base


class Complaint(Base):
    __tablename__ = "complaints"

    ticket_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    step: Mapped[int] = mapped_column(Integer, default=0)  # the last completed step
    problem_found: Mapped[bool | None] = mapped_column(Boolean)
    category: Mapped[str | None] = mapped_column(String(20))  # quality | non_quality
    plan: Mapped[str | None] = mapped_column(Text)
    compensation: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    litigation: Mapped[bool] = mapped_column(Boolean, default=False)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    counted_month: Mapped[str | None] = mapped_column(String(7), index=True)  # ⑨ YYYY-MM
    version: Mapped[int] = mapped_column(Integer, default=1)


class ComplaintStep(Base):
    __tablename__ = "complaint_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(String(36), index=True)
    step: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    by: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ComplaintApproval(Base):
    __tablename__ = "complaint_approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(String(36), index=True)
    role: Mapped[str] = mapped_column(String(40))
    by: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    approved: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)


class AccountabilityEntry(Base):
    """An accountability entry of the grievance rules (§3.2d), recorded for the report."""

    __tablename__ = "accountability_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(String(36), index=True)
    rule: Mapped[str] = mapped_column(String(40))
    person_id: Mapped[str | None] = mapped_column(String(100))
    person_role: Mapped[str] = mapped_column(String(40))  # employee | manager
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    by: Mapped[str] = mapped_column(String(100))
