"""Ownership use cases: the stored policy, protection from recorded contacts, owner changes.

The rules live in ``policy``, ``protection`` and ``rotation``; this module only loads what they
need and writes what they decide, inside the caller's transaction (state, history and event
commit together).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

import authn
from authn import Principal
from httpapi import Problem
from leads.intake.models import Lead, Visit
from leads.ownership.events import LEAD_ASSIGNED, LEAD_REASSIGNED, assigned_payload, reassigned_payload
from leads.ownership.models import LeadContact, LeadSplit, OwnerChangeRow, RotationLogRow
from leads.ownership.rotation import RotationState
from leads.ownership.rules import (
    Contact,
    ContactKind,
    OwnedLead,
    OwnerChange,
    ProtectionState,
    protection_state,
)
from leads.policy.rules import LeadPolicy
from leads.policy.service import current_policy
from leads.ports import Deps
from servicedb import writes

REGISTRATION, REFERRAL = "registration", "referral"


# --- protection ------------------------------------------------------------------------------

def owner_since(session: Session, leads: Iterable[Lead]) -> dict[str, datetime]:
    """When each lead's current owner got it: the last owner change, else its registration."""
    leads = list(leads)
    last = {lead_id: aware(at) for lead_id, at in session.execute(
        select(OwnerChangeRow.lead_id, func.max(OwnerChangeRow.at))
        .where(OwnerChangeRow.lead_id.in_([lead.id for lead in leads]))
        .group_by(OwnerChangeRow.lead_id))} if leads else {}
    return {lead.id: max(last.get(lead.id) or aware(lead.created_at), aware(lead.created_at))
            for lead in leads}


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; the service stores UTC, so naive means UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def contacts_of(session: Session, lead_ids: Iterable[str]) -> dict[str, list[LeadContact]]:
    ids = list(lead_ids)
    out: dict[str, list[LeadContact]] = {i: [] for i in ids}
    if ids:
        for c in session.scalars(select(LeadContact).where(LeadContact.lead_id.in_(ids))
                                 .order_by(LeadContact.at, LeadContact.id)):
            out[c.lead_id].append(c)
    return out


def _rule_inputs(rows: Iterable[Any]) -> list[Contact]:
    """Contacts as the rule module sees them. A phone visit counts only if the lead was out of
    town when it was made (flag kept on the contact), so it is judged with out_of_town=True and
    the other phone contacts are left out; face-to-face visits count either way."""
    return [Contact(at=aware(c.at), kind=ContactKind(c.kind), by=c.by) for c in rows
            if c.kind != ContactKind.PHONE or c.out_of_town]


def state_of(owner: str, since: datetime, rows: Iterable[Any], now: datetime,
             policy: LeadPolicy) -> ProtectionState:
    return protection_state(OwnedLead(owner=owner, registered_at=since, out_of_town=True),
                            _rule_inputs(rows), now, policy)


def protection_states(session: Session, leads: Iterable[Lead], now: datetime,
                      policy: LeadPolicy) -> dict[str, ProtectionState]:
    """Each lead's current owner's protection at ``now``, counted from when they got the lead
    (a new owner starts a new protection period; the previous owner's contacts do not count)."""
    leads = list(leads)
    since = owner_since(session, leads)
    contacts = contacts_of(session, since)
    return {lead.id: state_of(lead.owner_id, since[lead.id], contacts[lead.id], now, policy)
            for lead in leads}


def states_from(leads: Iterable[tuple[str, str, datetime]], last_change: dict[str, datetime],
                contacts: dict[str, list[Any]], now: datetime,
                policy: LeadPolicy) -> dict[str, ProtectionState]:
    """``protection_states`` from inputs already read — ``(id, owner, created_at)`` of each lead,
    its last owner change if any, its contacts (rows with at, kind, by, out_of_town, in time
    order) — for reads that fetch them with other rows in one statement."""
    out = {}
    for lead_id, owner, created_at in leads:
        registered = aware(created_at)
        since = max(aware(last_change[lead_id]) if lead_id in last_change else registered,
                    registered)
        out[lead_id] = state_of(owner, since, contacts.get(lead_id, ()), now, policy)
    return out


