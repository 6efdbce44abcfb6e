"""Event handlers of the accounts service: one function per consumed event type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import String, bindparam, exists, or_, select
from sqlalchemy.orm import Session

from eventbus import Envelope, Subscription
from servicedb import writes

from . import domain
from .companies import company_key
from .credit.handlers import subscriptions as credit_subscriptions
from .events import LEAD_CONVERTED, LeadConvertedIn
from .models import Account, LeadLink
from .points.events import LEAD_REGISTERED, VISIT_RECORDED, LeadRegisteredIn, VisitRecordedIn
from .points.service import note_referral, referral_attended
from .records import Emit, link_lead, open_account


@dataclass(frozen=True)
class HandlerDeps:
    """What handlers need besides the session: the time, and the bus's ``emit`` so events they
    cause go to the outbox in the handler's own transaction."""

    clock: Callable[[], datetime]
    emit: Emit


def on_lead_converted(session: Session, event: Envelope, data: dict[str, Any], *,
                      deps: HandlerDeps) -> None:
    """Open the customer account for a converted lead, once per lead — or, when an active
    account already is the lead's company, link the lead to it instead of opening a twin.

    The inbox already drops a redelivered event; the source_lead_id check and the lead_links
    row (both unique per lead, if two events race) also make a *different* event for the same
    lead a no-op.
    """
    if writes.scalar(session, _HANDLED_LEAD, {"lead_id": data["lead_id"]}):
        return
    twin = _active_account_of_company(session, data["company"])
    if twin is not None:
        link_lead(session, deps.emit, twin, at=deps.clock(), actor=data["converted_by"],
                  lead_id=data["lead_id"], lead_code=data["code"], lead_name=data["name"],
                  lead_owner_id=data["owner_id"])
        return
    open_account(
        session, deps.emit, at=deps.clock(), actor=data["converted_by"],
        reason=domain.conversion_reason(data["code"]),
        name=domain.account_name(data["name"], data["company"]), company=data["company"],
        phone=data["phone"], email=data["email"], owner_id=data["owner_id"],
        owner_team=data["owner_team"], source_lead_id=data["lead_id"],
        source_lead_code=data["code"], source_lead_name=data["name"],
        contacts=lead_contacts(data),
    )


def lead_contacts(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The lead's contact persons for the archive card: the first is the primary contact (the
    lead's own person when the event lists none); others are secondary."""
    people = [c for c in data.get("contacts") or [] if isinstance(c, dict) and c.get("name")]
    if not people:
        people = [{"name": data["name"], "phone": data["phone"], "email": data["email"]}]
    out = []
    for i, c in enumerate(people[:50]):
        phone = c.get("phone")
        out.append({"category": "primary" if i == 0 else "secondary",
                    "name": str(c["name"])[:100], "phone": str(phone)[:32] if phone else None,
                    "email": str(c["email"])[:254] if c.get("email") else None})
    return out


def on_lead_registered(session: Session, event: Envelope, data: dict[str, Any], *,
                       deps: HandlerDeps) -> None:
    """A lead referred by an account: remember it, so its attendance earns points (§2.8)."""
    if data.get("referrer_type") == "account" and data.get("referrer_id"):
        note_referral(session, lead_id=data["lead_id"], lead_code=data["code"],
                      account_id=data["referrer_id"], at=deps.clock())


def on_visit_recorded(session: Session, event: Envelope, data: dict[str, Any], *,
                      deps: HandlerDeps) -> None:
    """A referred lead came (a recorded visit): its referrer earns the referral points, once."""
    referral_attended(session, deps.emit, lead_id=data["lead_id"], at=deps.clock())


def _active_account_of_company(session: Session, company: str | None) -> Account | None:
    """The oldest active account filed under the same normalized company, if any."""
    key = company_key(company)
    if key is None:
        return None  # a person, not a company: nothing to link by
    # Usually there is none: one prebuilt statement finds (and locks) it, the ORM loads it
    # only when there is one.
    account_id = writes.scalar(session, _TWIN, {"key": key, "status": domain.ACTIVE})
    return session.get(Account, account_id) if account_id is not None else None


_LEAD = bindparam("lead_id", type_=String())
# Already an account of this lead, or a link of it to another: a different event for the same
# lead is then a no-op.
_HANDLED_LEAD = select(or_(exists().where(Account.source_lead_id == _LEAD),
                           exists().where(LeadLink.lead_id == _LEAD)))
_TWIN = (select(Account.id)
         .where(Account.company_key == bindparam("key"), Account.status == bindparam("status"))
         .order_by(Account.created_at, Account.id).limit(1).with_for_update())


def subscriptions(deps: HandlerDeps) -> dict[str, Subscription]:
    return {
        LEAD_CONVERTED: Subscription(partial(on_lead_converted, deps=deps), LeadConvertedIn().load),
        LEAD_REGISTERED: Subscription(partial(on_lead_registered, deps=deps),
                                      LeadRegisteredIn().load),
        VISIT_RECORDED: Subscription(partial(on_visit_recorded, deps=deps), VisitRecordedIn().load),
        **credit_subscriptions(deps.clock, deps.emit),
    }
