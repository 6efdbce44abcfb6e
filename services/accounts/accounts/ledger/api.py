"""HTTP API of the ledger: finance posts charges, payments and credit notes."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

from authn.flask import require_roles
from httpapi import Blueprint

from ..credit import web
from . import service
from .models import Charge, CreditNote, Payment
from .schemas import (
    ChargeCreateSchema,
    ChargeListSchema,
    ChargeSchema,
    CreditNoteCreateSchema,
    CreditNoteSchema,
    PaymentCreateSchema,
    PaymentSchema,
)

blp = Blueprint("credit_ledger", __name__, url_prefix="/api/v1/accounts",
                description="Ledger: charges (invoices), payments allocated oldest first, credit notes")


@blp.route("/<string:account_id>/charges")
class Charges(MethodView):
    @blp.arguments(ChargeCreateSchema)
    @blp.response(201, ChargeSchema)
    @require_roles(*web.FINANCE)
    def post(self, body: dict[str, Any], account_id: str) -> Charge:
        """Issue an invoice for an order (converts its credit reservation); announces
        ``accounts.invoice.issued.v1`` with the originating lead code."""
        with web.operation(account_id) as op:
            return service.post_charge(op, **body)

    @blp.response(200, ChargeListSchema)
    @require_roles(*web.READERS)
    def get(self, account_id: str) -> dict[str, Any]:
        """The account's charges, oldest due first (at most 500)."""
        with web.ctx().bus.session_factory() as session:
            web.visible(session, account_id)
            rows = list(session.scalars(select(Charge).where(Charge.account_id == account_id)
                                        .order_by(Charge.due_on, Charge.id).limit(500)))
        return {"items": rows}


@blp.route("/<string:account_id>/payments")
class Payments(MethodView):
    @blp.arguments(PaymentCreateSchema)
    @blp.response(201, PaymentSchema)
    @require_roles(*web.FINANCE)
    def post(self, body: dict[str, Any], account_id: str) -> dict[str, Any]:
        """Record a payment, allocated to the charges named or oldest first; a payment that
        cures an over-limit or default hold releases it."""
        with web.operation(account_id) as op:
            payment, allocations = service.post_payment(op, **body)
            return {**_fields(payment), "allocations": allocations}


def _fields(payment: Payment) -> dict[str, Any]:
    return {k: getattr(payment, k) for k in ("id", "account_id", "amount", "unallocated", "currency",
                                             "received_on", "reference", "created_at")}


@blp.route("/<string:account_id>/credit-notes")
class CreditNotes(MethodView):
    @blp.arguments(CreditNoteCreateSchema)
    @blp.response(201, CreditNoteSchema)
    @require_roles(*web.FINANCE)
    def post(self, body: dict[str, Any], account_id: str) -> CreditNote:
        """Credit a charge (named, else the oldest open one) by at most its balance."""
        with web.operation(account_id) as op:
            return service.post_credit_note(op, **body)
