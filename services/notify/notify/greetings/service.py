"""Greeting state changes: keep the customer cards, draft the due occasions once, and send a
reviewed draft (one customer, signed by its rep) through the message rules."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from servicedb import dialect_insert, writes

from ..channels import inapp
from ..domain import Draft
from ..messages import rules as mrules
from ..messages import service as messages
from ..messages.models import Message
from ..policy.rules import NotifyPolicy
from ..policy.service import current_policy
from ..reminders.rules import CUSTOMER, Recipient, salutation
from ..templates import rules as trules
from ..templates import service as templates
from . import rules
from .models import CustomerCard, GreetingDraft

Emit = Callable[[Session, str, dict[str, Any], str | None], object]
DRAFT, SENT, DISCARDED, DONE = "draft", "sent", "discarded", "done"


class GreetingError(ValueError):
    """The draft cannot do that (409)."""


def upsert_card(session: Session, snapshot: Mapping[str, Any], now: datetime) -> None:
    """Apply an ``account`` snapshot unless an older version arrives after a newer one (a
    snapshot without a version always applies). One prebuilt upsert: every accounts event
    passes through here."""
    account_id = snapshot.get("id") or snapshot.get("account_id")
    if not account_id or not snapshot.get("owner_id"):
        return
    contact = snapshot.get("contact") or {}
    writes.execute(
        session,
        _card_upsert(session.get_bind().dialect.name),
        {
            "account_id": account_id,
            "code": str(snapshot.get("code") or ""),
            "name": str(snapshot.get("name") or ""),
            "owner_id": str(snapshot["owner_id"]),
            "owner_team": snapshot.get("owner_team"),
            "status": str(snapshot.get("status") or "active"),
            "key_customer": bool(snapshot.get("key_customer")),
            "contact_name": contact.get("name"),
            "contact_title": contact.get("title"),
            "mobile": contact.get("mobile"),
            "email": contact.get("email"),
            "timezone": snapshot.get("timezone"),
            "first_seen_at": now,
            "version": int(snapshot.get("version") or 0),
        },
    )


@lru_cache(maxsize=4)
def _card_upsert(dialect: str) -> Any:
    """Insert the card, or overwrite it (all but ``first_seen_at``) unless the snapshot's
    version is older than the card's."""
    table = CustomerCard.__table__
    stmt = dialect_insert(dialect, table)
    kept = ("account_id", "first_seen_at")
    return stmt.on_conflict_do_update(
        index_elements=[table.c.account_id],
        set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in kept},
        where=(stmt.excluded.version == 0) | (stmt.excluded.version >= table.c.version),
    )


def _body(
    session: Session, kind: str, card: CustomerCard, label: str, policy: NotifyPolicy
) -> tuple[str, str]:
    event_type, channel = rules.TEMPLATE[kind]
    found = templates.resolve(session, event_type, channel, "zh-CN")
    assert found is not None  # built-in defaults exist for every greeting kind
    ctx = {
        **trules.sample_context(event_type),
        "company": policy.company_name,
        "recipient_name": card.name,
        "salutation": _salutation(card),
        "sender_name": "",
        "holiday": label,
        "key_customer_phrase": policy.key_customer_phrase,
    }
    return trules.render(found[0].subject, found[0].body, ctx)


def customer_card(session: Session, account_id: str) -> Recipient | None:
    """The customer as an SMS recipient, from its card (None without a card or a mobile)."""
    card = session.get(CustomerCard, account_id)
    if card is None or not card.mobile or card.status != "active":
        return None
    return Recipient(
        CUSTOMER,
        card.account_id,
        channels=(mrules.SMS,),
        address=card.mobile,
        salutation=_salutation(card),
        timezone=card.timezone,
    )


def _salutation(card: CustomerCard) -> str:
    return salutation({"name": card.contact_name, "title": card.contact_title}) or card.name


