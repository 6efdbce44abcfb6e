"""The one home of message state changes: queue (rules, quiet hours, idempotency), dispatch
(claim due rows, send outside the transaction, record the outcome with bounded retries)."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from eventbus import ServiceBus

from ..bulk import emit_many
from ..channels import DeliveryError, Outgoing, Sender
from ..policy.rules import NotifyPolicy
from ..policy.service import current_policy
from . import rules
from .events import MESSAGE_FAILED, MESSAGE_SENT, message_payload
from .models import Message

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)  # a claimed message is retried after this if its sender died
Emit = Callable[[Session, str, dict, str | None], object]


def enqueue(
    session: Session,
    draft: rules.MessageDraft,
    now: datetime,
    policy: NotifyPolicy,
    *,
    key: str | None = None,
    quiet: rules.Quiet | None = None,
) -> tuple[Message, bool]:
    """Queue ``draft`` once per (``key``, recipient, channel): (message, created).

    The send moment is the next allowed one (quiet hours, marketing weekdays); the §4.4 rules
    are checked at that moment (MessageRuleError, nothing stored). A deferred message waits
    with state ``deferred``.
    """
    if draft.channel not in (rules.EMAIL, rules.SMS):
        raise ValueError("only e-mail and SMS are queued; in-app goes to the inbox")
    mid = rules.message_id(
        key or draft.source_event_id or str(uuid.uuid4()), draft.recipient_id, draft.channel
    )
    existing = session.get(Message, mid)
    if existing is not None:
        return existing, False
    at = rules.next_allowed(now, draft, policy, quiet)
    rules.check_customer_message(draft, policy, at.astimezone(rules.zone(draft.timezone, policy)))
    m = Message(
        id=mid,
        channel=draft.channel,
        audience=draft.audience,
        recipient_id=draft.recipient_id,
        address=draft.address,
        subject=draft.subject[:300],
        body=draft.body,
        purpose=draft.purpose,
        critical=draft.critical,
        timezone=draft.timezone,
        language=draft.language,
        state=rules.QUEUED if at <= now else rules.DEFERRED,
        reason=None,
        attempts=0,
        next_attempt_at=at,
        created_at=now,
        updated_at=now,
        sent_at=None,
        created_by=draft.created_by,
        event_type=draft.event_type,
        source_event_id=draft.source_event_id,
        subject_type=draft.subject_type,
        subject_id=draft.subject_id,
        provider_ref=None,
    )
    session.add(m)
    session.flush()
    return m, True


@dataclass(frozen=True)
class Claimed:
    """A message leased to this dispatcher: what its channel needs, its event snapshot, when it
    is due (never sent earlier) and until when the lease holds (not started after that)."""

    id: str
    channel: str
    outgoing: Outgoing
    snap: dict[str, Any]
    due: datetime
    lease_until: datetime


def claim_due(
    session: Session, now: datetime, limit: int, *, ahead: timedelta = timedelta(0)
) -> list[Claimed]:
    """Messages due by ``now + ahead`` (and ones whose sender died mid-send), leased to this
    dispatcher: one locking SELECT of the needed columns and one UPDATE for the whole batch.
    ``ahead`` lets a dispatcher prepare a release (e.g. the end of quiet hours) before it is due;
    each message is still sent no earlier than its ``due``."""
    horizon = now + ahead
    lease = horizon + LEASE
    t: Any = Message.__table__
    rows = session.execute(
        select(
            t.c.id, t.c.channel, t.c.address, t.c.subject, t.c.body, t.c.language, t.c.audience,
            t.c.recipient_id, t.c.purpose, t.c.attempts, t.c.event_type, t.c.subject_type,
            t.c.subject_id, t.c.state, t.c.next_attempt_at,
        )
        .where(
            or_(
                and_(t.c.state.in_((rules.QUEUED, rules.DEFERRED)), t.c.next_attempt_at <= horizon),
                and_(t.c.state == rules.SENDING, t.c.next_attempt_at <= now),  # the lease ran out
            )
        )
        .order_by(t.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return []
    session.execute(
        update(t)
        .where(t.c.id.in_([r.id for r in rows]))
        .values(state=rules.SENDING, next_attempt_at=lease, updated_at=now)
    )
    return [
        Claimed(
            r.id,
            r.channel,
            Outgoing(r.id, r.address, r.subject, r.body, r.language),
            {
                "message_id": r.id,
                "channel": r.channel,
                "audience": r.audience,
                "recipient_id": r.recipient_id,
                "purpose": r.purpose,
                "state": rules.SENDING,
                "reason": None,
                "attempts": r.attempts,
                "event_type": r.event_type,
                "subject_type": r.subject_type,
                "subject_id": r.subject_id,
                "at": now.isoformat(),
            },
            now if r.state == rules.SENDING else max(r.next_attempt_at, now),
            lease,
        )
        for r in rows
    ]


def record_sent(
    session: Session,
    bus: ServiceBus,
    sent: list[tuple[dict[str, Any], str | None, datetime]],
) -> int:
    """Mark a batch sent (only rows still leased to us) and announce each, set-based; each item
    is (snapshot, provider reference, when the provider took it)."""
    if not sent:
        return 0
    table: Any = Message.__table__
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.state == rules.SENDING)
        .values(
            state=rules.SENT,
            sent_at=bindparam("b_at"),
            updated_at=bindparam("b_at"),
            provider_ref=bindparam("b_ref"),
            attempts=table.c.attempts + 1,
            reason=None,
            next_attempt_at=None,
        )
    )
    session.execute(stmt, [{"b_id": snap["message_id"], "b_ref": ref, "b_at": at} for snap, ref, at in sent])
    payloads = [
        (
            {
                **snap,
                "state": rules.SENT,
                "reason": None,
                "attempts": snap["attempts"] + 1,
                "at": at.isoformat(),
            },
            snap["message_id"],
        )
        for snap, _, at in sent
    ]
    emit_many(session, bus, MESSAGE_SENT, payloads)
    return len(sent)


def record_outcome(
    session: Session,
    message_id: str,
    now: datetime,
    policy: NotifyPolicy,
    emit: Emit,
    ref: str | None = None,
    error: DeliveryError | None = None,
) -> Message | None:
    """After a send: sent, or a retry after the policy's next delay, or failed with the reason."""
    m = session.get(Message, message_id, with_for_update=True)
    if m is None or m.state != rules.SENDING:
        return m
    m.attempts += 1
    m.updated_at = now
    if error is None:
        m.state, m.sent_at, m.provider_ref, m.reason, m.next_attempt_at = rules.SENT, now, ref, None, None
        emit(session, MESSAGE_SENT, message_payload(m), m.id)
        return m
    delay = None if error.permanent else rules.retry_delay(m.attempts, policy)
    m.reason = error.reason[:1000]
    if delay is None:
        m.state, m.next_attempt_at = rules.FAILED, None
        emit(session, MESSAGE_FAILED, message_payload(m), m.id)
    else:
        draft = rules.MessageDraft(
            channel=m.channel,
            audience=m.audience,
            recipient_id=m.recipient_id,
            address=m.address,
            subject=m.subject,
            body=m.body,
            purpose=m.purpose,
            critical=m.critical,
            timezone=m.timezone,
        )
        m.state, m.next_attempt_at = rules.QUEUED, rules.next_allowed(now + delay, draft, policy)
    return m


