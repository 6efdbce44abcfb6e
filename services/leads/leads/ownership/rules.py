"""Ownership protection (建档保护), ownership conflicts and commission/credit splits.

Rules (seeds digest §1.4A, §1.4B, §1.4C):
- Whoever registered first owns the lead; the registration time is the server's, never the client's
  (「谁登记早是谁的客户」). Ties on the same instant go to the lower registration sequence number.
- Protection lasts ``policy.protection_months`` (2) from registration (「客户建档有效期为2个月」) and is
  renewed by a *qualifying* contact: a face-to-face visit by the owner, or a phone visit by the owner
  when the lead is out of town (§1.4B 「每两个月内…至少进行一次面访」「外地客户至少进行一次电访」).
- With no qualifying contact for ``policy.claimable_after_months`` (3) the lead becomes claimable by
  others through the manager (§1.4C 「对三个月内顾客服务不到位」).
- Conflicts: the customer's explicit choice (rules 1, 2), a verified complaint against the owner
  (rule 4), family members counted as one customer — first receiver wins (rule 11), customers brought
  by old customers go to the original receiver (rule 10); anything else is a manager decision with a
  written reason (「由部门经理进行界定」).
- Splits: 80/20 chosen rep / protected owner (rule 2); 80/20 owner / assisting colleague (rule 3);
  50/50 "forgot who served me" (rule 7) and "named on the Nth visit" (rule 8); a former owner whose
  protection expired gets nothing; 50/50 for a same-day deal (当日成交); a cross-over deal the
  reps quarrelled over goes to the department; following up another's authorized customer
  without approval earns no commission (§1.4B), with approval the joint follow-up shares 50/50.

Choices on ambiguities (§9.9, §9.10, §9.11):
- §9.9 the three time rules are combined into one clock: the anchor is the later of registration
  and the owner's last qualifying contact; protected until anchor + 2 months, "expiring" during the
  last ``protection_warning_days`` before that, "expired" afterwards, "claimable" from anchor + 3
  months. A qualifying contact by the owner after expiry still renews: the owner keeps the lead until
  a manager actually reassigns it, and a conflict is judged by the protection at the conflict's time.
- Contacts by anyone other than the current owner never renew the owner's protection.
- §9.10 the earliest registration wins (the sales-floor rule of this service), not decision power.
- §9.11 rule 7: when B's registration is still valid the 50/50 variant applies, otherwise B gets
  nothing (the document gives both; the validity test decides between them). Rule 8: the 50% for the
  salespeople before the Nth visit is shared equally among those whose protection was still valid;
  if none was, the named rep gets 100%. Shares are Decimal percentages with 2 places; any rounding
  remainder goes to the first listed rep so every split sums to exactly 100.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from leads.intake.rules import RuleViolation
from leads.policy.rules import LeadPolicy, require_aware

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


class ContactKind(enum.StrEnum):
    FACE_TO_FACE = "face_to_face"
    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    MESSAGE = "message"  # QQ / WeChat / MSN style instant messages
    OTHER = "other"


@dataclass(frozen=True)
class Contact:
    """A contact with the customer as recorded by a rep (server time)."""

    at: datetime
    kind: ContactKind
    by: str


@dataclass(frozen=True)
class OwnedLead:
    """The facts protection needs: who owns it, since when (server registration time), where it is."""

    owner: str
    registered_at: datetime
    out_of_town: bool = False


@dataclass(frozen=True)
class Registration:
    rep: str
    at: datetime
    sequence: int = 0  # server-side insertion order, breaks ties on the same instant


class ProtectionStatus(enum.StrEnum):
    PROTECTED = "protected"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    CLAIMABLE = "claimable"


@dataclass(frozen=True)
class ProtectionState:
    owner: str
    status: ProtectionStatus
    anchor_at: datetime  # registration or the last qualifying contact, whichever is later
    protected_until: datetime
    expiring_from: datetime
    claimable_at: datetime
    renewed_by: Contact | None  # the qualifying contact that set the anchor; None = registration

    @property
    def is_valid(self) -> bool:
        """True while the owner's protection holds (protected or expiring)."""
        return self.status in (ProtectionStatus.PROTECTED, ProtectionStatus.EXPIRING)


