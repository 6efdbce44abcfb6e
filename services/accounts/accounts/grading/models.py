"""Grade history: one append-only row per assessment (客户等级评估表单)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from servicedb import UtcDateTime

from ..db import Base


class GradeAssessment(Base):
    __tablename__ = "grade_assessments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    scores: Mapped[str] = mapped_column(Text)  # JSON {criterion: points}
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    old_grade: Mapped[str | None] = mapped_column(String(1))
    grade: Mapped[str] = mapped_column(String(1))
    coefficient: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    reason: Mapped[str] = mapped_column(String(500))

    __table_args__ = (Index("ix_grade_assessments_account_at", "account_id", "at", "id"),)
