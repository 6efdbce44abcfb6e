"""Requests, their decisions (one per step) and temporary increases."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servicedb import UtcDateTime

from ..credit.models import MONEY
from ..db import Base

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
LIMIT_CHANGE, ORDER_EXCEPTION = "limit_change", "order_exception"


class CreditRequest(Base):
    __tablename__ = "credit_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    step: Mapped[int]  # 1-based index into chain of the step that decides next
    chain: Mapped[list[str]] = mapped_column(JSON)
    form: Mapped[dict[str, Any]] = mapped_column(JSON)  # the form's fields as filed
    current_limit: Mapped[Decimal | None] = mapped_column(MONEY)
    proposed_limit: Mapped[Decimal | None] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    ends_on: Mapped[date | None] = mapped_column(Date)       # temporary increase until
    order_id: Mapped[str | None] = mapped_column(String(100))  # one-order exception
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_credit_requests_account", "account_id", "requested_at"),
                      Index("ix_credit_requests_order", "order_id", "status"))


class Decision(Base):
    __tablename__ = "credit_decisions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("credit_requests.id", ondelete="CASCADE"))
    step: Mapped[int]
    role: Mapped[str] = mapped_column(String(40))
    decided_by: Mapped[str] = mapped_column(String(100))
    decision: Mapped[str] = mapped_column(String(20))
    opinion: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (UniqueConstraint("request_id", "step", name="uq_credit_decisions_step"),)


class TemporaryIncrease(Base):
    __tablename__ = "credit_temporary_increases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    request_id: Mapped[str] = mapped_column(String(36))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))  # active | expired
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expired_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_credit_temporary_increases_due", "status", "ends_on"),)
