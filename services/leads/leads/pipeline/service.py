"""Pipeline and follow-up operations on the database: the glue between the API/scheduler and the
pure rules in ``pipeline``, ``cadence`` and ``protection`` (no Flask here, the clock is a parameter).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from eventbus import ServiceBus
from leads.intake import rules as domain
from leads.intake.events import LEAD_CONVERTED, converted_payload
from leads.intake.models import Lead
from leads.ownership import service as ownership
from leads.ownership.models import LeadContact
from leads.ownership.rules import Contact, ContactKind
from leads.pipeline import rules as pipeline
from leads.pipeline.cadence import TRADE_SHOW, CadenceFacts
from leads.pipeline.events import (
    FOLLOWUP_LOGGED,
    LEAD_LOST,
    LEAD_STAGE_CHANGED,
    followup_payload,
    lost_payload,
    stage_changed_payload,
)
from leads.pipeline.models import LeadFollowUp, LeadStageHistory
from leads.policy import service as policies
from leads.policy.rules import LeadPolicy
from servicedb import writes

STATUS_LOST, STATUS_TERMINATED = "lost", "terminated"
CHANNEL_CONTACT_KINDS: dict[str, ContactKind] = {
    "visit": ContactKind.FACE_TO_FACE,
    "phone": ContactKind.PHONE,
    "sms": ContactKind.SMS,
    "email": ContactKind.EMAIL,
    "message": ContactKind.MESSAGE,
    "other": ContactKind.OTHER,
}


def lead_policy(session: Session) -> LeadPolicy:
    """The organization's lead policy (stored by the ownership module, defaults until changed)."""
    return policies.current_policy(session)


class ChecklistMissing(domain.RuleViolation):
    """A stage move refused because exit checklist items do not hold (409 with ``missing``)."""

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = list(missing)
        super().__init__("exit checklist incomplete: " + ", ".join(self.missing))


def _ensure_active(lead: Lead) -> None:
    domain.ensure_live(lead.merged_into)
    if lead.status != domain.OPEN:
        raise domain.RuleViolation(f"a {lead.status} lead has no active stage")


def active_stage(lead: Lead, policy: LeadPolicy) -> str:
    """The open lead's stage as the policy knows it: a stage the admin has since removed (or the
    column default when the policy's first stage is not ``identify``) counts as the first stage."""
    return lead.stage if lead.stage in policy.stage_keys else policy.stage_keys[0]


def _history(session: Session, lead_id: str) -> list[LeadStageHistory]:
    stmt = (select(LeadStageHistory).where(LeadStageHistory.lead_id == lead_id)
            .order_by(LeadStageHistory.entered_at, LeadStageHistory.id))
    return list(session.scalars(stmt))


def _enter_stage(session: Session, lead: Lead, stage: str, now: datetime, actor: str,
                 reason: str | None = None) -> str:
    """Close the current history row (creating it for a lead that never moved) and open ``stage``.

    Prebuilt statements (``servicedb.writes``), not the ORM: every stage move, closing and
    conversion comes through here, and only the latest row matters.
    """
    from_stage = lead.stage
    last = writes.execute(session, _LAST_STAY, {"lead_id": lead.id})
    if not last:
        # Leads start in the first stage without a row; write that first stay when it ends.
        writes.execute(session, _INSERT_STAY, {
            "lead_id": lead.id, "stage": from_stage, "entered_at": lead.stage_entered_at or lead.created_at,
            "left_at": now, "actor": lead.registered_by, "reason": None})
    elif last[0][1] is None:
        writes.execute(session, _CLOSE_STAY, {"stay_id": last[0][0], "closed_at": now})
    writes.execute(session, _INSERT_STAY, {"lead_id": lead.id, "stage": stage, "entered_at": now,
                                           "left_at": None, "actor": actor, "reason": reason})
    lead.stage, lead.stage_entered_at = stage, now
    lead.cadence_due_at = None
    return from_stage


_STAYS = cast(Table, LeadStageHistory.__table__)
_LAST_STAY = (select(_STAYS.c.id, _STAYS.c.left_at).where(_STAYS.c.lead_id == bindparam("lead_id"))
              .order_by(_STAYS.c.entered_at.desc(), _STAYS.c.id.desc()).limit(1))
_CLOSE_STAY = (update(_STAYS).where(_STAYS.c.id == bindparam("stay_id"))
               .values(left_at=bindparam("closed_at")))
_INSERT_STAY = insert(_STAYS)


def _touch(lead: Lead, now: datetime) -> None:
    lead.changed(now)


def _stage_changed(session: Session, bus: ServiceBus, lead: Lead, from_stage: str, now: datetime,
                   actor: str) -> None:
    bus.emit(session, LEAD_STAGE_CHANGED, stage_changed_payload(lead, from_stage, now, actor),
             subject=lead.id)


def checklist_items(policy: LeadPolicy) -> set[str]:
    return {item for spec in policy.stages for item in spec.exit_checklist}


