"""The grade summary table (客户等级管理汇总表, §2.2) and its credit columns.

``credit_columns`` is the hook the credit capability replaces: until the credit ledger exists
it knows no average monthly sales, performance rate or credit limit and answers None for each.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..credit.hooks import CreditColumns, credit_columns
from ..models import Account
from ..policy.rules import AccountsPolicy

HEADERS = ("No", "客户名称", "业务员", "客户等级评分", "等级系数", "月均销售额(元)", "信用履约率",
           "客户等级", "信用额度(元)", "备注")
SIGN_OFF = ("编制:", "时间:", "复核:", "审核:", "审批:")


NO_CREDIT = CreditColumns()


def credit_limit(session: Session, account_id: str) -> Decimal | None:
    """The account's credit limit for the card header (hook: credit fills it in)."""
    return credit_columns(session, [account_id]).get(account_id, NO_CREDIT).credit_limit


def rows(session: Session, policy: AccountsPolicy, *, batch: int = 2000,
         owner_id: str | None = None, team: str | None = None,
         everything: bool = True) -> Iterator[tuple[object, ...]]:
    """The table's rows in code order, read in keyset batches (bounded memory)."""
    last = ""
    n = 0
    coefficients = {g: f"{policy.coefficient(g):.2f}" for g in (None, "A", "B", "C", "D", "E")}
    cols = (Account.id, Account.code, Account.name, Account.owner_id, Account.grade_score,
            Account.grade, Account.remarks)
    while True:
        stmt = select(*cols).where(Account.code > last)
        if not everything:
            stmt = stmt.where((Account.owner_id == owner_id) | (Account.owner_team == team))
        chunk = session.execute(stmt.order_by(Account.code).limit(batch)).all()
        if not chunk:
            return
        credit = credit_columns(session, [r.id for r in chunk])
        for r in chunk:
            n += 1
            c = credit.get(r.id, NO_CREDIT)
            yield (n, r.name, r.owner_id,
                   f"{r.grade_score:.2f}" if r.grade_score is not None else "",
                   coefficients.get(r.grade, ""),
                   f"{c.monthly_sales:.2f}" if c.monthly_sales is not None else "",
                   f"{c.performance_rate * 100:.1f}%" if c.performance_rate is not None else "",
                   r.grade or "",
                   f"{c.credit_limit:.2f}" if c.credit_limit is not None else "",
                   (r.remarks or "")[:200])
        last = chunk[-1].code