Outcome = tuple[Claimed, str | None, DeliveryError | None, datetime]


def send_one(item: Claimed, senders: Mapping[str, Sender], at: datetime) -> Outcome:
    ref, error = None, None
    sender = senders.get(item.channel)
    try:
        if sender is None:
            raise DeliveryError(f"channel {item.channel} is not configured", permanent=True)
        ref = sender.send(item.outgoing)
    except DeliveryError as exc:
        error = exc
    except Exception as exc:  # a sender bug must not kill the pass; the message records it
        log.exception("sender %s failed", item.channel)
        error = DeliveryError(f"{type(exc).__name__}: {exc}")
    return item, ref, error, at


SendAll = Callable[[list[Claimed]], list[Outcome]]


def dispatch_due(
    session_factory: sessionmaker[Session],
    bus: ServiceBus,
    senders: Mapping[str, Sender],
    clock: Callable[[], datetime],
    limit: int = 500,
    record_every: int = 500,
    *,
    ahead: timedelta = timedelta(0),
    batches: int = 1,
    send_all: SendAll | None = None,
) -> Counter[str]:
    """One dispatcher pass: claim (up to ``batches`` x ``limit``, each batch its own short
    transaction), send each outside any transaction (``send_all``: in order, each at its due
    time; default one by one at once), record the outcomes in batches (one commit per
    ``record_every`` messages). A crash between a send and its record leaves the lease to run
    out and the message to go again: at-least-once, with the message id as the idempotency key
    the channels pass on (SMTP Message-ID, SMS Idempotency-Key)."""
    done: Counter[str] = Counter()
    now = clock()
    claimed: list[Claimed] = []
    for _ in range(batches):
        with session_factory() as session, session.begin():
            policy = current_policy(session)
            batch = claim_due(session, now, limit, ahead=ahead)
        claimed += batch
        if len(batch) < limit:
            break
    if not claimed:
        return done
    done["claimed"] = len(claimed)
    if send_all is None:
        outcomes = [send_one(item, senders, clock()) for item in claimed]
    else:
        outcomes = send_all(claimed)
    done["skipped"] = len(claimed) - len(outcomes)
    for i in range(0, len(outcomes), record_every):
        chunk = outcomes[i : i + record_every]
        with session_factory() as session, session.begin():
            done[rules.SENT] += record_sent(
                session, bus, [(item.snap, ref, at) for item, ref, err, at in chunk if err is None]
            )
            for item, ref, error, at in chunk:
                if error is not None:
                    m = record_outcome(session, item.id, at, policy, bus.emit, ref, error)
                    if m is not None:
                        done[m.state] += 1
    return +done


def record_refused(
    session: Session, draft: rules.MessageDraft, now: datetime, key: str, reason: str
) -> Message:
    """An event-caused message that breaks the rules is kept as failed with the reason (visible
    in /messages) instead of being sent or silently dropped."""
    mid = rules.message_id(key, draft.recipient_id, draft.channel)
    existing = session.get(Message, mid)
    if existing is not None:
        return existing
    m = Message(
        id=mid,
        channel=draft.channel,
        audience=draft.audience,
        recipient_id=draft.recipient_id,
        address=draft.address,
        subject=draft.subject[:300],
        body=draft.body,
        purpose=draft.purpose,
        critical=draft.critical,
        timezone=draft.timezone,
        language=draft.language,
        state=rules.FAILED,
        reason=f"refused by the message rules: {reason}"[:1000],
        attempts=0,
        next_attempt_at=None,
        created_at=now,
        updated_at=now,
        sent_at=None,
        created_by=draft.created_by,
        event_type=draft.event_type,
        source_event_id=draft.source_event_id,
        subject_type=draft.subject_type,
        subject_id=draft.subject_id,
        provider_ref=None,
    )
    session.add(m)
    session.flush()
    return m
