"""Appointments and their changes (append-only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from servicedb import UtcDateTime

from ..db import Base


class Appointment(Base):
    __tablename__ = "appointments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(36), index=True)
    account_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    technician_id: Mapped[str] = mapped_column(String(100))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    urgent_reason: Mapped[str | None] = mapped_column(Text)
    priority_customer: Mapped[bool] = mapped_column(Boolean, default=False)  # brand / high grade
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
    remind_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        Index("ix_appointments_technician_starts", "technician_id", "starts_at"),
        Index("ix_appointments_status_remind", "status", "remind_at"),
        Index("ix_appointments_starts", "starts_at"),
    )


class AppointmentChange(Base):
    __tablename__ = "appointment_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    appointment_id: Mapped[str] = mapped_column(String(36), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    by: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    from_starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    to_starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    consent_by: Mapped[str | None] = mapped_column(String(100))
    consent_channel: Mapped[str | None] = mapped_column(String(20))
    consent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    note: Mapped[str | None] = mapped_column(Text)
