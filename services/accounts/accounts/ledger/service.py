"""Ledger changes: one function per change, each locking the account's credit row first and
writing its events in the caller's transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..archive import service as archive
from ..checks.models import CONVERTED, RESERVED, CreditCheck
from ..credit import events
from ..credit.models import CreditAccount
from ..credit.money import ZERO
from ..credit.policy import CreditPolicy
from ..credit.state import business_date
from ..holds import service as holds
from ..models import Account
from ..points import service as points
from .models import Allocation, Charge, CreditNote, Payment


class LedgerError(ValueError):
    """A request the ledger refuses: ``field`` → message (422), a conflict (409), or 404."""

    def __init__(self, message: str, *, field: str | None = None, conflict: bool = False,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.status = status or (409 if conflict else 422)


@dataclass(frozen=True)
class Op:
    """Who does what when, under which policy: passed to every ledger function."""

    session: Session
    emit: events.Emit
    account: Account
    row: CreditAccount
    policy: CreditPolicy
    now: datetime
    actor: str

    @property
    def today(self) -> date:
        return business_date(self.now)


def check_currency(op: Op, currency: str | None) -> str:
    currency = currency or op.row.currency
    if currency not in op.policy.currencies:
        raise LedgerError(f"Unknown currency {currency!r}; one of {', '.join(op.policy.currencies)}.",
                          field="currency")
    if currency != op.row.currency:
        raise LedgerError(f"The account's credit is kept in {op.row.currency}.", field="currency")
    return currency


def _apply(charge: Charge, payment: Payment, amount: Decimal, on: date, session: Session) -> Allocation:
    allocation = Allocation(id=str(uuid.uuid4()), payment_id=payment.id, charge_id=charge.id,
                            amount=amount, on_date=on)
    session.add(allocation)
    charge.paid += amount
    payment.unallocated -= amount
    if charge.balance == ZERO:
        charge.settled_on = on
    return allocation


def post_charge(op: Op, *, order_id: str, amount: Decimal, currency: str | None,
                issued_on: date | None, due_on: date | None, lead_code: str | None) -> Charge:
    """Issue an invoice for an order: converts the order's reservation, applies cash already on
    account (oldest payment first), raises exposure, announces ``accounts.invoice.issued.v1``."""
    currency = check_currency(op, currency)
    issued = issued_on or op.today
    due = due_on or issued + timedelta(days=op.policy.payment_terms_days)
    if due < issued:
        raise LedgerError("The due date is before the issue date.", field="due_on")
    if op.session.scalar(select(Charge.id).where(Charge.order_id == order_id)) is not None:
        raise LedgerError(f"order {order_id} is already invoiced", conflict=True)
    check = op.session.scalar(select(CreditCheck).where(CreditCheck.order_id == order_id))
    if check is not None and check.account_id != op.account.id:
        raise LedgerError(f"order {order_id} was checked for another account", conflict=True)
    if check is not None and check.status == RESERVED:
        op.row.reserved -= check.amount
        check.status, check.closed_at = CONVERTED, op.now
    charge = Charge(id=str(uuid.uuid4()), account_id=op.account.id, order_id=order_id,
                    lead_code=lead_code, amount=amount, paid=ZERO, credited=ZERO, currency=currency,
                    issued_on=issued, due_on=due, created_at=op.now, created_by=op.actor)
    op.session.add(charge)
    op.row.outstanding += amount
    archive.record_purchase(op.session, op.emit, op.account.id, at=op.now, actor=op.actor)
    if op.row.unapplied > ZERO:
        payments = op.session.scalars(select(Payment).where(
            Payment.account_id == op.account.id, Payment.unallocated > ZERO)
            .order_by(Payment.received_on, Payment.created_at, Payment.id))
        for payment in payments:
            part = min(payment.unallocated, charge.balance)
            if part <= ZERO:
                break
            _apply(charge, payment, part, max(payment.received_on, issued), op.session)
            op.row.unapplied -= part
            op.row.outstanding -= part
    op.session.flush()
    if lead_code is not None:  # a referred customer bought: its referrer's points (§2.8)
        points.award_purchase_by_lead_code(op.session, op.emit, lead_code, amount,
                                           source_key=f"charge:{order_id}", at=op.now)
    events.emit(op.session, op.emit, events.INVOICE_ISSUED, op.account, invoice_id=charge.id,
                order_id=order_id, lead_code=lead_code, amount=amount, currency=currency,
                issued_on=issued, due_on=due)
    holds.reevaluate(op.session, op.emit, op.account, op.row, at=op.now, today=op.today,
                     months=op.policy.default_liability_months, actor=op.actor, cause="charge posted")
    return charge


def _open_charges(op: Op) -> list[Charge]:
    """Open charges oldest first: by due date, then issue date (then id, for a stable order)."""
    return list(op.session.scalars(select(Charge).where(
        Charge.account_id == op.account.id, Charge.settled_on.is_(None))
        .order_by(Charge.due_on, Charge.issued_on, Charge.id).with_for_update()))


def post_payment(op: Op, *, amount: Decimal, currency: str | None, received_on: date | None,
                 reference: str | None,
                 allocations: list[dict[str, Any]] | None) -> tuple[Payment, list[Allocation]]:
    """Record a payment and allocate it: to the charges named, else oldest first; what is left
    stays on account as cash and is applied to the next charge."""
    currency = check_currency(op, currency)
    on = received_on or op.today
    payment = Payment(id=str(uuid.uuid4()), account_id=op.account.id, amount=amount,
                      unallocated=amount, currency=currency, received_on=on, reference=reference,
                      created_at=op.now, created_by=op.actor)
    op.session.add(payment)
    op.session.flush()
    open_charges = _open_charges(op)
    applied_rows: list[Allocation] = []
    if allocations:
        by_id = {c.id: c for c in open_charges}
        if sum((a["amount"] for a in allocations), ZERO) > amount:
            raise LedgerError("Allocations exceed the payment.", field="allocations")
        for item in allocations:
            charge = by_id.get(item["charge_id"])
            if charge is None:
                raise LedgerError(f"No open charge {item['charge_id']} on this account.",
                                  field="allocations")
            if item["amount"] > charge.balance:
                raise LedgerError(f"More than charge {charge.id}'s balance {charge.balance}.",
                                  field="allocations")
            applied_rows.append(_apply(charge, payment, item["amount"], on, op.session))
    else:
        for charge in open_charges:
            if payment.unallocated <= ZERO:
                break
            applied_rows.append(_apply(charge, payment, min(payment.unallocated, charge.balance), on,
                                       op.session))
    applied = amount - payment.unallocated
    op.row.outstanding -= applied
    op.row.unapplied += payment.unallocated
    op.session.flush()
    holds.reevaluate(op.session, op.emit, op.account, op.row, at=op.now, today=op.today,
                     months=op.policy.default_liability_months, actor=op.actor,
                     cause="payment received")
    return payment, applied_rows


def post_credit_note(op: Op, *, amount: Decimal, currency: str | None, charge_id: str | None,
                     reason: str, issued_on: date | None) -> CreditNote:
    """Credit a charge (the one named, else the oldest open one) by at most its balance."""
    currency = check_currency(op, currency)
    open_charges = _open_charges(op)
    charge = next((c for c in open_charges if c.id == charge_id), None) if charge_id else (
        open_charges[0] if open_charges else None)
    if charge is None:
        raise LedgerError("No open charge to credit on this account.", field="charge_id")
    if amount > charge.balance:
        raise LedgerError(f"More than the charge's balance {charge.balance}.", field="amount")
    on = issued_on or op.today
    note = CreditNote(id=str(uuid.uuid4()), account_id=op.account.id, charge_id=charge.id,
                      amount=amount, currency=currency, issued_on=on, reason=reason,
                      created_at=op.now, created_by=op.actor)
    op.session.add(note)
    charge.credited += amount
    if charge.balance == ZERO:
        charge.settled_on = on
    op.row.outstanding -= amount
    op.session.flush()
    holds.reevaluate(op.session, op.emit, op.account, op.row, at=op.now, today=op.today,
                     months=op.policy.default_liability_months, actor=op.actor,
                     cause="credit note")
    return note
