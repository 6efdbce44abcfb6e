"""Every event type credit publishes (CONTRACTS.md): payload builders and registered schemas.

Each payload carries the account's id, code, name, owner and team so consumers (notify,
support, leads) need no lookup; money is a two-place string plus ``currency``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy.orm import Session

from eventbus import Envelope
from eventbus.contracts import publishes

from ..models import Account
from .money import fmt

Emit = Callable[[Session, str, dict[str, Any], str | None], Envelope]

INVOICE_ISSUED = "accounts.invoice.issued.v1"
DEPOSIT_RECEIVED = "accounts.deposit.received.v1"
PAYMENT_OVERDUE = "accounts.payment.overdue.v1"
HOLD_PLACED = "accounts.credit.hold_placed.v1"
HOLD_RELEASED = "accounts.credit.hold_released.v1"
LIMIT_CHANGED = "accounts.credit.limit_changed.v1"
APPROVAL_REQUESTED = "accounts.credit.approval_requested.v1"
APPROVAL_DECIDED = "accounts.credit.approval_decided.v1"
TEMPORARY_INCREASE_EXPIRING = "accounts.credit.temporary_increase_expiring.v1"
ARCHIVE_APPROVED = "accounts.archive.approved.v1"  # consumed: sets the first effective limit
STATUS_CHANGED = "accounts.account.status_changed.v1"  # consumed: lost → hold


def account_fields(account: Account) -> dict[str, Any]:
    return {"account_id": account.id, "account_code": account.code, "account_name": account.name,
            "owner_id": account.owner_id, "owner_team": account.owner_team}


def emit(session: Session, emit_fn: Emit, type_: str, account: Account, **data: Any) -> None:
    """One credit event for ``account`` into the outbox of the caller's transaction."""
    payload = account_fields(account)
    for key, value in data.items():
        if isinstance(value, Decimal):
            value = fmt(value)
        elif isinstance(value, datetime | date):
            value = value.isoformat()
        payload[key] = value
    emit_fn(session, type_, payload, account.id)


_AMOUNT = {"description": "two-place decimal string", "pattern": r"^-?\d+\.\d{2}$"}


def _money(required: bool = True, allow_none: bool = False) -> fields.String:
    return fields.String(required=required, allow_none=allow_none, metadata=_AMOUNT)


class _AccountData(Schema):
    account_id = fields.String(required=True, metadata={"format": "uuid"})
    account_code = fields.String(required=True, metadata={"description": "C-000001"})
    account_name = fields.String(required=True)
    owner_id = fields.String(required=True, metadata={"description": "the owning rep"})
    owner_team = fields.String(required=True, allow_none=True)


class InvoiceIssuedData(_AccountData):
    invoice_id = fields.String(required=True, metadata={"format": "uuid"})
    order_id = fields.String(required=True)
    lead_code = fields.String(required=True, allow_none=True,
                              metadata={"description": "the originating lead's code"})
    amount = _money()
    currency = fields.String(required=True)
    issued_on = fields.Date(required=True)
    due_on = fields.Date(required=True)


class DepositReceivedData(_AccountData):
    deal_id = fields.String(required=True, metadata={"format": "uuid"})
    stage = fields.String(required=True, validate=validate.OneOf(["small_deposit", "large_deposit"]))
    amount = _money()
    currency = fields.String(required=True)


class PaymentOverdueData(_AccountData):
    charge_id = fields.String(required=True, metadata={"format": "uuid"})
    amount_due = _money()
    currency = fields.String(required=True)
    due_on = fields.Date(required=True)
    days_overdue = fields.Integer(required=True)


class HoldPlacedData(_AccountData):
    reasons = fields.List(fields.String(), required=True)
    held_at = fields.DateTime(required=True)


class HoldReleasedData(_AccountData):
    released_by = fields.String(required=True)
    reason = fields.String(required=True)


class LimitChangedData(_AccountData):
    old_limit = _money(allow_none=True)
    new_limit = _money(allow_none=True)
    currency = fields.String(required=True)
    cause = fields.String(required=True, validate=validate.OneOf(
        ["approval", "temporary_increase", "temporary_increase_expired", "archive_approval"]))


class ApprovalRequestedData(_AccountData):
    request_id = fields.String(required=True, metadata={"format": "uuid"})
    kind = fields.String(required=True, validate=validate.OneOf(["limit_change", "order_exception"]))
    step = fields.Integer(required=True, validate=validate.Range(min=1, max=4))
    approver_role = fields.String(required=True)
    proposed_limit = _money(allow_none=True)
    requested_by = fields.String(required=True)


class ApprovalDecidedData(_AccountData):
    request_id = fields.String(required=True, metadata={"format": "uuid"})
    kind = fields.String(required=True)
    step = fields.Integer(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(["approved", "rejected"]))
    decided_by = fields.String(required=True)
    opinion = fields.String(required=True)
    final = fields.Boolean(required=True)


class TemporaryIncreaseExpiringData(_AccountData):
    increase_id = fields.String(required=True, metadata={"format": "uuid"})
    ends_on = fields.Date(required=True)
    amount = _money()


class ArchiveApprovedIn(Schema):
    """What credit reads of ``accounts.archive.approved.v1``."""

    class Meta:
        unknown = EXCLUDE

    account_id = fields.String(required=True)
    approved_by = fields.String(load_default="archive")


class StatusChangedIn(Schema):
    """What credit reads of ``accounts.account.status_changed.v1``."""

    class Meta:
        unknown = EXCLUDE

    account_id = fields.String(required=True)
    new_status = fields.String(required=True)
    reason = fields.String(load_default=None, allow_none=True)


PUBLISHED = (INVOICE_ISSUED, DEPOSIT_RECEIVED, PAYMENT_OVERDUE, HOLD_PLACED, HOLD_RELEASED,
             LIMIT_CHANGED, APPROVAL_REQUESTED, APPROVAL_DECIDED, TEMPORARY_INCREASE_EXPIRING)

publishes(INVOICE_ISSUED, InvoiceIssuedData, subject="the account id",
          summary="An invoice (charge) was issued for an order; leads follows a lead until it")
publishes(DEPOSIT_RECEIVED, DepositReceivedData, subject="the account id",
          summary="A small or large deposit was taken on a deal (notify central inventory control)")
publishes(PAYMENT_OVERDUE, PaymentOverdueData, subject="the account id",
          summary="A charge is overdue: the payment notice (催款通知单)")
publishes(HOLD_PLACED, HoldPlacedData, subject="the account id",
          summary="The account's credit was put on hold, with every reason")
publishes(HOLD_RELEASED, HoldReleasedData, subject="the account id",
          summary="The account's credit hold was released")
publishes(LIMIT_CHANGED, LimitChangedData, subject="the account id",
          summary="The effective credit limit changed")
publishes(APPROVAL_REQUESTED, ApprovalRequestedData, subject="the account id",
          summary="A credit request awaits the decision of the step's approver role")
publishes(APPROVAL_DECIDED, ApprovalDecidedData, subject="the account id",
          summary="An approver decided a credit request's step")
publishes(TEMPORARY_INCREASE_EXPIRING, TemporaryIncreaseExpiringData, subject="the account id",
          summary="A temporary credit increase reached its end date and reverted")
