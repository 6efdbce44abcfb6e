"""Referral points (§2.8): an append-only ledger per account with a running balance.

For the credit capability: ``award_purchase_points(session, emit, referred_lead_id, amount,
source_key=…)`` credits the referrer when a referred customer buys on site; the ledger calls
``award_purchase_by_lead_code`` for every charge that names its originating lead.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Invalid
from ..models import Account
from ..policy.service import current_policy
from ..records import Emit
from .events import POINTS_AWARDED, awarded_payload
from .models import PointsEntry, ReferredLead


def award(session: Session, emit: Emit, account: Account, points: int, *, reason: str,
          source_key: str, at: datetime, actor: str,
          referred_lead_code: str | None = None) -> PointsEntry | None:
    """Credit ``points`` once per (account, source_key); None if that source was credited."""
    if points == 0:
        return None
    seen = session.scalar(select(PointsEntry.id).where(PointsEntry.account_id == account.id,
                                                      PointsEntry.source_key == source_key))
    if seen is not None:
        return None
    if account.points_balance + points < 0:
        raise Invalid({"points": "The balance cannot go below zero."})
    account.points_balance += points
    entry = PointsEntry(id=str(uuid.uuid4()), account_id=account.id, at=at, points=points,
                        balance=account.points_balance, reason=reason, source_key=source_key,
                        referred_lead_code=referred_lead_code, actor=actor)
    session.add(entry)
    session.flush()
    emit(session, POINTS_AWARDED, awarded_payload(account, entry), account.id)
    return entry


def note_referral(session: Session, *, lead_id: str, lead_code: str, account_id: str,
                  at: datetime) -> None:
    """A lead was registered with this account as referrer (idempotent)."""
    if session.get(ReferredLead, lead_id) is None and session.get(Account, account_id) is not None:
        session.add(ReferredLead(lead_id=lead_id, account_id=account_id, lead_code=lead_code,
                                 registered_at=at))


def referral_attended(session: Session, emit: Emit, *, lead_id: str, at: datetime) -> None:
    """The referred customer came to a meeting: the referrer earns the policy's points, once."""
    ref = session.get(ReferredLead, lead_id, with_for_update=True)
    if ref is None:
        return
    if ref.attended_at is None:
        ref.attended_at = at
    account = session.get(Account, ref.account_id, with_for_update=True)
    if account is None:
        return
    award(session, emit, account, current_policy(session).referral_points,
          reason=f"referred customer {ref.lead_code} attended", source_key=f"referral:{lead_id}",
          at=at, actor="system", referred_lead_code=ref.lead_code)


def award_purchase_points(session: Session, emit: Emit, referred_lead_id: str, amount: Decimal, *,
                          source_key: str, at: datetime) -> PointsEntry | None:
    """Hook for the credit ledger: the referrer earns ``purchase_points`` per
    ``purchase_points_per`` yuan the referred customer buys on site (whole units only)."""
    ref = session.get(ReferredLead, referred_lead_id)
    if ref is None:
        return None
    account = session.get(Account, ref.account_id, with_for_update=True)
    if account is None:
        return None
    policy = current_policy(session)
    units = (amount / Decimal(policy.purchase_points_per)).to_integral_value(rounding=ROUND_FLOOR)
    return award(session, emit, account, int(units) * policy.purchase_points,
                 reason=f"referred customer {ref.lead_code} bought {amount:.2f} yuan",
                 source_key=f"purchase:{source_key}", at=at, actor="system",
                 referred_lead_code=ref.lead_code)


def award_purchase_by_lead_code(session: Session, emit: Emit, lead_code: str, amount: Decimal, *,
                                source_key: str, at: datetime) -> PointsEntry | None:
    """``award_purchase_points`` for a charge that names its originating lead by code (the
    ledger's ``lead_code``); None when no account referred that lead."""
    lead_id = session.scalar(select(ReferredLead.lead_id).where(ReferredLead.lead_code == lead_code)
                             .order_by(ReferredLead.registered_at).limit(1))
    if lead_id is None:
        return None
    return award_purchase_points(session, emit, lead_id, amount, source_key=source_key, at=at)


def ledger(session: Session, account_id: str, limit: int = 200) -> list[PointsEntry]:
    return list(session.scalars(select(PointsEntry).where(PointsEntry.account_id == account_id)
                                .order_by(PointsEntry.at.desc(), PointsEntry.id.desc()).limit(limit)))
