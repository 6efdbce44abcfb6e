"""One credit check per order id (idempotency key) and its reservation's life."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from servicedb import UtcDateTime

from ..credit.models import MONEY
from ..db import Base

RESERVED, HELD, RELEASED, CONVERTED, EXPIRED = "reserved", "held", "released", "converted", "expired"


class CreditCheck(Base):
    __tablename__ = "credit_checks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(100), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    available_before: Mapped[Decimal] = mapped_column(MONEY)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_credit_checks_open", "status", "expires_at"),
                      Index("ix_credit_checks_account", "account_id", "created_at"))
