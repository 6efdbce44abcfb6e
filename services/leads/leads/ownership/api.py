"""HTTP API of ownership: policy, protection and contacts, owner history and reassignment,
commission splits, reception rotation and redistribution.

Thin like api.py: parse, load, call the rule modules (policy, protection, rotation) through
``ownership``, serialize. Object endpoints answer 404 for a lead the caller may not see.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from flask.views import MethodView
from sqlalchemy import func, select

import authn
from authn import Principal
from authn.flask import current_principal, require_roles
from httpapi import Blueprint, Problem
from leads.intake import rules as domain
from leads.intake.models import Lead
from leads.ownership import rotation
from leads.ownership import rules as protection
from leads.ownership import service as ownership
from leads.ownership.models import LeadContact, LeadSplit, RedistributionRow, RotationDay, RotationLogRow
from leads.ownership.schemas import (
    AssignmentSchema,
    EventSharingSchema,
    HistorySchema,
    LeadContactCreateSchema,
    LeadContactListSchema,
    LeadContactResultSchema,
    NextSchema,
    OutOfTownSchema,
    PolicyChangeListSchema,
    PolicySchema,
    PolicyUpdateSchema,
    ProtectionSchema,
    ReassignResultSchema,
    ReassignSchema,
    RedistributeSchema,
    RedistributionSchema,
    RepSchema,
    RosterSchema,
    RotationLogSchema,
    RotationStateSchema,
    SplitCreateSchema,
    SplitSchema,
)
from leads.policy import service as policies
from leads.policy.models import LeadPolicyChange
from leads.policy.rules import PolicyError
from leads.web import SALES, _ctx, _visible_lead

blp = Blueprint("leads_ownership", __name__, url_prefix="/api/v1/leads",
                description="Ownership: policy, protection, reassignment, splits, reception rotation")
USERS = (authn.ADMIN, authn.SALES_MANAGER, authn.SALES_REP)
MANAGERS = (authn.ADMIN, authn.SALES_MANAGER)


def _conflict(exc: Exception) -> Problem:
    return Problem(409, "Conflict", str(exc))


def _manages(principal: Principal, team: str | None) -> bool:
    return principal.is_admin or (principal.is_manager and team is not None and team == principal.team)


# --- policy ------------------------------------------------------------------------------------

def _policy_view(row: Any) -> dict[str, Any]:
    return {"version": row.version, "updated_at": row.updated_at, "updated_by": row.updated_by,
            "policy": policies.policy_from_row(row).to_dict()}


@blp.route("/policy")
class Policy(MethodView):
    @blp.response(200, PolicySchema)
    @require_roles(*SALES)
    def get(self) -> dict[str, Any]:
        """The organization's lead policy: every number of the ownership, pipeline and cadence
        rules, the documents' values unless an admin changed them."""
        with _ctx().bus.session_factory() as session, session.begin():
            return _policy_view(policies.policy_row(session))

    @blp.arguments(PolicyUpdateSchema)
    @blp.response(200, PolicySchema)
    @require_roles(authn.ADMIN)
    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        """Change some policy fields (admin only), with a required reason; audited with the old
        and new value of each changed field. Invalid values are answered 422 per field."""
        reason = body.pop("reason").strip()
        if not body:
            raise Problem(422, "Unprocessable Content", "name at least one policy field to change",
                          errors={"json": {"_schema": ["No policy field given."]}})
        ctx = _ctx()
        with ctx.bus.session_factory() as session, session.begin():
            try:
                row, _ = policies.change_policy(session, current_principal().sub, ctx.clock(),
                                                 body, reason)
            except PolicyError as exc:
                raise Problem(422, "Unprocessable Content",
                              "The request did not validate; see errors for each field.",
                              errors={"json": {k: [v] for k, v in exc.errors.items()}}) from exc
            return _policy_view(row)


@blp.route("/policy/changes")
class PolicyChanges(MethodView):
    @blp.response(200, PolicyChangeListSchema)
    @require_roles(*MANAGERS)
    def get(self) -> dict[str, Any]:
        """The policy's audit trail, newest first."""
        with _ctx().bus.session_factory() as session:
            rows = session.scalars(select(LeadPolicyChange).order_by(LeadPolicyChange.id.desc())
                                   .limit(200))
            return {"items": list(rows)}


