"""The support database's declarative base, event tables, code counters and once-only notices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from eventbus.store import define_tables
from servicedb import CodeCounterMixin, UtcDateTime, dialect_insert, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


OUTBOX, INBOX = define_tables(Base.metadata)


class CodeCounter(CodeCounterMixin, Base):
    __tablename__ = "code_counters"


class NoticeSent(Base):
    """One row per reminder or timer notice ever emitted: the unique key is what makes each one
    go out once, however many worker replicas run the schedulers at the same time."""

    __tablename__ = "notices_sent"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[str] = mapped_column(String(36))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime())


def claim_notice(session: Session, key: str, kind: str, subject_id: str, now: datetime) -> bool:
    """Insert the notice's row; False when it was sent before (by this or another replica)."""
    stmt = (
        dialect_insert(session, NoticeSent)
        .values(
            key=key,
            kind=kind,
            subject_id=subject_id,
            sent_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(NoticeSent.key)
    )
    return session.execute(stmt).first() is not None