def rep_protected(session: Session, lead: Lead, rep: str, now: datetime, policy: LeadPolicy) -> bool:
    """Whether ``rep``'s protection on the lead was valid when they last owned it (now for the
    current owner, the moment they lost it otherwise): a conflict is judged at its time."""
    history = list(session.scalars(select(OwnerChangeRow).where(OwnerChangeRow.lead_id == lead.id)
                                   .order_by(OwnerChangeRow.at, OwnerChangeRow.id)))
    intervals: list[tuple[datetime, datetime]] = []
    for i, row in enumerate(history):
        if row.to_owner == rep:
            end = aware(history[i + 1].at) if i + 1 < len(history) else now
            intervals.append((aware(row.at), end))
    if not history and rep == lead.owner_id:
        intervals.append((aware(lead.created_at), now))
    if not intervals:
        return False
    start, end = intervals[-1]
    return state_of(rep, start, contacts_of(session, [lead.id])[lead.id], end, policy).is_valid


def received_on_day(session: Session, lead: Lead, rep: str, now: datetime,
                    policy: LeadPolicy) -> bool:
    """Whether ``rep`` received the lead's customer on ``now``'s local day (registered it, or
    recorded a walk-in, call or contact): the "same day" of a same-day deal (当日成交)."""
    day = now.astimezone(policy.tz).date()
    start = datetime.combine(day, datetime.min.time(), tzinfo=policy.tz)
    if lead.registered_by == rep and start <= lead.created_at <= now:
        return True
    for model, at, by in ((Visit, Visit.at, Visit.by), (LeadContact, LeadContact.at, LeadContact.by)):
        found = session.scalar(select(func.count()).select_from(model).where(
            model.lead_id == lead.id, by == rep, at >= start, at <= now))
        if found:
            return True
    return False


# --- who may own a lead ------------------------------------------------------------------------

OWNER_ROLES = (authn.SALES_REP, authn.SALES_MANAGER, authn.ADMIN)


def owner_problems(ctx: Deps, session: Session, user_ids: Iterable[str]) -> dict[str, str]:
    """Each named user who cannot own a lead, with why. The directory (settings) decides when
    there is one: the user must exist and be a rep, a manager or an admin. Without one, a user
    is known if leads' own records name them (an owner, a registrant, a rotation's rep)."""
    wanted = sorted(set(user_ids))
    directory = ctx.settings.directory
    if directory is not None:
        out = {}
        for user in wanted:
            person = directory.get(user)
            if person is None:
                out[user] = f"No user {user}."
            elif not person.has_any(*OWNER_ROLES):
                out[user] = f"{user} is not a sales rep or manager."
        return out
    seen: set[str] = set()
    for column in (Lead.owner_id, Lead.registered_by, OwnerChangeRow.to_owner):
        seen.update(session.scalars(select(column).where(column.in_(wanted)).distinct()))
    seen.update(r for r in session.scalars(select(RotationLogRow.rep)
                                           .where(RotationLogRow.rep.in_(wanted)).distinct()) if r)
    return {user: f"No user {user}." for user in wanted if user not in seen}


def require_known_owners(ctx: Deps, session: Session, fields: dict[str, list[str]]) -> None:
    """422 with a field error for every named owner who does not exist (``field → user ids``)."""
    errors = {}
    for name, users in fields.items():
        problems = owner_problems(ctx, session, users)
        if problems:
            errors[name] = sorted(problems.values())
    if errors:
        raise Problem(422, "Unprocessable Content", "an owner named is not a known sales user",
                      errors={"json": errors})


# --- owner changes -----------------------------------------------------------------------------

def _cadence_changed(lead: Lead) -> None:
    """Owner and contacts move reminders: let the cadence scheduler recompute this lead."""
    if hasattr(lead, "cadence_due_at"):
        lead.cadence_due_at = None


def record_assignment(ctx: Deps, session: Session, principal: Principal,
                      lead: Lead) -> OwnerChangeRow:
    """The first line of a new lead's history (who registered it, by which rule). A lead that
    goes to someone other than its registrant (a manager's or integration's pick, a referral)
    also gets the assigned event; a rep's own registration is already told by registered.v1."""
    rule = REFERRAL if lead.source == "referral" else REGISTRATION
    why = ("a customer brought by an old customer belongs to the original receiver"
           if rule == REFERRAL else "whoever registered first owns the lead")
    row = OwnerChangeRow(lead_id=lead.id, at=lead.created_at, from_owner=None, from_team=None,
                         to_owner=lead.owner_id, to_team=lead.owner_team, actor=principal.sub,
                         rule=rule, reason=why)
    session.add(row)
    session.flush()
    if lead.owner_id != principal.sub:
        ctx.bus.emit(session, LEAD_ASSIGNED, assigned_payload(lead, row), subject=lead.id)
    return row


