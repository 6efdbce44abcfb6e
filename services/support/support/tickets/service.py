"""The one home of every ticket state change: open (or attach a repeat contact), transitions,
hand-over; each loads, checks the rules, writes, bumps the version, writes history and emits
its event in the caller's transaction. Also the queries behind the ticket lists.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, union_all
from sqlalchemy.orm import Session, sessionmaker

from authn import Principal
from eventbus import ServiceBus
from httpapi.paging import newest_first
from servicedb import next_code

from ..appointments.models import Appointment
from ..db import CodeCounter
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..policy.rules import SupportPolicy
from ..policy.service import current_policy
from ..readmodel import service as accounts
from ..readmodel.models import KnownAccount
from ..sla import service as sla
from . import events, rules
from .models import Ticket, TicketContact, TicketHistory

SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """Who acts: a caller or the system (timers)."""

    id: str
    principal: Principal | None = None


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.sub, principal)


def system() -> Actor:
    return Actor(SYSTEM)


# -- reading ----------------------------------------------------------------------------------


def facts(session: Session, ticket: Ticket) -> rules.TicketFacts:
    account = session.get(KnownAccount, ticket.account_id)
    technicians = frozenset(
        session.scalars(select(Appointment.technician_id).where(Appointment.ticket_id == ticket.id))
    )
    return rules.TicketFacts(
        owner_id=ticket.owner_id,
        assignee_id=ticket.assignee_id,
        status=ticket.status,
        queue=ticket.queue,
        kind=ticket.kind,
        account_owner_id=account.owner_id if account else None,
        account_team=account.owner_team if account else None,
        technician_ids=technicians,
    )


def scope_branches(principal: Principal, policy: SupportPolicy) -> list[ColumnElement[bool]] | None:
    """The SQL twin of ``rules.can_view``: None for everything, else conditions whose union is
    what the caller may see. Each is served by one index, so a queue is a few short scans."""
    if rules.sees_all(principal):
        return None
    me = principal.sub
    branches: dict[str, ColumnElement[bool]] = {"owner": Ticket.owner_id == me}
    if principal.has_any("support_agent", "technician", "quality_inspector"):
        branches["assignee"] = Ticket.assignee_id == me
    if principal.has_any("support_agent"):
        branches["unassigned"] = and_(Ticket.assignee_id.is_(None), Ticket.status.in_(rules.ACTIVE))
    if principal.has_any("technician"):
        branches["visits"] = Ticket.id.in_(
            select(Appointment.ticket_id).where(Appointment.technician_id == me)
        )
    if principal.has_any("quality_inspector"):
        branches["quality"] = Ticket.queue == "quality"
        branches["complaints"] = Ticket.kind.in_(policy.complaint_kinds)
    if principal.has_any("sales_manager") and principal.team:
        branches["team"] = Ticket.account_id.in_(
            select(KnownAccount.account_id).where(KnownAccount.owner_team == principal.team)
        )
    if principal.has_any("sales_rep", "sales_manager"):
        branches["accounts"] = Ticket.account_id.in_(
            select(KnownAccount.account_id).where(KnownAccount.owner_id == me)
        )
    return list(branches.values())


def list_tickets(
    session: Session, principal: Principal, filters: dict[str, Any], query: dict[str, Any]
) -> list[tuple[Ticket, KnownAccount | None]]:
    """One keyset page (newest first, ``limit + 1`` rows) of the tickets the caller may see, each
    with its account from the read model.

    Each visibility branch is its own index-ordered query of keys only, cut at the page size, all
    in one UNION ALL round trip; the keys are merged here and only the page's tickets are loaded.
    So an agent's queue (own + unassigned) never sorts the whole table."""
    conditions: list[ColumnElement[bool]] = []
    for name in ("account_id", "kind", "queue", "status", "owner_id", "assignee_id"):
        if filters.get(name):
            conditions.append(getattr(Ticket, name) == filters[name])
    if filters.get("active"):
        conditions.append(Ticket.status.in_(rules.ACTIVE))
    with_accounts: Any = select(Ticket, KnownAccount).outerjoin(
        KnownAccount, KnownAccount.account_id == Ticket.account_id
    )
    # The policy matters only to the quality inspector's branch (the complaint kinds).
    policy = current_policy(session) if principal.has_any("quality_inspector") else SupportPolicy()
    branches = scope_branches(principal, policy)
    if branches is None:
        stmt = newest_first(with_accounts.where(*conditions), Ticket.created_at, Ticket.id, query)
        return [(t, a) for t, a in session.execute(stmt)]
    parts = []
    for branch in branches:
        key_query: Any = select(Ticket.created_at, Ticket.id).where(branch, *conditions)
        parts.append(select(newest_first(key_query, Ticket.created_at, Ticket.id, query).subquery()))
    keys = {(at, ticket_id) for at, ticket_id in session.execute(union_all(*parts))}
    page_keys = sorted(keys, reverse=True)[: query["limit"] + 1]
    ids = [ticket_id for _, ticket_id in page_keys]
    loaded = (
        {t.id: (t, a) for t, a in session.execute(with_accounts.where(Ticket.id.in_(ids)))} if ids else {}
    )
    return [loaded[ticket_id] for ticket_id in ids if ticket_id in loaded]