# --- protection and contacts ---------------------------------------------------------------------

def _protection_view(lead: Lead, state: protection.ProtectionState) -> dict[str, Any]:
    return {"lead_id": lead.id, "owner": state.owner, "status": state.status.value,
            "out_of_town": lead.out_of_town, "anchor_at": state.anchor_at,
            "protected_until": state.protected_until, "expiring_from": state.expiring_from,
            "claimable_at": state.claimable_at, "renewed_by": state.renewed_by and {
                "at": state.renewed_by.at, "kind": state.renewed_by.kind.value,
                "by": state.renewed_by.by}}


def _state(session: Any, lead: Lead, now: Any) -> protection.ProtectionState:
    policy = policies.current_policy(session)
    return ownership.protection_states(session, [lead], now, policy)[lead.id]


@blp.route("/<string:lead_id>/protection")
class Protection(MethodView):
    @blp.response(200, ProtectionSchema)
    @require_roles(*SALES)
    def get(self, lead_id: str) -> dict[str, Any]:
        """The owner's protection now: protected, expiring (warning period), expired, or
        claimable by others through a manager, with the dates each starts."""
        ctx = _ctx()
        with ctx.bus.session_factory() as session:
            lead = _visible_lead(session, lead_id)
            return _protection_view(lead, _state(session, lead, ctx.clock()))

    @blp.arguments(OutOfTownSchema)
    @blp.response(200, ProtectionSchema)
    @require_roles(*USERS)
    def patch(self, body: dict[str, Any], lead_id: str) -> dict[str, Any]:
        """Mark the lead out of town (a phone visit then renews protection) or not."""
        ctx = _ctx()
        with ctx.bus.session_factory() as session, session.begin():
            lead = _visible_lead(session, lead_id, lock=True)
            if lead.out_of_town != body["out_of_town"]:
                lead.out_of_town = body["out_of_town"]
                lead.updated_at = ctx.clock()
                ownership.touched(lead)
            return _protection_view(lead, _state(session, lead, ctx.clock()))


@blp.route("/<string:lead_id>/contacts")
class Contacts(MethodView):
    @blp.arguments(LeadContactCreateSchema)
    @blp.response(201, LeadContactResultSchema)
    @require_roles(*USERS)
    def post(self, body: dict[str, Any], lead_id: str) -> tuple[dict[str, Any], int]:
        """Record a contact with the customer at the server's time. The owner's face-to-face
        visit (or phone visit while the lead is out of town) renews protection."""
        ctx = _ctx()
        principal = current_principal()
        with ctx.bus.session_factory() as session, session.begin():
            lead = _visible_lead(session, lead_id, lock=True)
            try:
                domain.ensure_live(lead.merged_into)
            except domain.RuleViolation as exc:
                raise _conflict(exc) from exc
            now = ctx.clock()
            contact = LeadContact(id=str(uuid.uuid4()), lead_id=lead.id, at=now, kind=body["kind"],
                                  by=principal.sub, out_of_town=lead.out_of_town, note=body["note"])
            session.add(contact)
            lead.updated_at = now
            ownership.touched(lead)
            session.flush()
            state = _state(session, lead, now)
            qualifying = state.renewed_by is not None and state.renewed_by.at == now \
                and state.renewed_by.by == principal.sub
            return {"contact": contact, "qualifying": qualifying,
                    "protection": _protection_view(lead, state)}, 201

    @blp.response(200, LeadContactListSchema)
    @require_roles(*SALES)
    def get(self, lead_id: str) -> dict[str, Any]:
        with _ctx().bus.session_factory() as session:
            _visible_lead(session, lead_id)
            return {"items": ownership.contacts_of(session, [lead_id])[lead_id]}


# --- owners -------------------------------------------------------------------------------------

@blp.route("/<string:lead_id>/history")
class History(MethodView):
    @blp.response(200, HistorySchema)
    @require_roles(*SALES)
    def get(self, lead_id: str) -> dict[str, Any]:
        """Every owner the lead has had, oldest first, each with actor, rule and reason."""
        with _ctx().bus.session_factory() as session:
            _visible_lead(session, lead_id)
            return {"items": ownership.history(session, lead_id)}


