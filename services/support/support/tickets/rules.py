"""Ticket rules, pure: the lifecycle, who may see and work a ticket, repeat-contact matching.

Lifecycle (issue 10): new → assigned → in progress → waiting for customer (SLA paused) →
resolved → closed (after the return visit, or a timeout), and reopen. Each action names the
statuses it may leave; anything else is an illegal transition (409).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from authn import (
    ADMIN,
    GROUP_GM,
    INTEGRATION,
    QUALITY_INSPECTOR,
    SALES_GM,
    SALES_MANAGER,
    SALES_OPS_MANAGER,
    SALES_REP,
    SALES_VP,
    SERVICE_CLERK,
    SUPPORT_AGENT,
    SUPPORT_SUPERVISOR,
    TECHNICIAN,
    Principal,
)

NEW, ASSIGNED, IN_PROGRESS, WAITING, RESOLVED, CLOSED = (
    "new",
    "assigned",
    "in_progress",
    "waiting_customer",
    "resolved",
    "closed",
)
ACTIVE = (NEW, ASSIGNED, IN_PROGRESS, WAITING)
STATUSES = (*ACTIVE, RESOLVED, CLOSED)

# action → (statuses it may leave, status it leads to)
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "assign": (frozenset({NEW, ASSIGNED, IN_PROGRESS}), ASSIGNED),
    "start": (frozenset({NEW, ASSIGNED}), IN_PROGRESS),
    "wait": (frozenset({ASSIGNED, IN_PROGRESS}), WAITING),
    "resume": (frozenset({WAITING}), IN_PROGRESS),
    "resolve": (frozenset({NEW, ASSIGNED, IN_PROGRESS, WAITING}), RESOLVED),
    "close": (frozenset({RESOLVED}), CLOSED),
    "reopen": (frozenset({RESOLVED, CLOSED}), IN_PROGRESS),
}
CHANNELS = ("phone", "email", "walk_in", "web", "wechat", "sms", "on_site", "api")

# Who sees every ticket (read): the desk's leadership, the managers of the complaint chain,
# the service clerk who writes service facts back to the archive, and integrations.
SEE_ALL = (
    ADMIN,
    SUPPORT_SUPERVISOR,
    INTEGRATION,
    SALES_OPS_MANAGER,
    SALES_VP,
    SALES_GM,
    GROUP_GM,
    SERVICE_CLERK,
)
WORK_ALL = (ADMIN, SUPPORT_SUPERVISOR)
# Who may register a contact as a ticket (the first responder rule: any employee, §3.3).
OPENERS = (
    ADMIN,
    SUPPORT_AGENT,
    SUPPORT_SUPERVISOR,
    TECHNICIAN,
    QUALITY_INSPECTOR,
    SERVICE_CLERK,
    SALES_REP,
    SALES_MANAGER,
    INTEGRATION,
)
READERS = tuple(dict.fromkeys((*SEE_ALL, *OPENERS)))


class IllegalTransition(ValueError):
    def __init__(self, action: str, status: str) -> None:
        self.action, self.status = action, status
        super().__init__(f"cannot {action} a ticket that is {status}")


def next_status(status: str, action: str) -> str:
    """The status ``action`` leads to from ``status``; IllegalTransition if it may not."""
    if action not in ACTIONS:
        raise IllegalTransition(action, status)
    allowed, to = ACTIONS[action]
    if status not in allowed:
        raise IllegalTransition(action, status)
    return to


@dataclass(frozen=True)
class TicketFacts:
    """What decides who may see and work one ticket."""

    owner_id: str
    assignee_id: str | None
    status: str
    queue: str
    kind: str
    account_owner_id: str | None
    account_team: str | None
    technician_ids: frozenset[str] = frozenset()


def sees_all(principal: Principal) -> bool:
    return principal.has_any(*SEE_ALL)


def can_view(principal: Principal, t: TicketFacts, complaint_kinds: Iterable[str] = ()) -> bool:
    """Object-level read access (a ticket one may not see answers 404)."""
    if sees_all(principal):
        return True
    me = principal.sub
    if principal.has_any(SUPPORT_AGENT) and (
        me in (t.owner_id, t.assignee_id) or (t.assignee_id is None and t.status in ACTIVE)
    ):
        return True
    if principal.has_any(TECHNICIAN) and (me == t.assignee_id or me in t.technician_ids):
        return True
    if principal.has_any(QUALITY_INSPECTOR) and (
        t.queue == "quality" or me == t.assignee_id or t.kind in complaint_kinds
    ):
        return True
    if principal.has_any(SALES_MANAGER) and principal.team and t.account_team == principal.team:
        return True
    if principal.has_any(SALES_REP, SALES_MANAGER) and t.account_owner_id == me:
        return True
    return me == t.owner_id  # whoever registered a ticket keeps seeing it while they own it


def can_work(principal: Principal, t: TicketFacts, complaint_kinds: Iterable[str] = ()) -> bool:
    """Change the ticket (transitions, notes, hand-over). Reps and managers only read (403)."""
    if principal.has_any(*WORK_ALL):
        return True
    me = principal.sub
    if principal.has_any(SUPPORT_AGENT) and (
        me in (t.owner_id, t.assignee_id) or (t.assignee_id is None and t.status in ACTIVE)
    ):
        return True
    if principal.has_any(TECHNICIAN) and (me == t.assignee_id or me in t.technician_ids):
        return True
    return principal.has_any(QUALITY_INSPECTOR) and can_view(principal, t, complaint_kinds)


def can_assign_to(principal: Principal, assignee_id: str) -> bool:
    """Supervisors and admins assign anyone; an agent may take a ticket for themself."""
    return principal.has_any(*WORK_ALL) or (principal.has_any(SUPPORT_AGENT) and assignee_id == principal.sub)


def can_open_for(principal: Principal, account_owner_id: str | None, account_team: str | None) -> bool:
    """A ticket is opened for a known account; reps and managers only for accounts they may see
    (an unknown account and someone else's get the same 422, so ids reveal nothing)."""
    if account_owner_id is None:
        return False
    if principal.has_any(*(r for r in OPENERS if r not in (SALES_REP, SALES_MANAGER))):
        return True
    if principal.has_any(SALES_MANAGER) and principal.team and account_team == principal.team:
        return True
    return principal.has_any(SALES_REP, SALES_MANAGER) and account_owner_id == principal.sub


def one_stop(
    action: str, status: str, actor: str, owner_id: str, handed_over: bool, assigned_to_other: bool
) -> bool:
    """Closed at first contact: resolved straight from ``new`` by the first responder, who never
    handed it over nor passed it to anyone else (§3.3 「能够一次办结的事项,必须一次办结」)."""
    return (
        action == "resolve"
        and status == NEW
        and actor == owner_id
        and not handed_over
        and not assigned_to_other
    )


def normalize_phone(phone: str | None) -> str | None:
    """Digits only, with a China mobile's +86 / 0086 dropped, so 138-0013-8000 and
    +86 138 0013 8000 are the same caller."""
    if not phone:
        return None
    digits = "".join(ch for ch in phone if ch.isdigit())
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits or None
