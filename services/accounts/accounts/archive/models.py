"""Child rows of the archive card: contacts, violation records, evaluations; change requests
submitted to the archive clerk; the log of audited exports."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from servicedb import UtcDateTime

from ..db import Base


class AccountContact(Base):
    """联系信息: one contact person (primary, secondary, or more) of an account."""

    __tablename__ = "account_contacts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    category: Mapped[str] = mapped_column(String(20))  # primary | secondary | other
    name: Mapped[str] = mapped_column(String(100))
    department_title: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    fax: Mapped[str | None] = mapped_column(String(32))
    mobile: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))

    __table_args__ = (
        Index("ix_account_contacts_account", "account_id", "position"),
        Index("ix_account_contacts_phone", "phone"),
        Index("ix_account_contacts_mobile", "mobile"),
    )


class AccountViolation(Base):
    """违规记录: time, type, description."""

    __tablename__ = "account_violations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    occurred_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_account_violations_account", "account_id", "occurred_on"),)


class AccountEvaluation(Base):
    """客户评价: evaluator and text."""

    __tablename__ = "account_evaluations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    evaluator: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_account_evaluations_account", "account_id", "recorded_at"),)


class ChangeRequest(Base):
    """A written change request (§2.6: content and reason) that the archive clerk applies or
    rejects. ``changes`` is JSON {field: new value} as validated at submission."""

    __tablename__ = "account_change_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    changes: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending|applied|rejected
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decision_reason: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        Index("ix_account_change_requests_account", "account_id", "requested_at"),
        Index("ix_account_change_requests_state", "state", "requested_at"),
    )


class ExportLog(Base):
    """Who exported what, when (append-only)."""

    __tablename__ = "account_exports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(60))
    fmt: Mapped[str] = mapped_column(String(10))
    scope: Mapped[str] = mapped_column(String(200))
    rows: Mapped[int] = mapped_column(Integer, default=0)
