"""Grading (§2.1): the review group scores the assessment form; the grade follows from the
policy's bands, with its coefficient; history is append-only.

For the credit capability (stable): ``current_grade(session, account_id)`` →
``(grade letter or None, coefficient)``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..archive import service as archive
from ..errors import Invalid, NotFound
from ..models import Account
from ..policy.service import current_policy
from ..records import Emit
from . import rules
from .events import ACCOUNT_GRADED, graded_payload
from .models import GradeAssessment


def current_grade(session: Session, account_id: str) -> tuple[str | None, Decimal]:
    """The account's grade and its coefficient from policy (ungraded: None and the policy's
    ungraded coefficient). NotFound if there is no such account."""
    grade = session.execute(select(Account.grade).where(Account.id == account_id)).first()
    if grade is None:
        raise NotFound(f"no account {account_id}")
    return grade[0], current_policy(session).coefficient(grade[0])


def grade_account(session: Session, emit: Emit, account: Account, points: Mapping[str, int],
                  *, actor: str, reason: str, at: datetime) -> GradeAssessment:
    """Score the form, set the grade (audited; ``accounts.account.graded.v1``), keep history,
    and move an archive under review on to the group GM."""
    policy = current_policy(session)
    try:
        score = rules.score(policy, points)
    except rules.GradingError as exc:
        raise Invalid({f"scores.{k}": v for k, v in exc.errors.items()}) from exc
    grade = rules.grade_for(policy, score)
    coefficient = policy.coefficient(grade)
    old_grade, old_score = account.grade, account.grade_score
    row = GradeAssessment(id=str(uuid.uuid4()), account_id=account.id, at=at, actor=actor,
                          scores=json.dumps(dict(points)), score=score, old_grade=old_grade,
                          grade=grade, coefficient=coefficient, reason=reason)
    session.add(row)
    account.grade, account.grade_score, account.graded_at = grade, score, at
    old_state = account.archive_state
    archive.mark_graded(session, account, at=at)
    account.version += 1
    account.updated_at = at
    changed = archive.rules.field_changes(
        {"grade": old_grade, "grade_score": archive.plain(old_score), "archive_state": old_state},
        {"grade": grade, "grade_score": archive.plain(score), "archive_state": account.archive_state})
    session.flush()
    archive.write_audit(session, account, at=at, actor=actor, action="graded", reason=reason,
                        changed=changed)
    emit(session, ACCOUNT_GRADED, {**graded_payload(account, old_grade, coefficient),
                                   "account": archive.snapshot(session, account)}, account.id)
    return row


def history(session: Session, account_id: str) -> list[GradeAssessment]:
    return list(session.scalars(select(GradeAssessment).where(
        GradeAssessment.account_id == account_id).order_by(GradeAssessment.at.desc(),
                                                            GradeAssessment.id.desc())))
