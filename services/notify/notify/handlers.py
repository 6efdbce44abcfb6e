"""Event handlers of the notify service: one function per consumed event type."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from eventbus import Envelope, Subscription
from eventbus.topology import topic_matches

from . import domain
from .channels import inapp
from .events import ACCOUNT_LINKED, ACCOUNT_OPENED, AccountLinkedIn, AccountOpenedIn
from .greetings.handlers import observe_account
from .greetings.service import customer_card
from .policy.service import current_policy
from .reminders import rules as reminder_rules
from .reminders import service as reminders
from .reminders.events import CONSUMED, loader_for
from .webhooks import service as webhooks

log = logging.getLogger(__name__)
# Other services' events that outside systems may receive through webhooks.
PAYMENT_OVERDUE = "accounts.payment.overdue.v1"
WEBHOOK_BINDINGS = ("leads.#", "accounts.#", "support.#")

Emit = Callable[[Session, str, dict[str, Any], str | None], Envelope]
_KEYS = uuid.UUID("5f1d3c2a-7b6e-5a4d-9c8b-1e2f3a4b5c6d")


@dataclass(frozen=True)
class HandlerDeps:
    """What handlers need besides the session: the time, and the bus's ``emit`` so events they
    cause go to the outbox in the handler's own transaction."""

    clock: Callable[[], datetime]
    emit: Emit
    wake_webhooks: Callable[[], None] = lambda: None


def fan_out(session: Session, event: Envelope, deps: HandlerDeps) -> None:
    """Keep the customer card (accounts events), and queue the event for every webhook endpoint
    that wants it; the dispatcher is woken when this transaction commits, so delivery starts
    within milliseconds."""
    fan_out_many(session, [event], deps)


def fan_out_many(session: Session, events: list[Envelope], deps: HandlerDeps) -> None:
    """``fan_out`` for a run of events: the webhook bookkeeping is two statements whatever
    their number (every event of every service passes through here)."""
    now = deps.clock()
    for event in events:
        observe_account(session, event.type, event.data, now)
    if webhooks.record_events(session, [event.to_dict() for event in events], now):
        sa_event.listen(session, "after_commit", lambda _s: deps.wake_webhooks(), once=True)


def on_any(session: Session, events: list[tuple[Envelope, dict[str, Any]]], *, deps: HandlerDeps) -> None:
    """Events notify does not act on itself still go out to webhook subscribers (a batched
    subscription: the consumer hands over a batch's consecutive such events together)."""
    fan_out_many(session, [event for event, _ in events], deps)


def notify(session: Session, event: Envelope, draft: domain.Draft, deps: HandlerDeps) -> None:
    """Create ``draft`` once per (event, recipient) and announce it."""
    inapp.deliver(session, event.id, draft, deps.clock(), deps.emit)


def on_account_opened(session: Session, event: Envelope, data: dict[str, Any], *, deps: HandlerDeps) -> None:
    """Tell the owner their converted lead now has an account."""
    fan_out(session, event, deps)
    draft = domain.for_account_opened(data)
    if draft is not None:
        notify(session, event, draft, deps)


def on_account_linked(session: Session, event: Envelope, data: dict[str, Any], *, deps: HandlerDeps) -> None:
    """Tell the lead's owner their converted lead was linked to an existing account."""
    fan_out(session, event, deps)
    notify(session, event, domain.for_account_linked(data), deps)


def on_reminder(session: Session, event: Envelope, data: dict[str, Any], *, deps: HandlerDeps) -> None:
    """Leads cadence, support timers and credit events → reminders to the right people; keyed
    by the event id (and the reminder key when the producer gives one)."""
    fan_out(session, event, deps)
    try:  # tolerant: a payload notify cannot read still reaches webhook subscribers
        data = loader_for(event.type).load(data)
    except ValidationError as exc:
        log.warning("cannot read %s %s for reminders: %s", event.type, event.id, exc.messages)
        return
    policy = current_policy(session)
    plan = reminder_rules.plan(event.type, data, company=policy.company_name)
    if plan is None:
        return
    sender = "客服部"
    if event.type == PAYMENT_OVERDUE:  # 催款通知单: the customer is told too, by finance (§4.1)
        sender = "财务部"
        card = customer_card(session, str(data.get("account_id")))
        if card is not None:
            plan.recipients.append(card)
    key = data.get("reminder_key")
    reminders.deliver(
        session,
        str(uuid.uuid5(_KEYS, key)) if key else event.id,
        plan,
        deps.clock(),
        deps.emit,
        sender_name=sender,
    )


class PatternSubscriptions(dict[str, Subscription]):
    """Exact types first, then the first topic pattern that matches (the keys are the queue's
    bindings, some of them patterns such as ``support.#``)."""

    def get(self, key: str, default: Any = None) -> Any:
        if key in self:
            return self[key]
        for pattern, sub in self.items():
            if ("*" in pattern or "#" in pattern) and topic_matches(pattern, key):
                return sub
        return default


def subscriptions(deps: HandlerDeps) -> PatternSubscriptions:
    subs = PatternSubscriptions(
        {
            ACCOUNT_OPENED: Subscription(partial(on_account_opened, deps=deps), AccountOpenedIn().load),
            ACCOUNT_LINKED: Subscription(partial(on_account_linked, deps=deps), AccountLinkedIn().load),
        }
    )
    for event_type in CONSUMED:
        subs[event_type] = Subscription(partial(on_reminder, deps=deps))
    for pattern in WEBHOOK_BINDINGS:
        subs[pattern] = Subscription.batched(partial(on_any, deps=deps))
    return subs
