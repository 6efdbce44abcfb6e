"""SQLAlchemy mapped classes of the accounts database, gathered so the metadata is complete
(the migrations' env and the composition root import ``Base`` from here)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from servicedb import UtcDateTime

from .db import INBOX, OUTBOX, Base, CodeCounter

_MONEY = Numeric(18, 2)


class Account(Base):
    """The customer archive card (《客户档案表》, seeds digest §2.4): header, profile, basic info,
    market, sales, purchasing power, competition, remarks and billing in one row, so one account
    reads with one primary-key lookup (contacts, violations and evaluations are child rows)."""

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

    # --- archive card (revision 0003) ---------------------------------------------------------
    # Case-folded name for prefix search (index ix_accounts_name_key).
    name_key: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(100))
    valid_until: Mapped[date | None] = mapped_column(Date)
    profile: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(300))
    website: Mapped[str | None] = mapped_column(String(300))
    customer_type: Mapped[str | None] = mapped_column(String(20))
    company_nature: Mapped[str | None] = mapped_column(String(100))
    legal_representative: Mapped[str | None] = mapped_column(String(100))
    industry: Mapped[str | None] = mapped_column(String(100))
    industry_situation: Mapped[str | None] = mapped_column(Text)
    bank_credit_rating: Mapped[str | None] = mapped_column(String(3))
    market_coverage: Mapped[str | None] = mapped_column(Text)
    products: Mapped[str | None] = mapped_column(Text)
    business_scope: Mapped[str | None] = mapped_column(Text)
    registered_capital: Mapped[Decimal | None] = mapped_column(_MONEY)
    market_positioning: Mapped[str | None] = mapped_column(Text)
    sales_channels: Mapped[str | None] = mapped_column(Text)
    purchasing: Mapped[str | None] = mapped_column(Text)
    annual_sales: Mapped[Decimal | None] = mapped_column(_MONEY)
    off_season_sales: Mapped[Decimal | None] = mapped_column(_MONEY)
    peak_sales: Mapped[Decimal | None] = mapped_column(_MONEY)
    purchasing_power: Mapped[Decimal | None] = mapped_column(_MONEY)
    off_season_purchasing_power: Mapped[Decimal | None] = mapped_column(_MONEY)
    peak_purchasing_power: Mapped[Decimal | None] = mapped_column(_MONEY)
    competitor_usage: Mapped[str | None] = mapped_column(Text)
    competitor_satisfaction: Mapped[str | None] = mapped_column(Text)
    competitor_rep: Mapped[str | None] = mapped_column(Text)
    competitor_rep_relation: Mapped[str | None] = mapped_column(Text)
    remarks: Mapped[str | None] = mapped_column(Text)
    bank_name: Mapped[str | None] = mapped_column(String(200))
    bank_account: Mapped[str | None] = mapped_column(String(64))
    tax_number: Mapped[str | None] = mapped_column(String(18))
    # = tax_number while the account is live (not lost, archive not rejected), else NULL: the
    # unique constraint on it makes the code unique among live accounts on both databases.
    live_tax_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    billing_phone: Mapped[str | None] = mapped_column(String(40))
    invoicing_requirements: Mapped[str | None] = mapped_column(Text)
    # Archive flow (§2.5): draft → pending_review → pending_approval → approved | rejected.
    archive_state: Mapped[str] = mapped_column(String(20), default="draft")
    archive_decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    archive_decided_by: Mapped[str | None] = mapped_column(String(100))
    review_due_on: Mapped[date | None] = mapped_column(Date)
    # Grading (§2.1): the current grade; history in grade_assessments.
    grade: Mapped[str | None] = mapped_column(String(1))
    grade_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    graded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Status (§1.3): active / inactive / lost.
    status_reason: Mapped[str | None] = mapped_column(String(500))
    status_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_purchase_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    points_balance: Mapped[int] = mapped_column(default=0)
    # Read-only view for the card (one joined query); writes go through archive.service.
    contacts: Mapped[list[AccountContact]] = relationship(
        "AccountContact", order_by="AccountContact.position", viewonly=True)

    __table_args__ = (
        # Keyset pages (newest first) for a rep, a team and everyone.
        Index("ix_accounts_owner_created", "owner_id", "created_at", "id"),
        Index("ix_accounts_team_created", "owner_team", "created_at", "id"),
        Index("ix_accounts_created", "created_at", "id"),
        Index("ix_accounts_company_key", "company_key", "status"),
        Index("ix_accounts_name_key", "name_key", postgresql_ops={"name_key": "varchar_pattern_ops"}),
        Index("ix_accounts_tax_number", "tax_number"),
        Index("ix_accounts_status", "status", "last_purchase_at"),
        Index("ix_accounts_archive_state", "archive_state"),
    )


class AccountAudit(Base):
    """One row per change to a customer record: who, when, why and what changed (append-only:
    the database refuses UPDATE and DELETE, see revision 0003)."""

    __tablename__ = "account_audit"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(500))
    # JSON {field: {"before": a, "after": b}} (rows before revision 0003: {"from", "to"}).
    changes: Mapped[str] = mapped_column(Text, default="{}")

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


# Capability tables, imported last so they register on ``Base.metadata``.
from .archive.models import (  # noqa: E402
    AccountContact,
    AccountEvaluation,
    AccountViolation,
    ChangeRequest,
    ExportLog,
)
from .grading.models import GradeAssessment  # noqa: E402
from .points.models import PointsEntry, ReferredLead  # noqa: E402
from .policy.models import AccountsPolicyChange, AccountsPolicyRow  # noqa: E402

__all__ = [
    "INBOX", "OUTBOX", "Account", "AccountAudit", "AccountContact", "AccountEvaluation",
    "AccountViolation", "AccountsPolicyChange", "AccountsPolicyRow", "Base", "ChangeRequest",
    "CodeCounter", "ExportLog", "GradeAssessment", "LeadLink", "PointsEntry", "ReferredLead",
]

# Credit's tables (issue 9) live in its capability packages; registered on this metadata here.
from .credit import all_models as _credit_models  # noqa: E402,F401
