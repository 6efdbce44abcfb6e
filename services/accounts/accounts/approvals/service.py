"""Filing and deciding credit requests, applying approved ones, reverting temporary increases."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from authn import Principal
from eventbus import ServiceBus

from ..credit import events
from ..credit import policy as credit_policy
from ..credit.money import ZERO
from ..credit.state import business_date, credit_row, limit_in_force
from ..holds import service as holds
from ..ledger.service import LedgerError, Op
from ..limits.grade_port import current_grade
from ..limits.service import set_effective
from ..models import Account
from . import rules
from .models import (
    APPROVED,
    LIMIT_CHANGE,
    ORDER_EXCEPTION,
    PENDING,
    REJECTED,
    CreditRequest,
    Decision,
    TemporaryIncrease,
)


def file(op: Op, *, kind: str, body: dict[str, Any]) -> CreditRequest:
    """File a 《客户信用额度变更申请表》 (or a one-order exception) and ask its first approver."""
    proposed: Decimal | None = body.get("proposed_limit")
    ends_on: date | None = body.get("ends_on")
    current = op.row.effective_limit
    if kind == LIMIT_CHANGE:
        if proposed is None:
            raise LedgerError("A limit change proposes a limit.", field="proposed_limit")
        if ends_on is not None:
            if ends_on <= op.today:
                raise LedgerError("A temporary increase ends after today.", field="ends_on")
            if proposed <= (current or ZERO):
                raise LedgerError("A temporary increase proposes more than the current limit.",
                                  field="proposed_limit")
    elif not body.get("order_id"):
        raise LedgerError("An exception names its order.", field="order_id")
    stmt = select(CreditRequest.id).where(
        CreditRequest.account_id == op.account.id, CreditRequest.kind == kind,
        CreditRequest.status == PENDING)
    if kind == ORDER_EXCEPTION:
        stmt = stmt.where(CreditRequest.order_id == body["order_id"])
    pending = op.session.scalar(stmt.limit(1))
    if pending is not None:
        raise LedgerError(f"request {pending} of this kind is still pending", conflict=True)
    increase = (proposed or ZERO) - (current or ZERO)
    chain = list(op.policy.chain_for(kind, increase))
    grade, _ = current_grade(op.session, op.account.id)
    form = {
        "request_date": op.today.isoformat(), "customer": op.account.name,
        "customer_code": op.account.code, "responsible_rep": op.account.owner_id,
        "grade": grade, "address": body.get("address"), "contact": body.get("contact"),
        "phone": body.get("phone") or op.account.phone,
    }
    request = CreditRequest(
        id=str(uuid.uuid4()), account_id=op.account.id, kind=kind, status=PENDING, step=1,
        chain=chain, form=form, current_limit=current, proposed_limit=proposed,
        currency=op.row.currency, ends_on=ends_on, order_id=body.get("order_id"),
        reason=body["reason"], requested_by=op.actor, requested_at=op.now)
    op.session.add(request)
    op.session.flush()
    _ask(op.session, op.emit, op.account, request)
    return request


def _ask(session: Session, emit: events.Emit, account: Account, request: CreditRequest) -> None:
    events.emit(session, emit, events.APPROVAL_REQUESTED, account, request_id=request.id,
                kind=request.kind, step=request.step, approver_role=request.chain[request.step - 1],
                proposed_limit=request.proposed_limit, requested_by=request.requested_by)


def decide(session: Session, emit: events.Emit, request_id: str, account: Account,
           principal: Principal, *, decision: str, opinion: str, step: int | None,
           now: datetime) -> CreditRequest:
    """One approver's opinion on the current step; the last approval applies the request."""
    request = session.get(CreditRequest, request_id, with_for_update=True)
    if request is None or request.account_id != account.id:
        raise rules.ApprovalError(f"no request {request_id} on this account", 404)
    role = rules.may_decide(status=request.status, step=request.step, chain=list(request.chain),
                            requested_by=request.requested_by, principal=principal,
                            claimed_step=step)
    session.add(Decision(id=str(uuid.uuid4()), request_id=request.id, step=request.step, role=role,
                         decided_by=principal.sub, decision=decision, opinion=opinion, at=now))
    final = decision == REJECTED or request.step == len(request.chain)
    events.emit(session, emit, events.APPROVAL_DECIDED, account, request_id=request.id,
                kind=request.kind, step=request.step, decision=decision, decided_by=principal.sub,
                opinion=opinion, final=final)
    if decision == REJECTED:
        request.status, request.closed_at = REJECTED, now
    elif final:
        request.status, request.closed_at = APPROVED, now
        _apply(session, emit, account, request, now=now, actor=principal.sub)
    else:
        request.step += 1
        _ask(session, emit, account, request)
    session.flush()
    return request


def _apply(session: Session, emit: events.Emit, account: Account, request: CreditRequest, *,
           now: datetime, actor: str) -> None:
    if request.kind != LIMIT_CHANGE or request.proposed_limit is None:
        return  # an approved exception is consulted by the credit check of its order
    policy = credit_policy.current(session)
    row = credit_row(session, account.id, policy.default_currency)
    if request.ends_on is None:
        set_effective(session, emit, account, row, request.proposed_limit, cause="approval",
                      now=now, policy=policy, actor=actor)
        return
    amount = request.proposed_limit - (row.effective_limit or ZERO)
    if amount <= ZERO:
        return  # the limit in force already reached the proposal meanwhile
    session.add(TemporaryIncrease(id=str(uuid.uuid4()), account_id=account.id, request_id=request.id,
                                  amount=amount, ends_on=request.ends_on, status="active",
                                  created_at=now))
    old = limit_in_force(row)
    row.temporary_increase += amount
    events.emit(session, emit, events.LIMIT_CHANGED, account, old_limit=old,
                new_limit=limit_in_force(row), currency=row.currency, cause="temporary_increase")
    holds.reevaluate(session, emit, account, row, at=now, today=business_date(now),
                     months=policy.default_liability_months, actor=actor, cause="temporary increase")


def run_expiries(session_factory: sessionmaker[Session], bus: ServiceBus, now: datetime) -> int:
    """Revert temporary increases whose end date has passed (on the injected clock)."""
    today, done = business_date(now), 0
    while True:
        with session_factory() as session, session.begin():
            increase = session.scalar(select(TemporaryIncrease).where(
                TemporaryIncrease.status == "active", TemporaryIncrease.ends_on < today)
                .order_by(TemporaryIncrease.ends_on).limit(1).with_for_update(skip_locked=True))
            if increase is None:
                return done
            account = session.get(Account, increase.account_id)
            assert account is not None
            policy = credit_policy.current(session)
            row = credit_row(session, account.id, policy.default_currency)
            old = limit_in_force(row)
            row.temporary_increase -= increase.amount
            increase.status, increase.expired_at = "expired", now
            events.emit(session, bus.emit, events.TEMPORARY_INCREASE_EXPIRING, account,
                        increase_id=increase.id, ends_on=increase.ends_on, amount=increase.amount)
            events.emit(session, bus.emit, events.LIMIT_CHANGED, account, old_limit=old,
                        new_limit=limit_in_force(row), currency=row.currency,
                        cause="temporary_increase_expired")
            holds.reevaluate(session, bus.emit, account, row, at=now, today=today,
                             months=policy.default_liability_months, actor="scheduler",
                             cause="temporary increase ended")
            done += 1
