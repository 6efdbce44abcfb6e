"""A deal and the amount and date of each stage it reached."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from servicedb import UtcDateTime

from ..credit.models import MONEY
from ..db import Base


class Deal(Base):
    __tablename__ = "credit_deals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    rep_id: Mapped[str] = mapped_column(String(100))
    rep_team: Mapped[str | None] = mapped_column(String(100))
    product: Mapped[str | None] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    small_deposit: Mapped[Decimal | None] = mapped_column(MONEY)
    small_deposit_on: Mapped[date | None] = mapped_column(Date)
    large_deposit: Mapped[Decimal | None] = mapped_column(MONEY)
    large_deposit_on: Mapped[date | None] = mapped_column(Date)
    contract: Mapped[Decimal | None] = mapped_column(MONEY)
    contract_on: Mapped[date | None] = mapped_column(Date)
    payment: Mapped[Decimal | None] = mapped_column(MONEY)
    payment_on: Mapped[date | None] = mapped_column(Date)
    # The ledger's payment that 交款 posted (revision 0005; deals paid before it have none).
    payment_id: Mapped[str | None] = mapped_column(ForeignKey("credit_payments.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        Index("ix_credit_deals_account", "account_id", "created_at"),
        Index("ix_credit_deals_small", "small_deposit_on"),
        Index("ix_credit_deals_large", "large_deposit_on"),
        Index("ix_credit_deals_contract", "contract_on"),
        Index("ix_credit_deals_payment", "payment_on"),
    )
