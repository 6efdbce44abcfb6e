"""Intake use cases shared by single registration and bulk import: who owns the new lead,
whether it is a visit on an existing one, and what it resembles.

Runs inside the caller's transaction; every write and its event commit together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from authn import Principal
from eventbus import ServiceBus
from httpapi import Problem
from leads.db import CodeCounter
from leads.intake import dedupe
from leads.intake import rules as domain
from leads.intake.events import (
    LEAD_MERGED,
    LEAD_REGISTERED,
    LEAD_UNMERGED,
    VISIT_RECORDED,
    lead_payload,
    merge_payload,
    visit_payload,
)
from leads.intake.matching import EMAIL_EXACT, PHONE_EXACT, Match, Record, company_key
from leads.intake.models import AccountCompany, Lead, Merge, Visit
from leads.ownership import service as ownership
from leads.ownership.models import LeadContact
from leads.ownership.rules import ContactKind
from leads.ports import Deps
from servicedb import next_code

# Intake channels that are a contact with the customer (来人 face to face, 来电 by phone).
CONTACT_KINDS = {"walk_in": ContactKind.FACE_TO_FACE, "phone_call": ContactKind.PHONE}


@dataclass
class Outcome:
    lead: Lead
    created: bool
    visit: Visit | None
    dedupe: dedupe.DedupeResult


def resolve_owner(session: Session, principal: Principal, body: dict[str, Any]) -> tuple[str, str | None]:
    """The caller, a named owner (managers/admins), or for a referral the referrer's owner:
    a customer brought by an old one belongs to its original receiver (原始接待者)."""
    if body.get("source") == "referral":
        return referrer_owner(session, body["referrer_type"], body["referrer_id"])
    owner_id = body.get("owner_id") or principal.sub
    owner_team = body.get("owner_team") if body.get("owner_id") else principal.team
    if principal.is_manager and body.get("owner_id") and owner_team is None:
        owner_team = principal.team
    if not domain.can_assign_owner(principal, owner_id, owner_team):
        raise Problem(403, "Forbidden", "you may only register leads for yourself or your team")
    return owner_id, owner_team


def referrer_owner(session: Session, referrer_type: str, referrer_id: str) -> tuple[str, str | None]:
    if referrer_type == "lead":
        lead = session.get(Lead, referrer_id)
        while lead is not None and lead.merged_into is not None:  # follow tombstones
            lead = session.get(Lead, lead.merged_into)
        if lead is not None:
            return lead.owner_id, lead.owner_team
    else:
        account = session.get(AccountCompany, referrer_id)
        if account is not None and account.owner_id:
            return account.owner_id, account.owner_team
    raise Problem(422, "Unprocessable Content", "the referrer is not known",
                  errors={"json": {"referrer_id": [f"No {referrer_type} {referrer_id}."]}})


def visit_target(result: dedupe.DedupeResult) -> Lead | None:
    """The lead a walk-in or call comes from: same phone first, then same e-mail; the
    earliest registered if several share it."""
    for rule in (PHONE_EXACT, EMAIL_EXACT):
        leads = [result.leads[m.lead_id] for m in result.matches if m.rule == rule and m.kind == "lead"]
        if leads:
            return min(leads, key=lambda lead: (lead.created_at, lead.id))
    return None


def exact_duplicate(result: dedupe.DedupeResult) -> Lead | None:
    return visit_target(result)


def lock_identity(session: Session, phone: str | None, email: str | None) -> None:
    """Serialise registrations of one person: two identical walk-ins at the same instant must
    give one lead and one visit, not two leads. PostgreSQL: transaction-scoped advisory locks
    on the normalised phone and e-mail (sorted, so two keys never deadlock), held until commit,
    so the second registration's dedupe sees the first's lead. SQLite: every transaction already
    holds the database's write lock from its start (servicedb's BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({f"leads:phone:{phone}" if phone else "", f"leads:email:{email.casefold()}"
                   if email else ""} - {""})
    for key in keys:
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key})


def candidate(body: dict[str, Any]) -> Record:
    return Record(id="", name=body.get("name"), company=body.get("company"),
                  phone=body.get("phone"), email=body.get("email"))


