"""The per-account credit row: the limits, the running exposure and the hold state.

Every money movement and every credit check locks this row (``SELECT … FOR UPDATE``) first, so
concurrent checks on one account serialize and can never approve past the available limit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from servicedb import UtcDateTime

from ..db import Base

MONEY = Numeric(16, 2)


class CreditAccount(Base):
    __tablename__ = "credit_accounts"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    # The formula's result (standard) and the limit in force (effective: set when the archive
    # is approved, then only by an approved request); None = cash before delivery.
    standard_limit: Mapped[Decimal | None] = mapped_column(MONEY)
    effective_limit: Mapped[Decimal | None] = mapped_column(MONEY)
    temporary_increase: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    outstanding: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))  # open charges
    reserved: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))     # open checks
    unapplied: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))    # cash on account
    hold_state: Mapped[str] = mapped_column(String(20), default="none")
    hold_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    archive_approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(default=1)
