"""The credit check: approve with a reservation or hold with every reason, once per order.

Serialization: the account's credit row is locked (``SELECT … FOR UPDATE``) before the
available amount is read, so concurrent checks on one account run one after another and the
sum of approved reservations never exceeds what was available (no over-commit).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from ..approvals.models import APPROVED, ORDER_EXCEPTION, CreditRequest
from ..credit.money import ZERO, fmt
from ..credit.state import available, limit_in_force
from ..holds import rules as hold_rules
from ..holds.service import has_default
from ..ledger.service import LedgerError, Op, check_currency
from ..limits.grade_port import archive_approved
from .models import EXPIRED, HELD, RELEASED, RESERVED, CreditCheck

_HOLD_CODES = {hold_rules.MANUAL: "manual_hold", hold_rules.OVERDUE_DEFAULT: "overdue_beyond_2_months",
               hold_rules.ACCOUNT_LOST: "account_lost", hold_rules.OVER_LIMIT: "over_limit_hold"}


def reasons_for(op: Op, amount: Decimal) -> list[dict[str, Any]]:
    """Every reason the order may not pass now (empty: approve)."""
    row = op.row
    out: list[dict[str, Any]] = []
    if op.account.status == "lost":
        out.append({"code": "account_lost", "detail": "the account is lost"})
    if row.archive_approved_at is None and not archive_approved(op.session, op.account.id):
        out.append({"code": "archive_not_approved", "detail": "the customer archive is not approved"})
    if row.hold_state == hold_rules.ON_HOLD:
        for reason in row.hold_reasons:
            code = _HOLD_CODES.get(reason, reason)
            if all(r["code"] != code for r in out):
                out.append({"code": code, "detail": f"the account is on hold ({reason})"})
    months = op.policy.default_liability_months
    if all(r["code"] != "overdue_beyond_2_months" for r in out) and has_default(
            op.session, op.account.id, op.today, months):
        out.append({"code": "overdue_beyond_2_months",
                    "detail": f"a charge is overdue by more than {months} months"})
    free = available(row)
    if amount > free:
        if row.effective_limit is None or limit_in_force(row) == ZERO:
            out.append({"code": "cash_before_delivery", "over_by": fmt(amount - free),
                        "detail": "no approved limit: ship only after payment has arrived"})
        else:
            out.append({"code": "over_limit", "over_by": fmt(amount - free),
                        "detail": f"over the available {fmt(free)} by {fmt(amount - free)}"})
    return out


def _exception(op: Op, order_id: str) -> CreditRequest | None:
    return op.session.scalar(select(CreditRequest).where(
        CreditRequest.order_id == order_id, CreditRequest.kind == ORDER_EXCEPTION,
        CreditRequest.status == APPROVED, CreditRequest.account_id == op.account.id).limit(1))


def check(op: Op, *, order_id: str, amount: Decimal, currency: str | None) -> tuple[CreditCheck, bool]:
    """Check (or re-check) an order; returns the check and whether it was created now.

    An approved check is final for its order (repeating it returns it unchanged, no second
    reservation); a held one is evaluated again, so the order passes once its reasons are gone.
    """
    currency = check_currency(op, currency)
    existing = op.session.scalar(select(CreditCheck).where(CreditCheck.order_id == order_id))
    if existing is not None:
        if existing.account_id != op.account.id or existing.amount != amount:
            raise LedgerError(f"order {order_id} was already checked with other details", conflict=True)
        if existing.status != HELD:
            return existing, False
    reasons = reasons_for(op, amount)
    exception = _exception(op, order_id) if reasons else None
    passed = not reasons or exception is not None
    free = available(op.row)
    if existing is None:
        existing = CreditCheck(id=str(uuid.uuid4()), order_id=order_id, account_id=op.account.id,
                               amount=amount, currency=currency, created_at=op.now,
                               created_by=op.actor)
        op.session.add(existing)
        created = True
    else:
        created = False
    existing.available_before = free
    existing.reasons = ([{"code": "order_exception", "request_id": exception.id,
                          "detail": "passed by an approved one-order exception"}, *reasons]
                        if exception is not None else reasons)
    if passed:
        existing.status = RESERVED
        existing.expires_at = op.now + timedelta(hours=op.policy.reservation_hours)
        op.row.reserved += amount
    else:
        existing.status = HELD
    op.session.flush()
    return existing, created


def release(op: Op, order_id: str, *, expired: bool = False) -> CreditCheck:
    """The order was cancelled (or its reservation expired): give the amount back."""
    found = op.session.scalar(select(CreditCheck).where(
        CreditCheck.order_id == order_id, CreditCheck.account_id == op.account.id))
    if found is None:
        raise LedgerError(f"no credit check for order {order_id} on this account", status=404)
    if found.status != RESERVED:
        raise LedgerError(f"order {order_id} holds no reservation (status {found.status})", conflict=True)
    op.row.reserved -= found.amount
    found.status, found.closed_at = (EXPIRED if expired else RELEASED), op.now
    return found