def run_greetings(session_factory: sessionmaker[Session], now: datetime, emit: Emit) -> Counter[str]:
    """Draft every due occasion for every customer it applies to, once; tell each rep."""
    made: Counter[str] = Counter()
    with session_factory() as session, session.begin():
        policy = current_policy(session)
        local = now.astimezone(mrules.zone(None, policy))
        occasions = rules.due_occasions(local, policy)
        if not occasions:
            return made
        cards = list(session.scalars(select(CustomerCard).where(CustomerCard.status == "active")))
        done = {
            (o, a)
            for o, a in session.execute(
                select(GreetingDraft.occasion, GreetingDraft.account_id).where(
                    GreetingDraft.occasion.in_([o.key for o in occasions])
                )
            )
        }
        per_rep: Counter[tuple[str, str]] = Counter()
        for occ in occasions:
            for card in cards:
                if (occ.key, card.account_id) in done or not rules.recipients(
                    occ.kind, card.key_customer, card.status, bool(card.mobile), bool(card.email)
                ):
                    continue
                channel, address, customer_kind = None, None, None
                if occ.kind == rules.NEW_YEAR_GIFT:
                    customer_kind = (
                        "new" if card.first_seen_at.astimezone(local.tzinfo).year == local.year else "old"
                    )
                    subject = f"{occ.label}:{card.name}"
                    who = "新客户" if customer_kind == "new" else "老客户"
                    body = f"为{card.name}({who})准备新年礼物,并了解客户{local.year + 1}年的需求计划。"
                else:
                    channel = rules.TEMPLATE[occ.kind][1]
                    address = card.mobile if channel == mrules.SMS else card.email
                    subject, body = _body(session, occ.kind, card, occ.label, policy)
                session.add(
                    GreetingDraft(
                        id=str(uuid.uuid4()),
                        kind=occ.kind,
                        occasion=occ.key,
                        label=occ.label,
                        account_id=card.account_id,
                        owner_id=card.owner_id,
                        channel=channel,
                        address=address,
                        salutation=_salutation(card),
                        subject=subject,
                        body=body,
                        customer_kind=customer_kind,
                        state=DRAFT,
                        note=None,
                        message_id=None,
                        created_at=now,
                        updated_at=now,
                    )
                )
                per_rep[(card.owner_id, occ.key)] += 1
                made[occ.kind] += 1
        session.flush()
        for (rep, occasion), count in per_rep.items():
            inapp.deliver(
                session,
                str(uuid.uuid5(uuid.NAMESPACE_URL, f"greetings:{occasion}")),
                Draft(
                    rep,
                    "greeting_drafts",
                    "问候草稿待发送",
                    f"{occasion}:{count} 条问候草稿待您逐一审阅发送。",
                    "greetings",
                    occasion[:36],
                ),
                now,
                emit,
            )
    return made


def send(session: Session, draft: GreetingDraft, sender_id: str, sender_name: str, now: datetime) -> Message:
    """Send one reviewed draft to its one customer, signed by the rep (never in bulk)."""
    if draft.state != DRAFT:
        raise GreetingError(f"the greeting is {draft.state}")
    if draft.channel is None or not draft.address:
        raise GreetingError("a gift is marked done, not sent")
    policy = current_policy(session)
    body = draft.body.rstrip()
    signature = mrules.signature(policy.company_name, sender_name)
    if not body.endswith(signature):
        body += sender_name if body.endswith(policy.company_name) else signature
    card = session.get(CustomerCard, draft.account_id)
    message, _ = messages.enqueue(
        session,
        mrules.MessageDraft(
            channel=draft.channel,
            audience=mrules.CUSTOMER,
            recipient_id=draft.account_id,
            address=draft.address,
            subject=draft.subject,
            body=body,
            purpose="greeting",
            timezone=card.timezone if card else None,
            salutation=draft.salutation,
            sender_name=sender_name,
            key_customer=bool(card and card.key_customer),
            created_by=sender_id,
            subject_type="account",
            subject_id=draft.account_id,
        ),
        now,
        policy,
        key=f"greeting:{draft.id}",
    )
    draft.state, draft.body, draft.message_id, draft.updated_at = SENT, body, message.id, now
    session.flush()
    return message


def finish(
    session: Session, draft: GreetingDraft, state: str, now: datetime, note: str | None = None
) -> GreetingDraft:
    """Discard a draft, or mark a gift done with the customer's next-year demand survey."""
    if draft.state != DRAFT:
        raise GreetingError(f"the greeting is {draft.state}")
    if state == DONE and draft.kind != rules.NEW_YEAR_GIFT:
        raise GreetingError("only a gift is marked done; a greeting is sent")
    draft.state, draft.note, draft.updated_at = state, note, now
    session.flush()
    return draft