def _decide(session: Any, lead: Lead, body: dict[str, Any], state: protection.ProtectionState,
            policy: Any) -> protection.Decision:
    """The conflict rule named by the manager, applied to this lead and its protection."""
    rule, to_owner, reason = protection.ConflictRule(body["rule"]), body["to_owner"], body["reason"]
    R = protection.ConflictRule  # noqa: N806 - reads like the enum it names
    if rule == R.CLAIM_AFTER_INACTIVITY:
        return protection.claim_decision(state, to_owner, reason or "")
    if rule == R.REDISTRIBUTION:
        return protection.Decision(to_owner, R.REDISTRIBUTION, True, None, reason or "")
    cases: dict[protection.ConflictRule, Callable[[], protection.ConflictCase]] = {
        R.CUSTOMER_CHOICE: lambda: protection.CustomerChoice(lead.owner_id, to_owner, state.is_valid),
        R.VERIFIED_COMPLAINT: lambda: protection.Complaint(lead.owner_id, to_owner, verified=True),
        R.FAMILY_MEMBER: lambda: protection.FamilyMember(to_owner, lead.owner_id),
        R.OLD_CUSTOMER_REFERRAL: lambda: protection.OldCustomerReferral(to_owner, lead.owner_id),
        R.MANAGER_DECISION: lambda: protection.ManagerCase(to_owner, reason or "", lead.owner_id),
    }
    case = cases[rule]()
    return protection.decide_conflict(case, policy)


def _record_split(session: Any, lead: Lead, situation: str, split: protection.Split, at: Any,
                  by: str, reason: str | None) -> dict[str, Any]:
    split_id = str(uuid.uuid4())
    for rep, pct in split:
        session.add(LeadSplit(lead_id=lead.id, split_id=split_id, situation=situation, rep=rep,
                              percent=pct, at=at, by=by, reason=reason))
    session.flush()
    return {"split_id": split_id, "situation": situation, "at": at, "by": by, "reason": reason,
            "shares": [{"rep": rep, "percent": pct} for rep, pct in split]}


def _managed_lead(session: Any, lead_id: str) -> Lead:
    """The locked lead, 404 if the caller cannot see it, 403 if they see it but do not manage it."""
    lead = _visible_lead(session, lead_id, lock=True)
    if not _manages(current_principal(), lead.owner_team):
        raise Problem(403, "Forbidden", "only the team's manager or an admin may do this")
    return lead


@blp.route("/<string:lead_id>/reassign")
class Reassign(MethodView):
    @blp.arguments(ReassignSchema)
    @blp.response(200, ReassignResultSchema)
    @require_roles(*MANAGERS)
    def post(self, body: dict[str, Any], lead_id: str) -> dict[str, Any]:
        """Give the lead to another rep under a named rule: the customer's choice (80/20 if the
        owner is still protected), a verified complaint, family member or old customer's referral
        (first receiver), a claim after inactivity (only once claimable, else 409), or a manager
        decision / redistribution with a written reason. Recorded in the history with an event."""
        ctx = _ctx()
        principal = current_principal()
        with ctx.bus.session_factory() as session, session.begin():
            lead = _managed_lead(session, lead_id)
            ownership.require_known_owners(ctx, session, {"to_owner": [body["to_owner"]]})
            to_team = body["to_team"] if body["to_team"] is not None else lead.owner_team
            if not domain.can_assign_owner(principal, body["to_owner"], to_team):
                raise Problem(403, "Forbidden", "managers reassign within their own team")
            try:
                domain.ensure_live(lead.merged_into)
                if lead.status != domain.OPEN:
                    raise domain.RuleViolation(f"a {lead.status} lead keeps its owner")
                now = ctx.clock()
                policy = policies.current_policy(session)
                state = ownership.protection_states(session, [lead], now, policy)[lead.id]
                decision = _decide(session, lead, body, state, policy)
                change = protection.owner_change(decision, lead.owner_id, principal.sub, now,
                                                 body["reason"])
            except domain.RuleViolation as exc:
                raise _conflict(exc) from exc
            if change is None and to_team == lead.owner_team:
                return {"changed": False, "owner_id": lead.owner_id, "owner_team": lead.owner_team,
                        "version": lead.version, "change": None,
                        "explanation": decision.explanation, "split": None}
            if change is None:  # same rep, another team
                change = protection.OwnerChange(lead.owner_id, lead.owner_id, principal.sub,
                                                decision.rule.value, (body["reason"] or
                                                                      decision.explanation), now)
            row = ownership.apply_owner_change(ctx, session, lead, change, to_team)
            split = (_record_split(session, lead, decision.rule.value, decision.split, now,
                                   principal.sub, decision.explanation)
                     if decision.split else None)
            return {"changed": True, "owner_id": lead.owner_id, "owner_team": lead.owner_team,
                    "version": lead.version, "change": row, "explanation": decision.explanation,
                    "split": split}


