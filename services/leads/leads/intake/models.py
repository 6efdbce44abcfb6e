"""The lead record and what intake keeps beside it: visits, merges, the accounts read model."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Index, String, Text, false, func
from sqlalchemy.orm import Mapped, mapped_column

from servicedb import UtcDateTime

from ..db import Base


class Lead(Base):
    __tablename__ = "leads"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    source: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[str] = mapped_column(String(100))
    owner_team: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="open")
    account_id: Mapped[str | None] = mapped_column(String(36))
    registered_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    converted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    converted_by: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(default=1)
    # The company as dedupe matches it (matching.company_key); see ix_leads_company_key.
    company_key: Mapped[str | None] = mapped_column(String(200))
    show_name: Mapped[str | None] = mapped_column(String(200))
    referrer_type: Mapped[str | None] = mapped_column(String(10))  # lead | account
    referrer_id: Mapped[str | None] = mapped_column(String(36))
    # Tombstone: set when this lead was merged into another; a merge row keeps the undo data.
    merged_into: Mapped[str | None] = mapped_column(String(36))
    # Out-of-town customers keep protection with a phone visit (see leads.protection).
    out_of_town: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Pipeline (migration 0004, leads.models_pipeline): the current stage (an active stage of the
    # policy, or won / lost / terminated), checklist facts, A/B/C class with its follow-up plan.
    stage: Mapped[str] = mapped_column(String(40), default="identify", server_default="identify")
    stage_entered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    checklist: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    tracking_class: Mapped[str | None] = mapped_column(String(10))
    tracking_class_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    next_step: Mapped[str | None] = mapped_column(String(500))
    next_follow_up_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    lost_reason: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # When the cadence scheduler must look at the lead again; NULL = recompute on its next run
    # (set to NULL by anything that may bring a reminder forward: owner, class, contacts).
    cadence_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Migration 0006: the last day of the trade show (its 1- and 2-week cadences run from the
    # end of that local day), and the invoice accounts issued for the lead's deal (跟踪至开出发票
    # 为止: tracking, and so the cadence, stops there).
    show_ended_on: Mapped[date | None] = mapped_column(Date)
    invoiced_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    invoice_id: Mapped[str | None] = mapped_column(String(36))

    def changed(self, at: datetime | None = None) -> None:
        """The one home of "this lead changed": its version (what clients' If-Match and the
        events' ordering rely on) goes up, and ``updated_at`` moves when a time is given."""
        self.version += 1
        if at is not None:
            self.updated_at = at

    __table_args__ = (
        # Keyset pages (newest first) for a rep, a team and everyone.
        Index("ix_leads_owner_created", "owner_id", "created_at", "id"),
        Index("ix_leads_team_created", "owner_team", "created_at", "id"),
        Index("ix_leads_created", "created_at", "id"),
        # Dedupe's sorted-neighbourhood range scans; on PostgreSQL the migration adds a
        # pg_trgm GIN index (ix_leads_company_key_trgm) for the authorized-list search.
        Index("ix_leads_company_key", "company_key"),
    )


# E-mail dedupe compares case-insensitively (local parts are, in practice).
Index("ix_leads_email_lower", func.lower(Lead.email))


class Visit(Base):
    """A walk-in or call by someone who already is a lead: a touch on it, not a new lead."""

    __tablename__ = "visits"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    lead_id: Mapped[str] = mapped_column(String(36))
    channel: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    by: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_visits_lead_at", "lead_id", "at"),)


class Merge(Base):
    """One merge of a duplicate into a survivor, with what it changed, so it can be undone."""

    __tablename__ = "merges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    survivor_id: Mapped[str] = mapped_column(String(36))
    merged_id: Mapped[str] = mapped_column(String(36))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    by: Mapped[str] = mapped_column(String(100))
    snapshot: Mapped[dict] = mapped_column(JSON)
    undone_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    undone_by: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (Index("ix_merges_merged", "merged_id", "at"),
                      Index("ix_merges_survivor", "survivor_id", "at"))


class AccountCompany(Base):
    """Read model of accounts' companies (from accounts.account.opened.v1), so intake can tell
    a rep that a company is already a customer without asking accounts."""

    __tablename__ = "account_companies"

    account_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    company_key: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[str | None] = mapped_column(String(100))
    owner_team: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (Index("ix_account_companies_company_key", "company_key"),)
