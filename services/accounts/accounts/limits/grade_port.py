"""The archive's grade and state as credit reads them (issue 8 owns grading and the archive)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from ..archive.service import archive_state
from ..grading.service import current_grade as _current_grade

APPROVED = "approved"


def current_grade(session: Session, account_id: str) -> tuple[str | None, Decimal]:
    """(grade | None, coefficient): an ungraded account has the archive's neutral coefficient."""
    grade, coefficient = _current_grade(session, account_id)
    return grade, Decimal(coefficient)


def archive_approved(session: Session, account_id: str) -> bool:
    return archive_state(session, account_id) == APPROVED