# --- splits ------------------------------------------------------------------------------------

def _situation(session: Any, lead: Lead, body: dict[str, Any], now: Any,
               policy: Any) -> protection.SplitSituation:
    def valid(rep: str) -> bool:
        return ownership.rep_protected(session, lead, rep, now, policy)

    owner = body["owner"] or lead.owner_id
    situation = body["situation"]
    if situation == "chose_other_rep":
        return protection.ChoseOtherRep(body["chosen"], owner, valid(owner))
    if situation == "served_in_owners_absence":
        return protection.ServedInOwnersAbsence(owner, body["assistant"])
    if situation == "forgot_who_served":
        return protection.ForgotWhoServed(body["serving_rep"], body["earlier_rep"],
                                          valid(body["earlier_rep"]))
    if situation == "named_on_nth_visit":
        return protection.NamedOnNthVisit(body["named_rep"],
                                          tuple((rep, valid(rep)) for rep in body["earlier"]))
    if situation == "same_day_deal":
        return protection.SameDayDeal(body["serving_rep"], body["earlier_rep"],
                                      ownership.received_on_day(session, lead, body["serving_rep"],
                                                                now, policy))
    if situation == "cross_over_dispute":
        if not lead.owner_team:
            raise domain.RuleViolation("a lead of no team has no department to credit")
        return protection.CrossOverDispute(lead.owner_team)
    if situation == "followed_others_authorized":
        return protection.FollowedOthersAuthorized(owner, body["follower"], body["approved"])
    return protection.SoleCredit(body["rep"])


@blp.route("/<string:lead_id>/split")
class Split(MethodView):
    @blp.arguments(SplitCreateSchema)
    @blp.response(201, SplitSchema)
    @require_roles(*MANAGERS)
    def post(self, body: dict[str, Any], lead_id: str) -> tuple[dict[str, Any], int]:
        """Record the deal's commission/credit split for a situation of the sales-floor rules
        (80/20, 50/50, sole credit). A rep whose protection had expired when they lost the lead
        gets nothing. The latest split replaces earlier ones (which stay stored)."""
        ctx = _ctx()
        principal = current_principal()
        with ctx.bus.session_factory() as session, session.begin():
            lead = _managed_lead(session, lead_id)
            now = ctx.clock()
            policy = policies.current_policy(session)
            try:
                split = protection.commission_split(_situation(session, lead, body, now, policy),
                                                    policy)
            except domain.RuleViolation as exc:
                raise _conflict(exc) from exc
            return _record_split(session, lead, body["situation"], split, now, principal.sub,
                                 body["reason"]), 201

    @blp.response(200, SplitSchema)
    @require_roles(*SALES)
    def get(self, lead_id: str) -> dict[str, Any]:
        """The lead's current split (no shares if none was recorded)."""
        with _ctx().bus.session_factory() as session:
            _visible_lead(session, lead_id)
            return ownership.latest_split(session, lead_id)


# --- reception rotation ------------------------------------------------------------------------

def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise Problem(404, "Not Found", f"{raw!r} is not a day (YYYY-MM-DD)") from exc