def first_registration(registrations: Iterable[Registration]) -> Registration:
    """Who owns a lead registered by several reps: the earliest server time, then the lower sequence."""
    regs = list(registrations)
    if not regs:
        raise ValueError("no registration")
    for r in regs:
        require_aware(r.at, "registration time")
    return min(regs, key=lambda r: (r.at, r.sequence))


def qualifies(contact: Contact, lead: OwnedLead, policy: LeadPolicy | None = None) -> bool:
    """A contact renews protection if the owner made it face to face, or by phone for an out-of-town lead."""
    policy = policy or LeadPolicy()
    if contact.by != lead.owner:
        return False
    if contact.kind == ContactKind.FACE_TO_FACE:
        return True
    return contact.kind == ContactKind.PHONE and lead.out_of_town and policy.phone_visit_renews_out_of_town


def protection_state(
    lead: OwnedLead, contacts: Iterable[Contact], now: datetime, policy: LeadPolicy | None = None
) -> ProtectionState:
    """The owner's protection at ``now``. Contacts before registration or after ``now`` are ignored."""
    policy = policy or LeadPolicy()
    require_aware(lead.registered_at, "registered_at")
    require_aware(now, "now")
    renewing: Contact | None = None
    for c in contacts:
        require_aware(c.at, "contact time")
        if lead.registered_at <= c.at <= now and qualifies(c, lead, policy):
            if renewing is None or c.at > renewing.at:
                renewing = c
    anchor = renewing.at if renewing else lead.registered_at
    protected_until = policy.add_months(anchor, policy.protection_months)
    expiring_from = protected_until - timedelta(days=policy.protection_warning_days)
    claimable_at = policy.add_months(anchor, policy.claimable_after_months)
    if now >= claimable_at:
        status = ProtectionStatus.CLAIMABLE
    elif now >= protected_until:
        status = ProtectionStatus.EXPIRED
    elif now >= expiring_from:
        status = ProtectionStatus.EXPIRING
    else:
        status = ProtectionStatus.PROTECTED
    return ProtectionState(
        owner=lead.owner,
        status=status,
        anchor_at=anchor,
        protected_until=protected_until,
        expiring_from=expiring_from,
        claimable_at=claimable_at,
        renewed_by=renewing,
    )


# --- commission / credit splits ------------------------------------------------------------------


Split = tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True)
class ChoseOtherRep:
    """Rule 2: the customer chose ``chosen`` over ``owner``."""

    chosen: str
    owner: str
    owner_protected: bool


@dataclass(frozen=True)
class ServedInOwnersAbsence:
    """Rule 3: ``assistant`` served the owner's customer while the owner was away (outside the rota)."""

    owner: str
    assistant: str


@dataclass(frozen=True)
class ForgotWhoServed:
    """Rule 7: the customer forgot ``earlier_rep``; ``serving_rep`` (the rota rep) served them."""

    serving_rep: str
    earlier_rep: str
    earlier_protected: bool


@dataclass(frozen=True)
class NamedOnNthVisit:
    """Rule 8: on the Nth visit the customer named ``named_rep``; earlier reps with their protection."""

    named_rep: str
    earlier: tuple[tuple[str, bool], ...]  # (rep, protection still valid)


@dataclass(frozen=True)
class SoleCredit:
    """Rules 1, 4, 6, 10, 11: one rep gets everything."""

    rep: str


@dataclass(frozen=True)
class SameDayDeal:
    """当日成交: ``serving_rep`` received a customer ``earlier_rep`` had served before. A deal on
    the day of that reception is shared 50/50; a later one stays the earlier rep's (the
    reception was a courtesy)."""

    serving_rep: str
    earlier_rep: str
    same_day: bool


@dataclass(frozen=True)
class CrossOverDispute:
    """交叉楼宇: reps of a cross-over deal could not agree; the deal and the bonus go to the
    department (``DEPARTMENT_PREFIX`` + team), not to either rep."""

    team: str


@dataclass(frozen=True)
class FollowedOthersAuthorized:
    """§1.4B: ``follower`` followed up ``owner``'s authorized customer. Without the department's
    approval the follower gets no commission (the owner keeps it all); with it, the two follow
    up jointly and share 50/50."""

    owner: str
    follower: str
    approved: bool


DEPARTMENT_PREFIX = "department:"

SplitSituation = (ChoseOtherRep | ServedInOwnersAbsence | ForgotWhoServed | NamedOnNthVisit
                  | SoleCredit | SameDayDeal | CrossOverDispute | FollowedOthersAuthorized)


