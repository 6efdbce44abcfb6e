"""Charges, payments, their allocations and credit notes (all amounts Numeric(16, 2))."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from servicedb import UtcDateTime

from ..credit.models import MONEY
from ..db import Base


class Charge(Base):
    """An invoice for an order: its balance is amount - paid - credited."""

    __tablename__ = "credit_charges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    order_id: Mapped[str] = mapped_column(String(100), unique=True)
    lead_code: Mapped[str | None] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    paid: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    credited: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    currency: Mapped[str] = mapped_column(String(3))
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    settled_on: Mapped[date | None] = mapped_column(Date)  # when the balance reached zero
    overdue_notified_on: Mapped[date | None] = mapped_column(Date)
    defaulted_on: Mapped[date | None] = mapped_column(Date)  # overdue beyond the policy's months
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (
        Index("ix_credit_charges_account_issued", "account_id", "issued_on"),
        Index("ix_credit_charges_account_due", "account_id", "due_on"),
        Index("ix_credit_charges_open_due", "settled_on", "due_on"),
        # An account's open charges by due date (revision 0005): the credit check's default
        # probe and the payment's oldest-first allocation read only these (~10 % of charges).
        Index("ix_credit_charges_account_open", "account_id", "due_on",
              postgresql_where=text("settled_on IS NULL"), sqlite_where=text("settled_on IS NULL")),
    )

    @property
    def balance(self) -> Decimal:
        return self.amount - self.paid - self.credited


class Payment(Base):
    __tablename__ = "credit_payments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    unallocated: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (Index("ix_credit_payments_account_received", "account_id", "received_on"),)


class Allocation(Base):
    """Part of a payment applied to a charge; ``on_date`` decides on-time performance."""

    __tablename__ = "credit_allocations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("credit_payments.id", ondelete="CASCADE"))
    charge_id: Mapped[str] = mapped_column(ForeignKey("credit_charges.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    on_date: Mapped[date] = mapped_column(Date)

    __table_args__ = (Index("ix_credit_allocations_charge", "charge_id"),)


class CreditNote(Base):
    __tablename__ = "credit_notes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    charge_id: Mapped[str] = mapped_column(ForeignKey("credit_charges.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    issued_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (Index("ix_credit_notes_account", "account_id"),)