def record_visit(ctx: Deps, session: Session, principal: Principal, lead: Lead,
                 channel: str, note: str | None) -> Visit:
    """A known customer came back through ``channel``: a visit on their lead (the owner is told
    by the visit event). A walk-in or call is also a contact with the customer, recorded as one
    so that the owner's own walk-in (face to face) or call (out of town) renews protection
    exactly as ``POST /contacts`` does; any other channel is only the customer's attempt."""
    now = ctx.clock()
    visit = Visit(id=str(uuid.uuid4()), lead_id=lead.id, channel=channel, at=now,
                  by=principal.sub, note=note)
    session.add(visit)
    kind = CONTACT_KINDS.get(channel)
    if kind is not None:
        session.add(LeadContact(id=str(uuid.uuid4()), lead_id=lead.id, at=now, kind=kind,
                                by=principal.sub, out_of_town=lead.out_of_town,
                                note=f"{channel} at intake, visit {visit.id}"))
    lead.updated_at = now
    ownership.touched(lead)
    session.flush()
    ctx.bus.emit(session, VISIT_RECORDED, visit_payload(visit, lead), subject=lead.id)
    return visit


def create_lead(ctx: Deps, session: Session, principal: Principal, body: dict[str, Any],
                owner: tuple[str, str | None]) -> Lead:
    now = ctx.clock()
    lead = Lead(
        id=str(uuid.uuid4()), code=next_code(session, CodeCounter, "L"),
        name=body["name"], company=body.get("company"), company_key=company_key(body.get("company")),
        phone=body.get("phone"), email=body.get("email"), source=body["source"],
        show_name=body.get("show_name"), show_ended_on=body.get("show_ended_on"),
        referrer_type=body.get("referrer_type"),
        referrer_id=body.get("referrer_id"), owner_id=owner[0], owner_team=owner[1],
        status=domain.OPEN, registered_by=principal.sub, created_at=now, updated_at=now, version=1,
    )
    session.add(lead)
    session.flush()
    ctx.bus.emit(session, LEAD_REGISTERED, lead_payload(lead), subject=lead.id)
    ownership.record_assignment(ctx, session, principal, lead)  # history line + assigned event
    return lead


def register(ctx: Deps, session: Session, principal: Principal, body: dict[str, Any]) -> Outcome:
    """A new lead, or — for someone already registered (same phone or e-mail), whatever the
    channel — a visit on their lead: the first registration holds (谁登记早是谁的客户), and
    only a conflict rule applied by a manager moves a customer."""
    owner = resolve_owner(session, principal, body)
    if body.get("owner_id"):
        ownership.require_known_owners(ctx, session, {"owner_id": [owner[0]]})
    lock_identity(session, body.get("phone"), body.get("email"))
    result = dedupe.check(session, candidate(body))
    existing = visit_target(result)
    if existing is not None:  # a returning customer: a visit, and no rotation turn taken
        visit = record_visit(ctx, session, principal, existing, body["source"], body.get("note"))
        return Outcome(existing, False, visit, result)
    if body.get("assign_by_rotation"):
        owner = rotation_owner(ctx, session, principal, body)
    return Outcome(create_lead(ctx, session, principal, body, owner), True, None, result)


def rotation_owner(ctx: Deps, session: Session, principal: Principal,
                   body: dict[str, Any]) -> tuple[str, str | None]:
    """The owner the caller's team rotation gives a new walk-in or call (轮流接待)."""
    if not principal.team:
        raise Problem(422, "Unprocessable Content", "the caller belongs to no team with a rotation",
                      errors={"json": {"assign_by_rotation": ["The caller has no team."]}})
    named = (body["named_rep"],) if body.get("named_rep") else ()
    try:
        assignment = ownership.take_rotation_turn(ctx, session, principal.team, principal.sub,
                                                  body["name"], named)
    except domain.RuleViolation as exc:
        raise Problem(409, "Conflict", str(exc)) from exc
    return assignment.rep, principal.team