def commission_split(situation: SplitSituation, policy: LeadPolicy | None = None) -> Split:
    """The (rep, percent) shares recorded on the lead when its deal closes; always sums to 100."""
    policy = policy or LeadPolicy()
    if isinstance(situation, SoleCredit):
        return _split([(situation.rep, HUNDRED)])
    if isinstance(situation, ChoseOtherRep):
        if not situation.owner_protected:
            return _split([(situation.chosen, HUNDRED)])
        major = Decimal(policy.split_chosen_rep_percent)
        return _split([(situation.chosen, major), (situation.owner, HUNDRED - major)])
    if isinstance(situation, ServedInOwnersAbsence):
        major = Decimal(policy.split_owner_with_assistant_percent)
        return _split([(situation.owner, major), (situation.assistant, HUNDRED - major)])
    if isinstance(situation, ForgotWhoServed):
        if not situation.earlier_protected:
            return _split([(situation.serving_rep, HUNDRED)])
        share = Decimal(policy.split_shared_percent)
        return _split([(situation.serving_rep, share), (situation.earlier_rep, HUNDRED - share)])
    if isinstance(situation, NamedOnNthVisit):
        earlier: list[str] = []
        for rep, protected in situation.earlier:
            if protected and rep != situation.named_rep and rep not in earlier:
                earlier.append(rep)
        if not earlier:
            return _split([(situation.named_rep, HUNDRED)])
        named_share = Decimal(policy.split_shared_percent)
        rest = HUNDRED - named_share
        each = (rest / len(earlier)).quantize(CENT, rounding=ROUND_DOWN)
        shares = [(rep, each) for rep in earlier]
        first_rep, first_share = shares[0]
        shares[0] = (first_rep, first_share + rest - each * len(earlier))
        return _split([(situation.named_rep, named_share), *shares])
    if isinstance(situation, SameDayDeal):
        if not situation.same_day:
            return _split([(situation.earlier_rep, HUNDRED)])
        share = Decimal(policy.split_shared_percent)
        return _split([(situation.serving_rep, share), (situation.earlier_rep, HUNDRED - share)])
    if isinstance(situation, CrossOverDispute):
        return _split([(DEPARTMENT_PREFIX + situation.team, HUNDRED)])
    if isinstance(situation, FollowedOthersAuthorized):
        if not situation.approved:
            return _split([(situation.owner, HUNDRED)])
        share = Decimal(policy.split_shared_percent)
        return _split([(situation.owner, share), (situation.follower, HUNDRED - share)])
    raise TypeError(f"unknown split situation {situation!r}")


def _split(shares: Sequence[tuple[str, Decimal]]) -> Split:
    """Merge repeated reps, drop zero shares, check the total."""
    merged: dict[str, Decimal] = {}
    for rep, pct in shares:
        merged[rep] = merged.get(rep, Decimal(0)) + pct
    result = tuple((rep, pct.quantize(CENT)) for rep, pct in merged.items() if pct > 0)
    if sum(p for _, p in result) != HUNDRED:
        raise AssertionError(f"split does not sum to 100: {result}")
    return result


# --- ownership conflicts -------------------------------------------------------------------------


class ConflictRule(enum.StrEnum):
    CUSTOMER_CHOICE = "customer_choice"  # rules 1 and 2
    VERIFIED_COMPLAINT = "verified_complaint"  # rule 4
    FAMILY_MEMBER = "family_member"  # rule 11
    OLD_CUSTOMER_REFERRAL = "old_customer_referral"  # rule 10
    MANAGER_DECISION = "manager_decision"  # cross-over / uncovered cases
    CLAIM_AFTER_INACTIVITY = "claim_after_inactivity"  # §1.4C 3-month rule
    REDISTRIBUTION = "redistribution"  # rule 12: a rep on long leave or leaving


@dataclass(frozen=True)
class CustomerChoice:
    owner: str
    chosen: str
    owner_protected: bool


@dataclass(frozen=True)
class Complaint:
    owner: str
    claimant: str  # the rep who took the complaint and will serve the customer
    verified: bool  # verified by the sales supervisor


@dataclass(frozen=True)
class FamilyMember:
    """Spouses / family members visiting separately are one customer: the first receiver wins."""

    first_receiver: str
    claimant: str