def move_stage(session: Session, bus: ServiceBus, lead: Lead, to_stage: str, facts: Mapping[str, bool],
               now: datetime, actor: str, policy: LeadPolicy) -> bool:
    """Record ``facts`` and move to ``to_stage`` if the exit checklists hold; False if already there.

    Raises ChecklistMissing (nothing is saved then) or RuleViolation for a closed or merged lead.
    """
    _ensure_active(lead)
    checklist = {**(lead.checklist or {}), **facts}
    missing = pipeline.can_advance(checklist, active_stage(lead, policy), to_stage, policy)
    if missing:
        raise ChecklistMissing(missing)
    lead.checklist = checklist
    if to_stage == lead.stage:
        _touch(lead, now)
        return False
    from_stage = _enter_stage(session, lead, to_stage, now, actor)
    _touch(lead, now)
    _stage_changed(session, bus, lead, from_stage, now, actor)
    return True


def close_lead(session: Session, bus: ServiceBus, lead: Lead, outcome: str, reason: str, note: str | None,
               now: datetime, actor: str, policy: LeadPolicy) -> None:
    """Lose or terminate an open lead (reason from the policy's lists; RuleViolation otherwise)."""
    _ensure_active(lead)
    result = pipeline.close(active_stage(lead, policy), outcome, reason, policy)
    lead.status = STATUS_LOST if result.stage == pipeline.LOST else STATUS_TERMINATED
    lead.lost_reason = result.reason
    lead.closed_at = now
    from_stage = _enter_stage(session, lead, result.stage, now, actor, result.reason)
    _touch(lead, now)
    _stage_changed(session, bus, lead, from_stage, now, actor)
    if result.stage == pipeline.LOST:
        bus.emit(session, LEAD_LOST, lost_payload(lead, from_stage, now, actor, note), subject=lead.id)


def reopen_lead(session: Session, bus: ServiceBus, lead: Lead, now: datetime, actor: str,
                policy: LeadPolicy) -> None:
    """A lost lead goes back to the first stage (terminated and won leads stay closed)."""
    domain.ensure_live(lead.merged_into)
    first = pipeline.reopen(lead.stage if lead.status == STATUS_LOST else lead.status, policy)
    lead.status, lead.lost_reason, lead.closed_at = domain.OPEN, None, None
    from_stage = _enter_stage(session, lead, first, now, actor)
    _touch(lead, now)
    _stage_changed(session, bus, lead, from_stage, now, actor)


def convert(session: Session, bus: ServiceBus, lead: Lead, now: datetime, actor: str) -> bool:
    """Convert the (locked) lead into a customer: converted, the won outcome, and the event
    accounts opens the account from (with the recorded credit split). False when it already
    was converted — a second convert is a no-op; RuleViolation for a merged or closed lead."""
    domain.ensure_live(lead.merged_into)
    if not domain.conversion_needed(lead.status):
        return False
    # The reads below (split, stage history) see nothing this changes: without autoflush the
    # lead is updated once, at commit, instead of before each read.
    with session.no_autoflush:
        lead.status = domain.CONVERTED
        lead.converted_at, lead.converted_by = now, actor
        lead.changed(now)
        split = ownership.latest_split(session, lead.id)["shares"]
        bus.emit(session, LEAD_CONVERTED, converted_payload(lead, split), subject=lead.id)
        mark_won(session, bus, lead, now, actor)
    return True


def mark_won(session: Session, bus: ServiceBus, lead: Lead, now: datetime, actor: str) -> None:
    """Conversion is the "won" outcome: close the stage history and say so (the convert view has
    already bumped the version)."""
    lead.closed_at = now
    from_stage = _enter_stage(session, lead, pipeline.WON, now, actor)
    _stage_changed(session, bus, lead, from_stage, now, actor)


def set_tracking(lead: Lead, tracking_class: str, next_step: str | None, next_date: datetime | None,
                 now: datetime, policy: LeadPolicy) -> list[str]:
    """Set the A/B/C class and plan; returns the rule's problems (nothing saved then).

    A missing plan item may come from the lead's current plan (re-classing a lead that has one).
    """
    step = next_step if next_step is not None else lead.next_step
    when = next_date if next_date is not None else lead.next_follow_up_at
    plan = pipeline.FollowUpPlan(step or "", when.astimezone(policy.tz).date()) if when else None
    if plan is None and step:
        plan = pipeline.FollowUpPlan(step, None)  # type: ignore[arg-type]  # reports next_date
    problems = pipeline.tracking_class_problems(tracking_class, plan, policy,
                                                today=now.astimezone(policy.tz).date())
    if problems:
        return problems
    if tracking_class != lead.tracking_class:
        lead.tracking_class, lead.tracking_class_since = tracking_class, now
    lead.next_step, lead.next_follow_up_at = step, when
    lead.changed(now)
    lead.cadence_due_at = None
    return []


