"""The credit check: approve with a reservation or hold with every reason, once per order.

Serialization: the account's credit row is locked (``SELECT … FOR UPDATE``) before the
available amount is read, so concurrent checks on one account run one after another and the
sum of approved reservations never exceeds what was available (no over-commit).

The hot path (``lock``) reads in that one locking statement everything a check needs: the
account, its credit row, the order's earlier check, the stored policy's version (the policy
itself comes from a per-connection cache) and whether a charge is in default. A new check is
then one ``INSERT … ON CONFLICT DO NOTHING``, on PostgreSQL in the same statement as the credit
row's ``UPDATE`` when it is approved: with BEGIN and COMMIT, four round trips (nine before).
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import BindParameter, Date, Select, String, Table, bindparam, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, load_only
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import ReturningInsert, ReturningUpdate

from ..approvals.models import APPROVED, ORDER_EXCEPTION, CreditRequest
from ..credit import policy as credit_policy
from ..credit.models import MONEY, CreditAccount
from ..credit.money import ZERO, fmt
from ..credit.state import available, limit_in_force
from ..holds import rules as hold_rules
from ..holds.service import has_default
from ..ledger.models import Charge
from ..ledger.service import LedgerError, Op, check_currency
from ..limits.grade_port import archive_approved
from ..models import Account
from .models import EXPIRED, HELD, RELEASED, RESERVED, CreditCheck

_HOLD_CODES = {hold_rules.MANUAL: "manual_hold", hold_rules.OVERDUE_DEFAULT: "overdue_beyond_2_months",
               hold_rules.ACCOUNT_LOST: "account_lost", hold_rules.OVER_LIMIT: "over_limit_hold"}


@dataclass(frozen=True)
class Locked:
    """What the locking statement of a check read: the account with its credit row locked,
    the order's earlier check (None: none when the statement started), the stored policy's
    version (None: the defaults) and whether an open charge was due before ``overdue_before``."""

    account: Account
    row: CreditAccount
    existing: CreditCheck | None
    policy_version: int | None
    overdue_before: date
    overdue: bool


@functools.cache
def _lock_statement() -> Select[Account, CreditAccount, CreditCheck, int, bool]:
    """Built once (parameters bound at execution): the statement construction and its cache
    key cost more than the statement's own time on the server."""
    account_id, order_id = bindparam("account_id", type_=String), bindparam("order_id", type_=String)
    overdue = exists().where(Charge.account_id == account_id, Charge.settled_on.is_(None),
                             Charge.due_on < bindparam("overdue_before", type_=Date))
    return (select(Account, CreditAccount, CreditCheck, credit_policy.version_column(),
                   overdue.label("overdue"))
            .join(CreditAccount, CreditAccount.account_id == Account.id)
            .outerjoin(CreditCheck, CreditCheck.order_id == order_id)
            .where(Account.id == account_id)
            .options(load_only(*_ACCOUNT_FIELDS))
            .with_for_update(of=CreditAccount))


# What a check and its refusals read of the account (the archive card's other 50 columns stay
# unloaded; touching one would load it).
_ACCOUNT_FIELDS = (Account.id, Account.code, Account.name, Account.owner_id, Account.owner_team,
                   Account.status, Account.archive_state)


def lock(session: Session, account_id: str, order_id: str, overdue_before: date) -> Locked | None:
    """One statement: lock the account's credit row and read the rest of a check with it;
    None when the account or its credit row does not exist (the caller takes the slow path).

    Only the credit row is locked and its values are the latest (PostgreSQL re-reads a row it
    waited for); the other columns are as of the statement's start, which is what a check
    evaluated a moment earlier would have seen. An earlier check of the order that another
    transaction commits meanwhile is caught by the insert's ``ON CONFLICT``.
    """
    found = session.execute(_lock_statement(), {"account_id": account_id, "order_id": order_id,
                                                "overdue_before": overdue_before}).first()
    if found is None:
        return None
    account, row, existing, version, is_overdue = found
    return Locked(account=account, row=row, existing=existing, policy_version=version,
                  overdue_before=overdue_before, overdue=bool(is_overdue))


def reasons_for(op: Op, amount: Decimal, *, overdue: bool | None = None) -> list[dict[str, Any]]:
    """Every reason the order may not pass now (empty: approve). ``overdue``: whether a charge
    is in default, when the caller read it already (None: read it here)."""
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
    if all(r["code"] != "overdue_beyond_2_months" for r in out) and (
            overdue if overdue is not None else has_default(op.session, op.account.id, op.today, months)):
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