@dataclass(frozen=True)
class OldCustomerReferral:
    original_receiver: str  # who received the old customer
    claimant: str


@dataclass(frozen=True)
class ManagerCase:
    new_owner: str
    reason: str
    owner: str | None = None


ConflictCase = CustomerChoice | Complaint | FamilyMember | OldCustomerReferral | ManagerCase


@dataclass(frozen=True)
class Decision:
    """Outcome of a conflict. ``new_owner`` None means no rule decides: a manager must, with a reason."""

    new_owner: str | None
    rule: ConflictRule
    reason_required: bool
    split: Split | None  # to record on the lead for when the deal closes; None = nothing to record
    explanation: str


def decide_conflict(case: ConflictCase, policy: LeadPolicy | None = None) -> Decision:
    policy = policy or LeadPolicy()
    if isinstance(case, CustomerChoice):
        if case.chosen == case.owner:
            return Decision(
                case.owner, ConflictRule.CUSTOMER_CHOICE, False, None, "customer chose the owner (rule 1)"
            )
        split = commission_split(ChoseOtherRep(case.chosen, case.owner, case.owner_protected), policy)
        why = (
            "customer chose another rep while the owner's protection was valid (rule 2)"
            if case.owner_protected
            else "customer chose another rep; owner's protection had expired, owner gets nothing (rule 2)"
        )
        return Decision(case.chosen, ConflictRule.CUSTOMER_CHOICE, False, split, why)
    if isinstance(case, Complaint):
        if not case.verified:
            return Decision(
                None,
                ConflictRule.MANAGER_DECISION,
                True,
                None,
                "complaint not verified by the supervisor: a manager decides with a written reason",
            )
        return Decision(
            case.claimant,
            ConflictRule.VERIFIED_COMPLAINT,
            False,
            commission_split(SoleCredit(case.claimant), policy),
            "verified complaint against the owner: the owner has no claim (rule 4)",
        )
    if isinstance(case, FamilyMember):
        return Decision(
            case.first_receiver,
            ConflictRule.FAMILY_MEMBER,
            False,
            None,
            "family members count as one customer: the first receiver keeps it (rule 11)",
        )
    if isinstance(case, OldCustomerReferral):
        return Decision(
            case.original_receiver,
            ConflictRule.OLD_CUSTOMER_REFERRAL,
            False,
            None,
            "a customer brought by an old customer belongs to the original receiver (rule 10)",
        )
    if isinstance(case, ManagerCase):
        if not case.reason or not case.reason.strip():
            raise RuleViolation("a manager decision needs a written reason")
        return Decision(case.new_owner, ConflictRule.MANAGER_DECISION, True, None, case.reason.strip())
    raise TypeError(f"unknown conflict case {case!r}")


def claim_decision(state: ProtectionState, claimant: str, reason: str) -> Decision:
    """A claim on a lead with no qualifying contact for the claimable period, approved by a manager."""
    if state.status != ProtectionStatus.CLAIMABLE:
        raise RuleViolation(
            f"lead is {state.status.value}, claimable only from {state.claimable_at.isoformat()}"
        )
    if claimant == state.owner:
        raise RuleViolation("the owner cannot claim their own lead")
    if not reason or not reason.strip():
        raise RuleViolation("a claim needs a written reason")
    return Decision(claimant, ConflictRule.CLAIM_AFTER_INACTIVITY, True, None, reason.strip())


@dataclass(frozen=True)
class OwnerChange:
    """One entry of the lead's ownership history: every change carries actor, rule and reason."""

    from_owner: str | None
    to_owner: str
    actor: str
    rule: str
    reason: str
    at: datetime


def owner_change(
    decision: Decision, current_owner: str | None, actor: str, at: datetime, reason: str | None = None
) -> OwnerChange | None:
    """The history entry for applying ``decision``; None when the owner does not change."""
    require_aware(at, "at")
    if decision.new_owner is None:
        raise RuleViolation(
            "no rule decides this conflict: a manager decision with a written reason is needed"
        )
    if not actor:
        raise RuleViolation("an owner change needs an actor")
    text = (reason or "").strip() or decision.explanation
    if decision.reason_required and not text:
        raise RuleViolation("this owner change needs a written reason")
    if decision.new_owner == current_owner:
        return None
    return OwnerChange(current_owner, decision.new_owner, actor, decision.rule.value, text, at)