def log_follow_up(session: Session, bus: ServiceBus, lead: Lead, body: Mapping[str, Any], now: datetime,
                  actor: str) -> LeadFollowUp:
    """Record a follow-up at server time; its next step/date become the lead's plan."""
    domain.ensure_live(lead.merged_into)
    row = LeadFollowUp(id=str(uuid.uuid4()), lead_id=lead.id, at=now, by=actor, channel=body["channel"],
                       summary=body["summary"], outcome=body.get("outcome"),
                       next_step=body.get("next_step"), next_date=body.get("next_date"))
    session.add(row)
    # The follow-up is also the contact the protection and cadence rules read (one source, so
    # the ownership module's protection view and the cadence scheduler agree).
    session.add(LeadContact(id=str(uuid.uuid4()), lead_id=lead.id, at=now, by=actor,
                            kind=CHANNEL_CONTACT_KINDS[row.channel], out_of_town=lead.out_of_town,
                            note=f"follow-up {row.id}"))
    if row.next_step:
        lead.next_step = row.next_step
    if row.next_date:
        lead.next_follow_up_at = row.next_date
    lead.changed(now)
    lead.cadence_due_at = None  # a contact moves the cadence and protection clocks
    session.flush()
    bus.emit(session, FOLLOWUP_LOGGED, followup_payload(row, lead), subject=lead.id)
    return row


@dataclass(frozen=True)
class StageStay:
    stage: str
    entered_at: datetime
    left_at: datetime | None
    actor: str
    reason: str | None
    seconds: int | None  # None for outcomes (won/lost/terminated are not timed)


def stage_report(session: Session, lead: Lead, now: datetime) -> dict[str, Any]:
    """The lead's stays in stages, oldest first, and the total seconds spent in each stage."""
    rows = _history(session, lead.id)
    stays = [(r.stage, r.entered_at, r.left_at, r.actor, r.reason) for r in rows]
    if not stays:
        stays = [(lead.stage, lead.stage_entered_at or lead.created_at, None, lead.registered_by, None)]
    entries = [pipeline.StageEntry(s[0], s[1]) for s in stays]
    totals = pipeline.time_in_stages(entries, max(now, entries[-1].entered_at))
    items = [StageStay(stage, entered, left, actor, reason,
                       None if stage in pipeline.TERMINAL_STAGES
                       else int(((left or now) - entered).total_seconds()))
             for stage, entered, left, actor, reason in stays]
    return {"lead_id": lead.id, "stage": lead.stage, "items": items,
            "time_in_stages": {k: int(v.total_seconds()) for k, v in totals.items()}}


# --- cadence facts --------------------------------------------------------------------------

def contacts_by_lead(session: Session, lead_ids: Iterable[str]) -> dict[str, list[Contact]]:
    """Recorded contacts per lead (``lead_contacts``: the ownership module's contacts and every
    logged follow-up), as the cadence rules take them.

    Every contact counts as "contacted" for the cadence. Protection is judged with
    ``out_of_town=True`` as ``ownership.state_of`` does, so a phone contact made while the lead was
    not out of town is passed as OTHER: still a contact, but it does not renew protection.
    """
    out: dict[str, list[Contact]] = {}
    for lead_id, rows in ownership.contacts_of(session, lead_ids).items():
        out[lead_id] = []
        for row in rows:
            kind = ContactKind(row.kind)
            if kind == ContactKind.PHONE and not row.out_of_town:
                kind = ContactKind.OTHER
            out[lead_id].append(Contact(ownership.aware(row.at), kind, row.by))
    return out


def cadence_facts(lead: Lead, contacts: Sequence[Contact], owner_since: datetime,
                  tz: tzinfo) -> CadenceFacts:
    """What the cadence rules need from a lead. ``owner_since`` (``ownership.owner_since``) starts
    the owner's protection; the lead counts as assigned when the owner did not register it or got
    it later by an owner change (the ownership module NULLs ``cadence_due_at`` then). A trade
    show's clocks start when its last day (``show_ended_on``, in ``tz``) is over; an invoiced
    lead is tracked no further."""
    created = ownership.aware(lead.created_at)
    show_ended = (datetime.combine(lead.show_ended_on + timedelta(days=1), time.min, tzinfo=tz)
                  if lead.show_ended_on else None)
    assigned = lead.registered_by != lead.owner_id or owner_since > created
    return CadenceFacts(
        lead_id=lead.id, owner=lead.owner_id, registered_at=owner_since, source=lead.source,
        contacts=tuple(contacts), assigned_at=owner_since if assigned else None,
        captured_at=created if lead.source == TRADE_SHOW else None,
        tracking_class=lead.tracking_class,
        tracking_class_since=ownership.aware(lead.tracking_class_since) if lead.tracking_class_since
        else None, trade_show_ended_at=show_ended, next_follow_up_at=lead.next_follow_up_at,
        out_of_town=True, closed=lead.status != domain.OPEN or lead.merged_into is not None
        or lead.invoiced_at is not None)


NEVER = timedelta(days=365 * 100)  # cadence_due_at when nothing is scheduled: only a change re-arms it