def _insert(session: Session, check: CreditCheck, reserve: CreditAccount | None) -> bool:
    """Insert a new check unless its order id is already taken (False), and add its amount to
    ``reserve``'s reservations when given: on PostgreSQL one statement for both, on SQLite an
    insert and the row's update at the flush. No ORM insert, so a concurrent check of the same
    order never aborts the transaction."""
    table = cast(Table, CreditCheck.__table__)
    values = {f"c_{c.key}": getattr(check, c.key) for c in table.columns}
    if reserve is not None and session.get_bind().dialect.name == "postgresql":
        reserved = session.execute(_insert_and_reserve_statement(), values).scalar()
        if reserved is None:
            return False
        set_committed_value(reserve, "reserved", reserved)  # written already: not dirty
        return True
    if session.execute(_insert_statement(session.get_bind().dialect.name), values).first() is None:
        return False
    if reserve is not None:
        reserve.reserved += check.amount
    return True


def _insert_values(table: Table) -> dict[str, BindParameter[Any]]:
    return {c.key: bindparam(f"c_{c.key}", type_=c.type) for c in table.columns}


@functools.cache
def _insert_statement(dialect: str) -> ReturningInsert[tuple[str]]:
    table = cast(Table, CreditCheck.__table__)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (insert(table).values(_insert_values(table))
            .on_conflict_do_nothing(index_elements=[table.c.order_id]).returning(table.c.id))


@functools.cache
def _insert_and_reserve_statement() -> ReturningUpdate[tuple[Decimal]]:
    """``WITH new AS (INSERT … ON CONFLICT DO NOTHING RETURNING id) UPDATE credit_accounts SET
    reserved = reserved + amount … WHERE EXISTS (SELECT FROM new) RETURNING reserved``: no row
    back when the order id was taken."""
    table = cast(Table, CreditCheck.__table__)
    credit = cast(Table, CreditAccount.__table__)
    new = (pg_insert(table).values(_insert_values(table))
           .on_conflict_do_nothing(index_elements=[table.c.order_id]).returning(table.c.id)
           .cte("new_check"))
    return (update(credit)
            .where(credit.c.account_id == bindparam("c_account_id"), select(new.c.id).exists())
            .values(reserved=credit.c.reserved + bindparam("c_amount", type_=MONEY))
            .returning(credit.c.reserved))


def check(op: Op, *, order_id: str, amount: Decimal, currency: str | None,
          locked: Locked | None = None) -> tuple[CreditCheck, bool]:
    """Check (or re-check) an order; returns the check and whether it was created now.

    An approved check is final for its order (repeating it returns it unchanged, no second
    reservation); a held one is evaluated again, so the order passes once its reasons are gone.
    ``locked``: what ``lock`` read (None: read the order's check and the default here).
    """
    currency = check_currency(op, currency)
    if locked is not None:
        existing = locked.existing
        overdue: bool | None = locked.overdue
    else:
        existing = op.session.scalar(select(CreditCheck).where(CreditCheck.order_id == order_id))
        overdue = None
    if existing is not None:
        if existing.account_id != op.account.id or existing.amount != amount:
            raise LedgerError(f"order {order_id} was already checked with other details", conflict=True)
        if existing.status != HELD:
            return existing, False
    reasons = reasons_for(op, amount, overdue=overdue)
    exception = _exception(op, order_id) if reasons else None
    passed = not reasons or exception is not None
    if exception is not None:
        reasons = [{"code": "order_exception", "request_id": exception.id,
                    "detail": "passed by an approved one-order exception"}, *reasons]
    created = existing is None
    if existing is None:
        existing = CreditCheck(id=str(uuid.uuid4()), order_id=order_id, account_id=op.account.id,
                               amount=amount, currency=currency, created_at=op.now,
                               created_by=op.actor, expires_at=None, closed_at=None)
    existing.available_before = available(op.row)
    existing.reasons = reasons
    if passed:
        existing.status = RESERVED
        existing.expires_at = op.now + timedelta(hours=op.policy.reservation_hours)
    else:
        existing.status = HELD
    if not created:
        if passed:
            op.row.reserved += amount
        return existing, False
    if not _insert(op.session, existing, op.row if passed else None):
        if locked is None:  # read just now, yet taken: another transaction holds it
            raise LedgerError(f"order {order_id} is being checked elsewhere", conflict=True)
        # The order's check was committed after our statement began: decide as a repeat.
        return check(op, order_id=order_id, amount=amount, currency=currency)
    return existing, True


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
