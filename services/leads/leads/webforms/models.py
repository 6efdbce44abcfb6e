"""Mapped classes of public web forms: the forms (with a hashed key) and their submissions.

Kept apart from ``models.py`` (shared ``Base``, one migration history: 0005).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from leads.db import Base
from servicedb import UtcDateTime


class WebForm(Base):
    """A public form on a web site that registers leads; callers prove it with ``X-Form-Key``.

    Only the key's SHA-256 is stored: a database leak must not let anyone post as the form. The
    key is shown once, on creation and on rotation.
    """

    __tablename__ = "web_forms"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64))
    key_prefix: Mapped[str] = mapped_column(String(12))  # to tell keys apart, never to check one
    owner_team: Mapped[str | None] = mapped_column(String(100))
    # Who gets the leads: the team's rotation is not wired to intake yet, so a named owner.
    owner_id: Mapped[str] = mapped_column(String(100))
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    key_rotated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_web_forms_team", "owner_team", "created_at"),)


class WebFormSubmission(Base):
    """One accepted-for-processing submission: what became of it, and the rate limit's count.

    Counting rows (under a lock on the form) keeps the per-form limit exact across any number of
    web processes, with no shared cache.
    """

    __tablename__ = "web_form_submissions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    form_id: Mapped[str] = mapped_column(ForeignKey("web_forms.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    outcome: Mapped[str] = mapped_column(String(20))  # created | duplicate | spam
    lead_id: Mapped[str | None] = mapped_column(String(36))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)  # the visitor's free text, if any

    __table_args__ = (Index("ix_web_form_submissions_form_at", "form_id", "at"),)