def _require_team(team: str, manage: bool = False, rep: str | None = None) -> Principal:
    """Admins and the team's manager; with ``manage`` False also the team's reps (a rep may
    only name themselves when ``rep`` is given)."""
    principal = current_principal()
    if _manages(principal, team):
        return principal
    if not manage and principal.team == team and (rep is None or rep == principal.sub):
        return principal
    raise Problem(403, "Forbidden", f"not allowed on the rotation of team {team}")


def _rotation_view(row: RotationDay) -> dict[str, Any]:
    state = ownership.rotation_from_json(row.team, row.day, row.state)
    owed, n = dict(state.makeup), len(state.order)
    in_turn = [state.order[(state.position + i) % n] for i in range(n)]
    upcoming = next((r for r in [*(r for r in state.order if owed.get(r)), *in_turn]
                     if r not in state.away), None)
    return {**ownership.rotation_to_json(state), "team": row.team, "day": row.day,
            "next_rep": upcoming, "version": row.version}


def _rotation_row(session: Any, team: str, day: date) -> RotationDay:
    row = session.get(RotationDay, (team, day), with_for_update=True)
    if row is None:
        raise Problem(404, "Not Found", f"no rotation for team {team} on {day.isoformat()}")
    return row


def _log(session: Any, row: RotationDay, actor: str, action: str, reason: str,
         **fields: Any) -> None:
    session.add(RotationLogRow(team=row.team, day=row.day, at=_ctx().clock(), actor=actor,
                               action=action, reason=reason, **fields))


def _save(row: RotationDay, state: rotation.RotationState, actor: str) -> None:
    row.state = ownership.rotation_to_json(state)
    row.version += 1
    row.updated_at, row.updated_by = _ctx().clock(), actor


@blp.route("/rotation/<string:team>/<string:day>")
class Rotation(MethodView):
    @blp.response(200, RotationStateSchema)
    @require_roles(*USERS)
    def get(self, team: str, day: str) -> dict[str, Any]:
        _require_team(team)
        with _ctx().bus.session_factory() as session, session.begin():
            return _rotation_view(_rotation_row(session, team, _day(day)))

    @blp.arguments(RosterSchema)
    @blp.response(200, RotationStateSchema)
    @require_roles(*MANAGERS)
    def put(self, body: dict[str, Any], team: str, day: str) -> dict[str, Any]:
        """Set the day's on-duty reps in rotation order. Setting it again restarts the order;
        make-up turns still owed to reps who stay on duty are kept."""
        principal = _require_team(team, manage=True)
        on = _day(day)
        ctx = _ctx()
        with ctx.bus.session_factory() as session, session.begin():
            row = session.get(RotationDay, (team, on), with_for_update=True)
            carried = dict(row.state.get("makeup", {})) if row else {}
            try:
                state = rotation.start_day(team, on, body["reps"], carried)
            except ValueError as exc:
                raise Problem(422, "Unprocessable Content", str(exc),
                              errors={"json": {"reps": [str(exc)]}}) from exc
            if row is None:
                row = RotationDay(team=team, day=on, state={}, version=0, updated_at=ctx.clock(),
                                  updated_by=principal.sub)
                session.add(row)
            _save(row, state, principal.sub)
            _log(session, row, principal.sub, "roster", "on duty: " + ", ".join(state.order))
            session.flush()
            return _rotation_view(row)


def _away_or_back(action: str, body: dict[str, Any], team: str, day: str) -> dict[str, Any]:
    principal = _require_team(team, rep=body["rep"])
    with _ctx().bus.session_factory() as session, session.begin():
        row = _rotation_row(session, team, _day(day))
        state = ownership.rotation_from_json(row.team, row.day, row.state)
        change = rotation.mark_away if action == "away" else rotation.mark_returned
        try:
            state = change(state, body["rep"])
        except domain.RuleViolation as exc:
            raise _conflict(exc) from exc
        _save(row, state, principal.sub)
        why = ("away on business: turns skipped are owed as make-up turns" if action == "away"
               else f"back: {state.owed(body['rep'])} make-up turn(s) owed")
        _log(session, row, principal.sub, action, why, rep=body["rep"])
        session.flush()
        return _rotation_view(row)