def match_view(match: Match, result: dedupe.DedupeResult, principal: Principal) -> dict[str, Any]:
    """A match as the API shows it: which record, why, how sure — no contact details."""
    if match.kind == "lead":
        lead = result.leads[match.lead_id]
        return {"kind": "lead", "id": lead.id, "code": lead.code, "owner_id": lead.owner_id,
                "rule": match.rule, "score": match.score, "fields": list(match.fields),
                "visible": domain.can_view(principal, domain.LeadAccess(lead.owner_id, lead.owner_team))}
    account = result.accounts[match.lead_id]
    return {"kind": "account", "id": account.account_id, "code": None, "owner_id": account.owner_id,
            "rule": match.rule, "score": match.score, "fields": list(match.fields),
            "visible": False}


SNAPSHOT_FIELDS = ("status", "owner_id", "owner_team", "version", *domain.MERGE_FILLED)


def merge(session: Session, bus: ServiceBus, survivor: Lead, duplicate: Lead, reason: str,
          now: datetime, actor: str) -> Merge:
    """Merge the (locked) duplicate into the survivor: the survivor gains what it lacked and
    the duplicate's visits; the duplicate stays as a tombstone (``merged_into``) and the merge
    keeps a snapshot, so ``unmerge`` can restore both. RuleViolation if either is merged or
    the duplicate is no longer open."""
    domain.ensure_live(survivor.merged_into)
    domain.ensure_live(duplicate.merged_into)
    if duplicate.status != domain.OPEN:
        raise domain.RuleViolation(f"a {duplicate.status} lead cannot be merged away")
    fill = domain.merge_fill({f: getattr(survivor, f) for f in domain.MERGE_FILLED},
                             {f: getattr(duplicate, f) for f in domain.MERGE_FILLED})
    visit_ids = list(session.scalars(select(Visit.id).where(Visit.lead_id == duplicate.id)))
    row = Merge(id=str(uuid.uuid4()), survivor_id=survivor.id, merged_id=duplicate.id,
                reason=reason, at=now, by=actor, snapshot={
                    "survivor": {f: getattr(survivor, f) for f in SNAPSHOT_FIELDS},
                    "duplicate": {f: getattr(duplicate, f) for f in SNAPSHOT_FIELDS},
                    "filled": fill, "visit_ids": visit_ids})
    session.add(row)
    for field, value in fill.items():
        setattr(survivor, field, value)
    survivor.company_key = company_key(survivor.company)
    if visit_ids:
        session.execute(update(Visit).where(Visit.id.in_(visit_ids)).values(lead_id=survivor.id))
    duplicate.merged_into = survivor.id
    survivor.changed(now)
    duplicate.changed(now)
    session.flush()
    bus.emit(session, LEAD_MERGED, merge_payload(row, survivor, duplicate), subject=duplicate.id)
    return row


def unmerge(session: Session, bus: ServiceBus, survivor: Lead, duplicate: Lead, now: datetime,
            actor: str) -> Merge:
    """Undo the latest merge of the duplicate into the survivor from its snapshot. Fields filled
    by the merge are cleared only if nobody has changed them since. RuleViolation if the
    duplicate is not merged into the survivor."""
    row = session.scalars(
        select(Merge).where(Merge.survivor_id == survivor.id, Merge.merged_id == duplicate.id,
                            Merge.undone_at.is_(None))
        .order_by(Merge.at.desc()).limit(1)).first()
    if row is None or duplicate.merged_into != survivor.id:
        raise domain.RuleViolation(f"lead {duplicate.id} is not merged into {survivor.id}")
    snapshot = row.snapshot
    for field, value in snapshot["filled"].items():
        if getattr(survivor, field) == value:
            setattr(survivor, field, snapshot["survivor"][field])
    survivor.company_key = company_key(survivor.company)
    if snapshot["visit_ids"]:
        session.execute(update(Visit).where(Visit.id.in_(snapshot["visit_ids"]),
                                            Visit.lead_id == survivor.id)
                        .values(lead_id=duplicate.id))
    duplicate.merged_into = None
    survivor.changed(now)
    duplicate.changed(now)
    row.undone_at, row.undone_by = now, actor
    session.flush()
    bus.emit(session, LEAD_UNMERGED, merge_payload(row, survivor, duplicate), subject=duplicate.id)
    return row
