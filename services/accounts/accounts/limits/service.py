"""Computing the standard limit from the ledger, setting the effective one, and the credit view."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from ..credit import events
from ..credit import policy as credit_policy
from ..credit.models import CreditAccount
from ..credit.money import ZERO, fmt, q
from ..credit.policy import CreditPolicy
from ..credit.state import available, business_date, credit_row, exposure, limit_in_force
from ..holds import service as holds
from ..ledger.models import Allocation, Charge
from ..models import Account
from . import rules
from .grade_port import current_grade, grades_of


def _sales(session: Session, ids: Iterable[str] | None, start: date, end: date) -> dict[str, Decimal]:
    stmt = (select(Charge.account_id, func.sum(Charge.amount - Charge.credited))
            .where(Charge.issued_on >= start, Charge.issued_on < end).group_by(Charge.account_id))
    if ids is not None:
        stmt = stmt.where(Charge.account_id.in_(list(ids)))
    return {a: Decimal(v) for a, v in session.execute(stmt)}


def _due(session: Session, ids: Iterable[str] | None, start: date, end: date) -> dict[str, Decimal]:
    stmt = (select(Charge.account_id, func.sum(Charge.amount - Charge.credited))
            .where(Charge.due_on >= start, Charge.due_on < end).group_by(Charge.account_id))
    if ids is not None:
        stmt = stmt.where(Charge.account_id.in_(list(ids)))
    return {a: Decimal(v) for a, v in session.execute(stmt)}


def _paid_on_time(session: Session, ids: Iterable[str] | None, start: date,
                  end: date) -> dict[str, Decimal]:
    stmt = (select(Charge.account_id, func.sum(Allocation.amount))
            .join(Allocation, and_(Allocation.charge_id == Charge.id,
                                   Allocation.on_date <= Charge.due_on))
            .where(Charge.due_on >= start, Charge.due_on < end).group_by(Charge.account_id))
    if ids is not None:
        stmt = stmt.where(Charge.account_id.in_(list(ids)))
    return {a: Decimal(v) for a, v in session.execute(stmt)}


def compute(session: Session, account_ids: list[str] | None, today: date,
            policy: CreditPolicy) -> dict[str, rules.LimitInputs]:
    """The formula's inputs for each account (every account when ``account_ids`` is None):
    three grouped scans and one grade query, whatever the number of accounts."""
    s_start, s_end = rules.sales_window(today, policy.sales_window_months)
    p_start, p_end = rules.previous_period(today, policy.performance_period_months)
    sales = _sales(session, account_ids, s_start, s_end)
    due = _due(session, account_ids, p_start, p_end)
    paid = _paid_on_time(session, account_ids, p_start, p_end)
    if account_ids is None:
        graded = grades_of(session, None)
    elif len(account_ids) > 1:
        graded = grades_of(session, account_ids)
    else:
        graded = {i: current_grade(session, i) for i in account_ids}
    no_history = Decimal(policy.no_history_rate)
    out = {}
    for account_id, (grade, coefficient) in graded.items():
        d, p = due.get(account_id, ZERO), paid.get(account_id, ZERO)
        out[account_id] = rules.LimitInputs(
            sales_total=sales.get(account_id, ZERO), window_months=policy.sales_window_months,
            due_last_period=d, paid_on_time=p, rate=rules.on_time_rate(d, p, no_history),
            grade=grade, coefficient=coefficient)
    return out


def inputs_view(inputs: rules.LimitInputs, today: date, policy: CreditPolicy) -> dict[str, Any]:
    s_start, s_end = rules.sales_window(today, policy.sales_window_months)
    p_start, p_end = rules.previous_period(today, policy.performance_period_months)
    return {
        "formula": "monthly_average_sales * on_time_rate * grade_coefficient",
        "sales_window": {"from": s_start.isoformat(), "until": s_end.isoformat(),
                         "months": policy.sales_window_months},
        "sales_total": fmt(inputs.sales_total), "monthly_average_sales": fmt(inputs.monthly_average),
        "performance_period": {"from": p_start.isoformat(), "until": p_end.isoformat()},
        "due_last_period": fmt(inputs.due_last_period), "paid_on_time": fmt(inputs.paid_on_time),
        "on_time_rate": str(inputs.rate), "grade": inputs.grade,
        "grade_coefficient": str(inputs.coefficient), "standard_limit": fmt(inputs.standard_limit),
    }


def recompute(session: Session, row: CreditAccount, now: datetime, policy: CreditPolicy) -> None:
    """Refresh the standard limit and its inputs on a (locked) credit row."""
    today = business_date(now)
    inputs = compute(session, [row.account_id], today, policy)[row.account_id]
    row.standard_limit = inputs.standard_limit
    row.inputs = inputs_view(inputs, today, policy)
    row.computed_at = now


def recompute_all(session_factory: sessionmaker[Session], now: datetime, *, batch: int = 5000) -> int:
    """The standard limit of every account, on schedule: the inputs of all accounts from three
    grouped scans over the ledger and one grade query, then a bulk UPDATE per batch."""
    today = business_date(now)
    with session_factory() as session:
        policy = credit_policy.current(session)
        computed = compute(session, None, today, policy)
    ids = sorted(computed)
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        with session_factory() as session, session.begin():
            have = set(session.scalars(select(CreditAccount.account_id)
                                       .where(CreditAccount.account_id.in_(chunk))))
            for account_id in chunk:
                if account_id not in have:
                    credit_row(session, account_id, policy.default_currency, lock=False)
            session.execute(update(CreditAccount), [
                {"account_id": account_id, "standard_limit": computed[account_id].standard_limit,
                 "inputs": inputs_view(computed[account_id], today, policy), "computed_at": now}
                for account_id in chunk])
    return len(ids)


def set_effective(session: Session, emit: events.Emit, account: Account, row: CreditAccount,
                  new_limit: Decimal | None, *, cause: str, now: datetime,
                  policy: CreditPolicy, actor: str) -> None:
    """Change the limit in force and announce it (old/new include temporary increases)."""
    old = limit_in_force(row) if row.effective_limit is not None else None
    row.effective_limit = new_limit
    row.version += 1
    new = limit_in_force(row) if new_limit is not None else None
    events.emit(session, emit, events.LIMIT_CHANGED, account, old_limit=old, new_limit=new,
                currency=row.currency, cause=cause)
    holds.reevaluate(session, emit, account, row, at=now, today=business_date(now),
                     months=policy.default_liability_months, actor=actor, cause=f"limit {cause}")


def on_archive_approved(session: Session, emit: events.Emit, account: Account, *, now: datetime,
                        actor: str) -> CreditAccount:
    """The archive was approved: the standard limit becomes the first effective limit (once;
    later approvals of a changed archive keep the limit in force)."""
    policy = credit_policy.current(session)
    row = credit_row(session, account.id, policy.default_currency)
    first = row.archive_approved_at is None
    row.archive_approved_at = row.archive_approved_at or now
    recompute(session, row, now, policy)
    if first and row.effective_limit is None:
        set_effective(session, emit, account, row, row.standard_limit, cause="archive_approval",
                      now=now, policy=policy, actor=actor)
    return row


def overdue(session: Session, account_id: str, today: date) -> tuple[Decimal, int, date | None]:
    """Overdue balance, number of overdue charges and the oldest due date among them."""
    amount, count, oldest = session.execute(
        select(func.sum(Charge.amount - Charge.paid - Charge.credited), func.count(), func.min(Charge.due_on))
        .where(Charge.account_id == account_id, Charge.settled_on.is_(None), Charge.due_on < today)).one()
    return (q(amount) if amount is not None else ZERO), int(count), oldest


def view(session: Session, account: Account, now: datetime) -> dict[str, Any]:
    """GET …/credit: limits side by side, the formula's inputs, exposure, available, hold, overdue."""
    policy = credit_policy.current(session)
    row = credit_row(session, account.id, policy.default_currency, lock=False)
    today = business_date(now)
    inputs = compute(session, [account.id], today, policy)[account.id]
    amount, count, oldest = overdue(session, account.id, today)
    cash_only = row.effective_limit is None or limit_in_force(row) == ZERO
    return {
        "account_id": account.id, "currency": row.currency,
        "standard_limit": inputs.standard_limit, "effective_limit": row.effective_limit,
        "temporary_increase": row.temporary_increase, "limit_in_force": limit_in_force(row),
        "cash_before_delivery": cash_only,
        "archive_approved": row.archive_approved_at is not None,
        "inputs": inputs_view(inputs, today, policy), "computed_at": row.computed_at,
        "outstanding": row.outstanding, "reserved": row.reserved, "unapplied": row.unapplied,
        "exposure": exposure(row), "available": available(row),
        "hold": {"state": row.hold_state, "reasons": list(row.hold_reasons or [])},
        "overdue": {"amount": amount, "charges": count,
                    "oldest_due_on": oldest.isoformat() if oldest else None,
                    "default_liability": oldest is not None and rules.overdue_beyond(
                        oldest, today, policy.default_liability_months)},
    }