def apply_owner_change(ctx: Deps, session: Session, lead: Lead, change: OwnerChange,
                       to_team: str | None) -> OwnerChangeRow:
    """Move the (locked) lead to its new owner, with a history line and the reassigned event."""
    row = OwnerChangeRow(lead_id=lead.id, at=change.at, from_owner=lead.owner_id,
                         from_team=lead.owner_team, to_owner=change.to_owner, to_team=to_team,
                         actor=change.actor, rule=change.rule, reason=change.reason)
    session.add(row)
    lead.owner_id, lead.owner_team = change.to_owner, to_team
    lead.changed(change.at)
    _cadence_changed(lead)
    session.flush()
    ctx.bus.emit(session, LEAD_REASSIGNED, reassigned_payload(lead, row), subject=lead.id)
    return row


def history(session: Session, lead_id: str) -> list[OwnerChangeRow]:
    return list(session.scalars(select(OwnerChangeRow).where(OwnerChangeRow.lead_id == lead_id)
                                .order_by(OwnerChangeRow.at, OwnerChangeRow.id)))


def touched(lead: Lead) -> None:
    """A recorded contact: the lead changed, and its reminders may move."""
    lead.changed()
    _cadence_changed(lead)


# --- rotation state (JSON) ---------------------------------------------------------------------

def rotation_to_json(state: RotationState) -> dict[str, Any]:
    return {"order": list(state.order), "position": state.position, "away": sorted(state.away),
            "makeup": dict(state.makeup), "turns": dict(state.turns)}


def rotation_from_json(team: str, day: date, data: dict[str, Any]) -> RotationState:
    order = tuple(data["order"])
    makeup, turns = data.get("makeup", {}), data.get("turns", {})
    return RotationState(team=team, day=day, order=order, position=data.get("position", 0),
                         away=frozenset(data.get("away", ())),
                         makeup=tuple((r, makeup[r]) for r in order if makeup.get(r)),
                         turns=tuple((r, turns[r]) for r in order if turns.get(r)))


def latest_split(session: Session, lead_id: str) -> dict[str, Any]:
    """The lead's current commission split (the latest recorded; earlier ones stay stored).
    A prebuilt statement: every conversion reads it."""
    rows = writes.execute(session, _SPLITS, {"lead_id": lead_id})
    if not rows:
        return {"split_id": None, "situation": None, "at": None, "by": None, "reason": None,
                "shares": []}
    # (id, split_id, situation, at, by, reason, rep, percent), newest first
    latest = sorted((r for r in rows if r[1] == rows[0][1]), key=lambda r: r[0])
    _, split_id, situation, at, by, reason, _, _ = latest[0]
    return {"split_id": split_id, "situation": situation, "at": at, "by": by, "reason": reason,
            "shares": [{"rep": r[6], "percent": r[7]} for r in latest]}


_SPLIT_ROWS = LeadSplit.__table__.c
_SPLITS = (select(_SPLIT_ROWS.id, _SPLIT_ROWS.split_id, _SPLIT_ROWS.situation, _SPLIT_ROWS.at,
                  _SPLIT_ROWS.by, _SPLIT_ROWS.reason, _SPLIT_ROWS.rep, _SPLIT_ROWS.percent)
           .where(_SPLIT_ROWS.lead_id == bindparam("lead_id"))
           .order_by(_SPLIT_ROWS.at.desc(), _SPLIT_ROWS.id.desc()))


def take_rotation_turn(ctx: Deps, session: Session, team: str, actor: str, customer: str,
                       named: tuple[str, ...] = ()) -> Any:
    """Today's rotation of ``team`` (in the organisation's timezone) picks who receives a new
    walk-in or call; logged like ``POST /rotation/{team}/{day}/next``. RuleViolation when the
    team has no rotation today or nobody is on duty."""
    from leads.intake import rules as domain
    from leads.ownership import rotation
    from leads.ownership.models import RotationDay, RotationLogRow

    now = ctx.clock()
    day = now.astimezone(current_policy(session).tz).date()
    row = session.get(RotationDay, (team, day), with_for_update=True)
    if row is None:
        raise domain.RuleViolation(f"team {team} has no reception rotation for {day.isoformat()}")
    state = rotation_from_json(row.team, row.day, row.state)
    event = rotation.NamedRep(customer, named) if named else rotation.NewCustomer(customer)
    state, assignment = rotation.next_rep(state, event)
    row.state = rotation_to_json(state)
    row.version += 1
    row.updated_at, row.updated_by = now, actor
    session.add(RotationLogRow(team=row.team, day=row.day, at=now, actor=actor, action="next",
                               reason=assignment.reason, rep=assignment.rep,
                               served_by=assignment.served_by, kind=assignment.kind,
                               customer=customer, consumed_turn=assignment.consumed_turn))
    return assignment