@blp.route("/rotation/<string:team>/<string:day>/away")
class RotationAway(MethodView):
    @blp.arguments(RepSchema)
    @blp.response(200, RotationStateSchema)
    @require_roles(*USERS)
    def post(self, body: dict[str, Any], team: str, day: str) -> dict[str, Any]:
        """A rep leaves the floor (the team's manager, or the rep themselves)."""
        return _away_or_back("away", body, team, day)


@blp.route("/rotation/<string:team>/<string:day>/returned")
class RotationReturned(MethodView):
    @blp.arguments(RepSchema)
    @blp.response(200, RotationStateSchema)
    @require_roles(*USERS)
    def post(self, body: dict[str, Any], team: str, day: str) -> dict[str, Any]:
        """A rep is back; the turns they missed are served first (make-up turns)."""
        return _away_or_back("returned", body, team, day)


@blp.route("/rotation/<string:team>/<string:day>/next")
class RotationNext(MethodView):
    @blp.arguments(NextSchema)
    @blp.response(200, AssignmentSchema)
    @require_roles(*USERS)
    def post(self, body: dict[str, Any], team: str, day: str) -> dict[str, Any]:
        """Who receives this walk-in or call, and why: make-up turns first, then the order;
        a named rep who is present; a returning customer's own rep (no turn consumed)."""
        principal = _require_team(team)
        with _ctx().bus.session_factory() as session, session.begin():
            row = _rotation_row(session, team, _day(day))
            state = ownership.rotation_from_json(row.team, row.day, row.state)
            event: rotation.RotationEvent
            if body["kind"] == "named_rep":
                event = rotation.NamedRep(body["customer"], tuple(body["names"]))
            elif body["kind"] == "returning_customer":
                event = rotation.ReturningCustomer(body["customer"], body["owner"])
            else:
                event = rotation.NewCustomer(body["customer"])
            try:
                state, assignment = rotation.next_rep(state, event)
            except domain.RuleViolation as exc:
                raise _conflict(exc) from exc
            _save(row, state, principal.sub)
            _log(session, row, principal.sub, "next", assignment.reason, rep=assignment.rep,
                 served_by=assignment.served_by, kind=assignment.kind,
                 customer=body["customer"] or None, consumed_turn=assignment.consumed_turn)
            session.flush()
            return {"rep": assignment.rep, "served_by": assignment.served_by,
                    "kind": assignment.kind, "consumed_turn": assignment.consumed_turn,
                    "reason": assignment.reason, "skipped_away": list(assignment.skipped_away),
                    "state": _rotation_view(row)}


@blp.route("/rotation/<string:team>/<string:day>/log")
class RotationLog(MethodView):
    @blp.response(200, RotationLogSchema)
    @require_roles(*USERS)
    def get(self, team: str, day: str) -> dict[str, Any]:
        """The day's reception register, oldest first."""
        _require_team(team)
        on = _day(day)
        with _ctx().bus.session_factory() as session:
            rows = session.scalars(select(RotationLogRow).where(
                RotationLogRow.team == team, RotationLogRow.day == on).order_by(RotationLogRow.id))
            return {"items": list(rows)}


# --- redistribution ------------------------------------------------------------------------------

