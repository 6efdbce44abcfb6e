"""SQLAlchemy mapped classes of the accounts database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from eventbus.store import define_tables
from servicedb import CodeCounterMixin, UtcDateTime, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


OUTBOX, INBOX = define_tables(Base.metadata)


class CodeCounter(CodeCounterMixin, Base):
    __tablename__ = "code_counters"


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    owner_id: Mapped[str] = mapped_column(String(100))
    owner_team: Mapped[str | None] = mapped_column(String(100))
    # Unique: the one account a lead became, whatever number of conversion events arrive.
    source_lead_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    # The company as matched (companies.company_key): a conversion links to the active account
    # that already is this company instead of opening a twin; see ix_accounts_company_key.
    company_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        # Keyset pages (newest first) for a rep, a team and everyone.
        Index("ix_accounts_owner_created", "owner_id", "created_at", "id"),
        Index("ix_accounts_team_created", "owner_team", "created_at", "id"),
        Index("ix_accounts_created", "created_at", "id"),
        Index("ix_accounts_company_key", "company_key", "status"),
    )


class AccountAudit(Base):
    """One row per change to a customer record: who, when, why and what changed."""

    __tablename__ = "account_audit"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(500))
    changes: Mapped[str] = mapped_column(Text, default="{}")  # JSON: {field: {"from": a, "to": b}}

    __table_args__ = (Index("ix_account_audit_account_at", "account_id", "at", "id"),)


class LeadLink(Base):
    """A converted lead that was linked to an account that already existed (no twin opened).

    Keyed by lead: one link per lead, whatever number of conversion events arrive.
    """

    __tablename__ = "lead_links"

    lead_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    lead_code: Mapped[str] = mapped_column(String(20))
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime())
    linked_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (Index("ix_lead_links_account", "account_id"),)


# Credit's tables (issue 9) live in its capability packages; registered on this metadata here.
from .credit import all_models as _credit_models  # noqa: E402,F401
