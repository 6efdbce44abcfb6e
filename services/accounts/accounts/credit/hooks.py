"""What the archive shows of credit (docs/accounts.md, "Hooks for the credit capability"): the
hold on the card and in the account snapshot, the credit columns of the grade summary table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, ScalarSelect, func, select
from sqlalchemy.orm import Session

from .models import CreditAccount
from .state import ON_HOLD


@dataclass(frozen=True)
class CreditColumns:
    monthly_sales: Decimal | None = None  # 月均销售额(元)
    performance_rate: Decimal | None = None  # 信用履约率 (0..1)
    credit_limit: Decimal | None = None  # 信用额度(元)


def credit_hold(session: Session, account_id: str) -> bool:
    """Whether the account's credit is on hold now."""
    return session.scalar(select(CreditAccount.hold_state).where(
        CreditAccount.account_id == account_id)) == ON_HOLD


# 信用额度 in force: the effective limit plus any temporary increase; NULL (none) while there is
# no effective limit. One expression for every reader, so the card and the table agree.
_CREDIT = CreditAccount.__table__.c  # table columns: plain Core rows, no ORM result layer
_LIMIT_IN_FORCE = _CREDIT.effective_limit + func.coalesce(_CREDIT.temporary_increase, 0)


def credit_limit_of(account_id: ColumnElement[str]) -> ScalarSelect[Decimal | None]:
    """The limit in force of ``account_id`` as a scalar subquery (NULL without a credit row or
    without an effective limit), so a read of the account gets it in the same statement."""
    return select(_LIMIT_IN_FORCE).where(_CREDIT.account_id == account_id).scalar_subquery()


def credit_columns(session: Session, account_ids: Sequence[str]) -> dict[str, CreditColumns]:
    """月均销售额, 信用履约率 (from the last computation's inputs) and the limit in force."""
    rows = session.execute(select(CreditAccount.account_id, CreditAccount.inputs, _LIMIT_IN_FORCE)
                           .where(CreditAccount.account_id.in_(list(account_ids))))
    out = {}
    for account_id, inputs, limit in rows:
        sales, rate = (inputs or {}).get("monthly_average_sales"), (inputs or {}).get("on_time_rate")
        out[account_id] = CreditColumns(
            monthly_sales=Decimal(sales) if sales is not None else None,
            performance_rate=Decimal(rate) if rate is not None else None,
            credit_limit=limit)
    return out