@blp.route("/redistribute")
class Redistribute(MethodView):
    @blp.arguments(RedistributeSchema)
    @blp.response(200, RedistributionSchema)
    @require_roles(*MANAGERS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Hand a rep's open leads (a manager: those in their team) to other reps by a
        reproducible random draw or evenly; each lead gets a history line (rule redistribution)
        and a reassigned event, and the draw is logged with its seed."""
        ctx = _ctx()
        principal = current_principal()
        if not principal.is_admin and not principal.team:
            raise Problem(403, "Forbidden", "a manager without a team redistributes nothing")
        team = None if principal.is_admin else principal.team
        seed = body["seed"] or str(secrets.randbelow(10**9))
        with ctx.bus.session_factory() as session, session.begin():
            ownership.require_known_owners(ctx, session, {"to_reps": body["to_reps"]})
            stmt = select(Lead).where(Lead.owner_id == body["from_rep"], Lead.status == domain.OPEN,
                                      Lead.merged_into.is_(None))
            if team is not None:
                stmt = stmt.where(Lead.owner_team == team)
            leads = {lead.id: lead for lead in
                     session.scalars(stmt.order_by(Lead.id).with_for_update())}
            load_stmt = (select(Lead.owner_id, func.count()).where(
                Lead.owner_id.in_(body["to_reps"]), Lead.status == domain.OPEN,
                Lead.merged_into.is_(None)).group_by(Lead.owner_id))
            load = {rep: n for rep, n in session.execute(load_stmt)}
            try:
                result = rotation.redistribute(leads, body["to_reps"], body["method"], seed,
                                               departing=body["from_rep"], current_load=load)
            except domain.RuleViolation as exc:
                raise _conflict(exc) from exc
            now = ctx.clock()
            reason = body["reason"] or (f"{body['from_rep']} on long leave or leaving: "
                                        f"{body['method']} draw, seed {seed}")
            assigned = []
            for lead_id, rep in result.assignments:
                lead = leads[lead_id]
                change = protection.OwnerChange(lead.owner_id, rep, principal.sub,
                                                protection.ConflictRule.REDISTRIBUTION.value,
                                                reason, now)
                ownership.apply_owner_change(ctx, session, lead, change, lead.owner_team)
                assigned.append({"lead_id": lead.id, "code": lead.code, "to_owner": rep})
            row = RedistributionRow(id=str(uuid.uuid4()), at=now, actor=principal.sub,
                                    from_rep=body["from_rep"], team=team, method=body["method"],
                                    seed=seed, to_reps=sorted(set(body["to_reps"])),
                                    assignments=assigned, log=list(result.log),
                                    reason=body["reason"])
            session.add(row)
            session.flush()
            return {c.name: getattr(row, c.name) for c in RedistributionRow.__table__.columns}


EVENT_SHARING = "event_sharing"


@blp.route("/event-files/share")
class ShareEventFiles(MethodView):
    @blp.arguments(EventSharingSchema)
    @blp.response(200, RedistributionSchema)
    @require_roles(*MANAGERS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """§1.4C: an event's customer files, once entered, go evenly to the staff who took part
        (平均分配给该部参加科普的员工). The open event leads of that show in the manager's team
        (an admin: every team) are dealt out in turn, fewest first; each moved lead gets a
        history line (rule event_sharing) and a reassigned event."""
        ctx = _ctx()
        principal = current_principal()
        if not principal.is_admin and not principal.team:
            raise Problem(403, "Forbidden", "a manager without a team shares nothing")
        team = None if principal.is_admin else principal.team
        with ctx.bus.session_factory() as session, session.begin():
            ownership.require_known_owners(ctx, session, {"participants": body["participants"]})
            stmt = select(Lead).where(Lead.source == "event", Lead.show_name == body["show_name"],
                                      Lead.status == domain.OPEN, Lead.merged_into.is_(None))
            if team is not None:
                stmt = stmt.where(Lead.owner_team == team)
            leads = {lead.id: lead for lead in
                     session.scalars(stmt.order_by(Lead.id).with_for_update())}
            result = rotation.redistribute(leads, body["participants"], "even", "")
            now = ctx.clock()
            reason = body["reason"] or (f"event {body['show_name']}: files shared evenly among "
                                        + ", ".join(sorted(set(body["participants"]))))
            assigned = []
            for lead_id, rep in result.assignments:
                lead = leads[lead_id]
                if rep != lead.owner_id:
                    change = protection.OwnerChange(lead.owner_id, rep, principal.sub,
                                                    EVENT_SHARING, reason, now)
                    ownership.apply_owner_change(ctx, session, lead, change, lead.owner_team)
                assigned.append({"lead_id": lead.id, "code": lead.code, "to_owner": rep})
            row = RedistributionRow(id=str(uuid.uuid4()), at=now, actor=principal.sub,
                                    from_rep=f"event:{body['show_name']}"[:100], team=team,
                                    method="even", seed="", assignments=assigned,
                                    to_reps=sorted(set(body["participants"])),
                                    log=list(result.log), reason=body["reason"])
            session.add(row)
            session.flush()
            return {c.name: getattr(row, c.name) for c in RedistributionRow.__table__.columns}
