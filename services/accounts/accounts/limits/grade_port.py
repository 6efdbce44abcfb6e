"""The archive's grade as credit reads it (issue 8 owns grading).

``accounts.grading.service.current_grade(session, account_id) -> (grade | None, coefficient)``
is the archive's function; until it exists in this branch, an ungraded account has the neutral
coefficient 1.00. Looked up at call time so credit never imports grading's internals.
"""

from __future__ import annotations

import importlib
from decimal import Decimal

from sqlalchemy.orm import Session

NEUTRAL = Decimal("1.00")


def current_grade(session: Session, account_id: str) -> tuple[str | None, Decimal]:
    try:
        grading = importlib.import_module("accounts.grading.service")
    except ImportError:
        return None, NEUTRAL
    grade, coefficient = grading.current_grade(session, account_id)
    return grade, Decimal(coefficient)