def visible(
    session: Session, ticket_id: str, principal: Principal, *, work: bool = False, lock: bool = False
) -> Ticket:
    """The ticket if the caller may see it (else NotFound, so ids reveal nothing); with ``work``,
    also may change it (else Forbidden)."""
    ticket = session.get(Ticket, ticket_id, with_for_update=lock) if lock else session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}")
    policy = current_policy(session)
    f = facts(session, ticket)
    if not rules.can_view(principal, f, policy.complaint_kinds):
        raise NotFound(f"no ticket {ticket_id}")
    if work and not rules.can_work(principal, f, policy.complaint_kinds):
        raise Forbidden("you may read this ticket but not change it")
    return ticket


def history(session: Session, ticket_id: str) -> list[TicketHistory]:
    return list(
        session.scalars(
            select(TicketHistory).where(TicketHistory.ticket_id == ticket_id).order_by(TicketHistory.id)
        )
    )


def contacts(session: Session, ticket_id: str) -> list[TicketContact]:
    return list(
        session.scalars(
            select(TicketContact).where(TicketContact.ticket_id == ticket_id).order_by(TicketContact.id)
        )
    )


# -- changes ----------------------------------------------------------------------------------


def _history(
    session: Session,
    ticket: Ticket,
    actor: str,
    action: str,
    now: datetime,
    from_status: str | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    session.add(
        TicketHistory(
            ticket_id=ticket.id,
            at=now,
            actor=actor,
            action=action,
            from_status=from_status,
            to_status=ticket.status,
            note=note,
            data=data,
        )
    )


def _touch(ticket: Ticket, now: datetime) -> None:
    ticket.version += 1
    ticket.updated_at = now


def find_open_for(session: Session, account_id: str, phone: str | None, kind: str) -> Ticket | None:
    """The customer's newest active ticket of this kind: same account, or same caller's phone."""
    who = Ticket.account_id == account_id
    if phone:
        who = or_(who, Ticket.phone == phone)
    return session.scalars(
        select(Ticket)
        .where(who, Ticket.kind == kind, Ticket.status.in_(rules.ACTIVE))
        .order_by(Ticket.created_at.desc())
        .limit(1)
    ).first()


def open_ticket(
    session: Session, bus: ServiceBus, principal: Principal, body: dict[str, Any], now: datetime
) -> tuple[Ticket, bool]:
    """Register a customer's contact: a new ticket owned by its first responder, or — when the
    same customer (account or phone) already has an active ticket of this kind and the caller did
    not say it is a new matter — a repeat contact on that ticket (the customer never calls twice).
    Returns the ticket and whether the contact was attached to an existing one."""
    policy = current_policy(session)
    account = session.get(KnownAccount, body["account_id"])
    if account is None or not rules.can_open_for(principal, account.owner_id, account.owner_team):
        raise Invalid({"account_id": "Unknown account."})
    kind = body["kind"]
    mode = body.get("repair_mode")
    fee = body.get("repair_fee")
    if kind == "repair":
        mode = mode or "onsite"
        if mode == "paid" and fee is None:
            raise Invalid({"repair_fee": "A paid repair needs the fee the customer owes."})
        if mode != "paid" and fee is not None:
            raise Invalid({"repair_fee": "Only a paid repair has a fee."})
    elif mode is not None or fee is not None:
        raise Invalid({"repair_mode": "Only repairs have a repair mode and fee."})
    phone = rules.normalize_phone(body.get("phone")) or account.phone
    channel = body.get("channel") or ("api" if principal.kind == "apikey" else "phone")
    if not body.get("new_matter"):
        existing = find_open_for(session, account.account_id, phone, kind)
        if existing is not None:
            record_contact(
                session, bus, existing, actor_of(principal), channel, phone, body.get("description"), now
            )
            return existing, True
    ticket = Ticket(
        id=str(uuid.uuid4()),
        code=next_code(session, CodeCounter, "T"),
        account_id=account.account_id,
        kind=kind,
        repair_mode=mode,
        repair_fee=Decimal(fee).quantize(Decimal("0.01")) if fee is not None else None,
        currency=policy.currency,
        subject=body["subject"],
        description=body.get("description"),
        status=rules.NEW,
        priority=body.get("priority") or "normal",
        queue=policy.queue_for(kind, mode),
        channel=channel,
        phone=phone,
        created_by=principal.sub,
        owner_id=principal.sub,
        assignee_id=None,
        major=policy.is_major(kind, bool(body.get("major"))),
        one_stop=False,
        repeat_contacts=0,
        escalation_level=0,
        reopened=0,
        follow_up_of=body.get("follow_up_of"),
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(ticket)
    session.flush()
    _history(
        session,
        ticket,
        principal.sub,
        "open",
        now,
        note=body.get("description"),
        data={"queue": ticket.queue, "channel": channel},
    )
    session.add(
        TicketContact(
            ticket_id=ticket.id,
            at=now,
            by=principal.sub,
            channel=channel,
            repeat=False,
            phone=phone,
            note=None,
        )
    )
    sla.start_clocks(session, ticket, policy, now)
    bus.emit(
        session,
        events.TICKET_OPENED,
        events.opened_payload(ticket, account.owner_id, accounts.customer(account)),
        subject=ticket.id,
    )
    if ticket.major:
        escalate_major(session, bus, ticket, policy, principal.sub, now)
    if body.get("resolution"):
        transition(session, bus, ticket, actor_of(principal), "resolve", body["resolution"], now)
    return ticket, False


def escalate_major(
    session: Session, bus: ServiceBus, ticket: Ticket, policy: SupportPolicy, actor: str, now: datetime
) -> None:
    """A major matter goes to the general manager at once (§3.3 「立即向总经理汇报」)."""
    _history(
        session,
        ticket,
        actor,
        "escalate",
        now,
        ticket.status,
        note=f"major matter: {policy.major_role} told at once",
        data={"role": policy.major_role},
    )
    bus.emit(
        session,
        events.TICKET_ESCALATED,
        events.escalated_payload(ticket, 0, policy.major_role, None, "major matter", now),
        subject=ticket.id,
    )


def create_follow_up(
    session: Session,
    bus: ServiceBus,
    account_id: str,
    origin: Ticket | None,
    actor: str,
    subject: str,
    description: str | None,
    now: datetime,
) -> Ticket:
    """A follow-up ticket for the supervisor (e.g. after an 一般/不满意 return visit)."""
    policy = current_policy(session)
    account = session.get(KnownAccount, account_id)
    ticket = Ticket(
        id=str(uuid.uuid4()),
        code=next_code(session, CodeCounter, "T"),
        account_id=account_id,
        kind="follow_up",
        currency=policy.currency,
        subject=subject[:200],
        description=description,
        status=rules.NEW,
        priority="high",
        queue=policy.queue_for("follow_up"),
        channel="phone",
        phone=origin.phone if origin else None,
        created_by=actor,
        owner_id=actor,
        assignee_id=None,
        major=False,
        one_stop=False,
        repeat_contacts=0,
        escalation_level=0,
        reopened=0,
        follow_up_of=origin.id if origin else None,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(ticket)
    session.flush()
    _history(
        session,
        ticket,
        actor,
        "open",
        now,
        note=description,
        data={"queue": ticket.queue, "follow_up_of": ticket.follow_up_of},
    )
    sla.start_clocks(session, ticket, policy, now)
    bus.emit(
        session,
        events.TICKET_OPENED,
        events.opened_payload(ticket, account.owner_id if account else None, accounts.customer(account)),
        subject=ticket.id,
    )
    bus.emit(
        session,
        events.TICKET_ESCALATED,
        events.escalated_payload(ticket, 1, "support_supervisor", None, "return-visit follow-up", now),
        subject=ticket.id,
    )
    return ticket


def transition(
    session: Session,
    bus: ServiceBus,
    ticket: Ticket,
    actor: Actor,
    action: str,
    note: str | None,
    now: datetime,
    assignee_id: str | None = None,
) -> str:
    """Apply a lifecycle action (IllegalTransition → 409); returns the status it left."""
    to = rules.next_status(ticket.status, action)
    if action == "assign":
        if not assignee_id:
            raise Invalid({"assignee_id": "Name who the ticket is assigned to."})
        if actor.principal is not None and not rules.can_assign_to(actor.principal, assignee_id):
            raise Forbidden("only a supervisor assigns a ticket to someone else")
    elif assignee_id is not None:
        raise Invalid({"assignee_id": "Only the assign action names an assignee."})
    if action in ("resolve", "reopen", "wait") and not note:
        raise Invalid({"note": f"A {action} needs a note (what was done, or why)."})
    policy = current_policy(session)
    from_status = ticket.status
    if rules.one_stop(
        action,
        from_status,
        actor.id,
        ticket.owner_id,
        handed_over=ticket.owner_id != ticket.created_by,
        assigned_to_other=ticket.assignee_id not in (None, ticket.owner_id),
    ):
        ticket.one_stop = True
    ticket.status = to
    if action == "assign":
        ticket.assignee_id = assignee_id
    if to != rules.ASSIGNED and ticket.first_responded_at is None:
        ticket.first_responded_at = now
    if to == rules.RESOLVED:
        ticket.resolved_at = now
    elif to == rules.CLOSED:
        ticket.closed_at = now
    elif action == "reopen":
        ticket.reopened += 1
        ticket.closed_at = None
        ticket.one_stop = False
    _touch(ticket, now)
    _history(
        session,
        ticket,
        actor.id,
        action,
        now,
        from_status,
        note,
        {"assignee_id": assignee_id} if assignee_id else None,
    )
    sla.on_transition(session, ticket, from_status, to, policy, now)
    if action == "assign":
        bus.emit(
            session, events.TICKET_ASSIGNED, events.assigned_payload(ticket, actor.id, now), subject=ticket.id
        )
    bus.emit(
        session,
        events.TICKET_STATUS_CHANGED,
        events.status_changed_payload(ticket, from_status, actor.id, note, now, action),
        subject=ticket.id,
    )
    return from_status


def hand_over(
    session: Session, bus: ServiceBus, ticket: Ticket, actor: Actor, to_id: str, reason: str, now: datetime
) -> None:
    """The first responder hands the ticket to someone else, with a record (to whom, why)."""
    if ticket.status == rules.CLOSED:
        raise Conflict("a closed ticket cannot be handed over")
    principal = actor.principal
    if principal is not None and actor.id != ticket.owner_id and not principal.has_any(*rules.WORK_ALL):
        raise Forbidden("only the ticket's owner or a supervisor hands it over")
    if to_id == ticket.owner_id:
        raise Invalid({"to_id": "The ticket already belongs to them."})
    from_id = ticket.owner_id
    ticket.owner_id = to_id
    _touch(ticket, now)
    _history(
        session,
        ticket,
        actor.id,
        "hand_over",
        now,
        ticket.status,
        reason,
        {"from_id": from_id, "to_id": to_id},
    )
    bus.emit(
        session,
        events.TICKET_HANDED_OVER,
        events.handed_over_payload(ticket, from_id, reason, now),
        subject=ticket.id,
    )


def record_contact(
    session: Session,
    bus: ServiceBus,
    ticket: Ticket,
    actor: Actor,
    channel: str,
    phone: str | None,
    note: str | None,
    now: datetime,
) -> None:
    """The customer contacted us again about this ticket: count it and alert the owner."""
    if ticket.status == rules.CLOSED:
        raise Conflict("the ticket is closed: open a new one")
    session.add(
        TicketContact(
            ticket_id=ticket.id,
            at=now,
            by=actor.id,
            channel=channel,
            repeat=True,
            phone=rules.normalize_phone(phone),
            note=note,
        )
    )
    ticket.repeat_contacts += 1
    _touch(ticket, now)
    _history(session, ticket, actor.id, "repeat_contact", now, ticket.status, note, {"channel": channel})
    bus.emit(
        session,
        events.TICKET_REPEAT_CONTACT,
        events.repeat_contact_payload(ticket, channel, ticket.repeat_contacts, now),
        subject=ticket.id,
    )


def set_priority(
    session: Session,
    bus: ServiceBus,
    ticket: Ticket,
    actor: Actor,
    priority: str,
    note: str | None,
    now: datetime,
) -> None:
    if ticket.status == rules.CLOSED:
        raise Conflict("a closed ticket keeps its priority")
    if priority == ticket.priority:
        return
    old = ticket.priority
    ticket.priority = priority
    _touch(ticket, now)
    _history(session, ticket, actor.id, "priority", now, ticket.status, note, {"from": old, "to": priority})
    sla.retarget(session, ticket, current_policy(session), now)


# -- timers -----------------------------------------------------------------------------------


def run_auto_close(
    session_factory: sessionmaker[Session], bus: ServiceBus, now: datetime, batch: int = 200
) -> int:
    """Close resolved tickets whose return-visit window has run out (the lifecycle's timeout)."""
    closed = 0
    while True:
        with session_factory() as session, session.begin():
            policy = current_policy(session)
            cutoff = now - timedelta(days=policy.auto_close_days)
            tickets = list(
                session.scalars(
                    select(Ticket)
                    .where(Ticket.status == rules.RESOLVED, Ticket.resolved_at <= cutoff)
                    .order_by(Ticket.resolved_at)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            )
            for ticket in tickets:
                transition(
                    session,
                    bus,
                    ticket,
                    system(),
                    "close",
                    f"closed automatically {policy.auto_close_days} days after resolution",
                    now,
                )
            closed += len(tickets)
        if len(tickets) < batch:
            return closed


def by_ids(session: Session, ids: Iterable[str]) -> dict[str, Ticket]:
    ids = list(ids)
    return {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids)))} if ids else {}
