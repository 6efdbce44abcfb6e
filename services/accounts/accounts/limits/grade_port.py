"""The archive's grade and state as credit reads them (issue 8 owns grading and the archive)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..archive.service import archive_state
from ..grading.service import current_grade as _current_grade
from ..models import Account
from ..policy.service import current_policy

APPROVED = "approved"


def current_grade(session: Session, account_id: str) -> tuple[str | None, Decimal]:
    """(grade | None, coefficient): an ungraded account has the archive's neutral coefficient."""
    grade, coefficient = _current_grade(session, account_id)
    return grade, Decimal(coefficient)


def archive_approved(session: Session, account_id: str) -> bool:
    return archive_state(session, account_id) == APPROVED


def grades_of(session: Session, account_ids: list[str] | None) -> dict[str, tuple[str | None, Decimal]]:
    """Many (``None``: all) accounts' grades and coefficients in one query, for the scheduled
    recomputation; the coefficients are the archive policy's, as ``current_grade`` reads them."""
    policy = current_policy(session)
    stmt = select(Account.id, Account.grade)
    if account_ids is not None:
        stmt = stmt.where(Account.id.in_(account_ids))
    coefficients: dict[str | None, Decimal] = {}
    out = {}
    for account_id, grade in session.execute(stmt):
        if grade not in coefficients:
            coefficients[grade] = Decimal(policy.coefficient(grade))
        out[account_id] = (grade, coefficients[grade])
    return out
