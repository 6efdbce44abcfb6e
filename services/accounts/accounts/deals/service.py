"""Opening and advancing deals (deposit events at once), and the registers' rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, func, select

from servicedb import next_code

from ..credit import events
from ..ledger.service import LedgerError, Op, check_currency, post_payment
from ..models import Account, CodeCounter
from . import rules
from .models import Deal


def _record(op: Op, deal: Deal, stage: str, amount: Decimal, on: date) -> None:
    setattr(deal, stage, amount)
    setattr(deal, f"{stage}_on", on)
    deal.stage, deal.updated_at = stage, op.now
    if stage in rules.DEPOSITS:
        events.emit(op.session, op.emit, events.DEPOSIT_RECEIVED, op.account, deal_id=deal.id,
                    stage=stage, amount=amount, currency=deal.currency)


def open_deal(op: Op, *, stage: str, amount: Decimal, on: date | None, currency: str | None,
              product: str | None) -> Deal:
    if stage not in rules.OPENING:
        raise LedgerError("A deal opens with a small or a large deposit.", field="stage")
    deal = Deal(id=str(uuid.uuid4()), code=next_code(op.session, CodeCounter, "D"),
                account_id=op.account.id, rep_id=op.account.owner_id, rep_team=op.account.owner_team,
                product=product, stage=stage, currency=check_currency(op, currency),
                created_at=op.now, created_by=op.actor, updated_at=op.now)
    op.session.add(deal)
    op.session.flush()
    _record(op, deal, stage, amount, on or op.today)
    return deal


def advance(op: Op, deal_id: str, *, stage: str, amount: Decimal, on: date | None) -> Deal:
    deal = op.session.get(Deal, deal_id, with_for_update=True)
    if deal is None or deal.account_id != op.account.id:
        raise LedgerError(f"no deal {deal_id} on this account", status=404)
    try:
        rules.next_stage(deal.stage, stage)
    except rules.StageError as exc:
        raise LedgerError(str(exc), conflict=True) from exc
    _record(op, deal, stage, amount, on or op.today)
    if stage == rules.PAYMENT:  # 交款: money received, so the ledger's too
        payment, _ = post_payment(op, amount=amount, currency=deal.currency,
                                  received_on=on or op.today, reference=f"deal {deal.code}",
                                  allocations=None)
        deal.payment_id = payment.id
    return deal


HEADERS = ("deal", "customer code", "customer", "rep", "team", "product", "date", "amount", "currency")
SALES_HEADERS = ("rep", "team", "small deposits", "large deposits", "contracts", "contract amount",
                 "payments", "paid amount", "currency")


def register_rows(session: Any, register: str, start: date, end: date, *,
                  scope: Any) -> Iterator[tuple[Any, ...]]:
    """The register's rows for [start, end), oldest first (the sales register: one row per rep)."""
    stage, _ = rules.REGISTERS[register]
    if register == "sales":
        yield from _sales(session, start, end, scope)
        return
    day = getattr(Deal, f"{stage}_on")
    stmt: Select[Any] = (select(Deal.code, Account.code, Account.name, Deal.rep_id, Deal.rep_team,
                                Deal.product, day, getattr(Deal, stage), Deal.currency)
                         .join(Account, Account.id == Deal.account_id)
                         .where(day >= start, day < end).order_by(day, Deal.code))
    for row in session.execute(_scoped(stmt, scope)):
        yield tuple(row)


def _scoped(stmt: Select[Any], scope: Any) -> Select[Any]:
    if scope.everything:
        return stmt
    return stmt.where((Deal.rep_id == scope.owner_id) | (Deal.rep_team == scope.team))


def _sales(session: Any, start: date, end: date, scope: Any) -> Iterator[tuple[Any, ...]]:
    def window(col: Any) -> Any:
        return and_(col >= start, col < end)

    stmt: Any = select(
        Deal.rep_id, Deal.rep_team,
        func.count().filter(window(Deal.small_deposit_on)),
        func.count().filter(window(Deal.large_deposit_on)),
        func.count().filter(window(Deal.contract_on)),
        func.coalesce(func.sum(Deal.contract).filter(window(Deal.contract_on)), 0),
        func.count().filter(window(Deal.payment_on)),
        func.coalesce(func.sum(Deal.payment).filter(window(Deal.payment_on)), 0),
        Deal.currency,
    ).group_by(Deal.rep_id, Deal.rep_team, Deal.currency).order_by(Deal.rep_id)
    for row in session.execute(_scoped(stmt, scope)):
        if any(row[2:5]) or row[6]:
            yield tuple(row)
