"""The one home of webhook state changes: endpoints (create, change, rotate, delete), fan-out of
events to deliveries, resend and replay, and the outcome of each attempt (with auto-disable)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple, cast

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from servicedb import dialect_insert, writes

from ..channels import inapp
from ..domain import Draft
from ..policy.rules import NotifyPolicy
from . import rules, signing
from .events import ENDPOINT_DISABLED, disabled_payload
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

Emit = Callable[[Session, str, dict[str, Any], str | None], object]


def create_endpoint(session: Session, data: Mapping[str, Any], actor: str, now: datetime) -> WebhookEndpoint:
    ep = WebhookEndpoint(
        id=str(uuid.uuid4()),
        url=data["url"],
        description=data.get("description", ""),
        event_types=list(data["event_types"]),
        enabled=True,
        disabled_reason=None,
        secret=signing.new_secret(),
        previous_secret=None,
        previous_secret_until=None,
        failing_since=None,
        owner_id=actor,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(ep)
    session.flush()
    return ep


def update_endpoint(
    session: Session, ep: WebhookEndpoint, changes: Mapping[str, Any], now: datetime
) -> WebhookEndpoint:
    for name in ("url", "description", "event_types"):
        if name in changes:
            setattr(ep, name, list(changes[name]) if name == "event_types" else changes[name])
    if "enabled" in changes:
        ep.enabled = bool(changes["enabled"])
        if ep.enabled:  # re-enabled by an admin: a fresh start
            ep.disabled_reason, ep.failing_since = None, None
    ep.updated_at, ep.version = now, ep.version + 1
    session.flush()
    return ep


def delete_endpoint(session: Session, ep: WebhookEndpoint) -> None:
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == ep.id))
    session.delete(ep)
    session.flush()


def rotate_secret(
    session: Session, ep: WebhookEndpoint, now: datetime, policy: NotifyPolicy
) -> WebhookEndpoint:
    """A new secret; the old one still signs (a second signature) for the overlap window."""
    ep.previous_secret, ep.secret = ep.secret, signing.new_secret()
    ep.previous_secret_until = now + timedelta(hours=policy.webhook_secret_overlap_hours)
    ep.updated_at, ep.version = now, ep.version + 1
    session.flush()
    return ep


def active_secrets(ep: WebhookEndpoint, now: datetime) -> list[str]:
    out = [ep.secret]
    if ep.previous_secret and ep.previous_secret_until and now < ep.previous_secret_until:
        out.append(ep.previous_secret)
    return out


def _delivery(endpoint_id: str, event: WebhookEvent, now: datetime) -> WebhookDelivery:
    return WebhookDelivery(**_delivery_row(endpoint_id, event.id, event.event_type, now))


def record_event(session: Session, envelope: Mapping[str, Any], now: datetime) -> int:
    """Keep the event and queue one delivery per enabled endpoint that wants it; a second call
    with the same event id does nothing. Returns how many deliveries were queued."""
    return record_events(session, [envelope], now)


def record_events(session: Session, envelopes: Sequence[Mapping[str, Any]], now: datetime) -> int:
    """``record_event`` for several events at once: one INSERT keeps those not kept before
    (``ON CONFLICT DO NOTHING``: an id already kept, or twice in the list, counts once), one
    INSERT queues their deliveries. Every event a service publishes passes through here, so it
    runs no ORM unit of work. Returns how many deliveries were queued."""
    rows = list(
        {
            str(env["id"]): {
                "id": str(env["id"]),
                "event_type": env["type"],
                "payload": dict(env),
                "created_at": now,
            }
            for env in envelopes
        }.values()
    )
    if not rows:
        return 0
    stmt = _keep_events(session.get_bind().dialect.name)
    # A lone event (the usual case at light load) takes the prebuilt fast path; several go
    # as one multi-row INSERT … RETURNING.
    kept = ({r[0] for r in writes.execute(session, stmt, rows[0])} if len(rows) == 1
            else set(session.scalars(stmt, rows)))
    endpoints = _enabled_endpoints(session) if kept else []
    queued = [
        _delivery_row(ep.id, row["id"], row["event_type"], now)
        for row in rows
        if row["id"] in kept
        for ep in endpoints
        if rules.wants(ep.event_types, row["event_type"])
    ]
    if queued:
        session.execute(insert(WebhookDelivery), queued)
    return len(queued)


@lru_cache(maxsize=4)
def _keep_events(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (id) DO NOTHING RETURNING id``, built once per dialect (this runs
    for every event, so it is not rebuilt and cache-keyed each time)."""
    table = WebhookEvent.__table__
    return (
        dialect_insert(dialect, table)
        .on_conflict_do_nothing(index_elements=[table.c.id])
        .returning(table.c.id)
    )


_ENDPOINTS_KEY = "notify.webhooks.enabled_endpoints"


class _Target(NamedTuple):
    id: str
    event_types: list[str]


_ENABLED = select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(
    WebhookEndpoint.enabled.is_(True))


def _enabled_endpoints(session: Session) -> list[_Target]:
    """The enabled endpoints, read once per transaction: a consumer's batch of events shares
    one transaction, so the list is read once a batch, and an endpoint created or disabled
    while it runs counts from the next transaction on (as with a lock-free read anyway)."""
    transaction = session.get_transaction()
    cached = session.info.get(_ENDPOINTS_KEY)
    if cached is not None and cached[0] is transaction:
        return cast(list[_Target], cached[1])
    endpoints = [_Target(*row) for row in writes.execute(session, _ENABLED)]
    session.info[_ENDPOINTS_KEY] = (transaction, endpoints)
    return endpoints


def _delivery_row(endpoint_id: str, event_id: str, event_type: str, now: datetime) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "endpoint_id": endpoint_id,
        "event_id": event_id,
        "event_type": event_type,
        "state": rules.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "last_status": None,
        "last_error": None,
        "created_at": now,
        "updated_at": now,
    }


def resend(session: Session, d: WebhookDelivery, now: datetime) -> WebhookDelivery:
    """A manual resend: the delivery starts its schedule again now."""
    d.state, d.attempts, d.next_attempt_at, d.updated_at = rules.PENDING, 0, now, now
    session.flush()
    return d


def replay(session: Session, ep: WebhookEndpoint, since: datetime, now: datetime) -> int:
    """Every kept event since ``since`` that the endpoint wants, delivered again (a missing
    delivery is created; an existing one restarts). Returns the count."""
    existing = {
        d.event_id: d
        for d in session.scalars(
            select(WebhookDelivery)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.endpoint_id == ep.id, WebhookEvent.created_at >= since)
        )
    }
    count = 0
    for event in session.scalars(
        select(WebhookEvent).where(WebhookEvent.created_at >= since).order_by(WebhookEvent.created_at)
    ):
        if not rules.wants(ep.event_types, event.event_type):
            continue
        d = existing.get(event.id)
        if d is None:
            session.add(_delivery(ep.id, event, now))
        else:
            d.state, d.attempts, d.next_attempt_at, d.updated_at = rules.PENDING, 0, now, now
        count += 1
    session.flush()
    return count


def record_successes(
    session: Session, items: Sequence[tuple[str, int, int, str | None]], now: datetime
) -> int:
    """A batch of successful attempts (delivery id, status, latency, excerpt), set-based: one
    INSERT into the log, one UPDATE of the deliveries, one of their endpoints' failure runs."""
    if not items:
        return 0
    ids = [i[0] for i in items]
    known = {
        d: (ep, ev, n)
        for d, ep, ev, n in session.execute(
            select(
                WebhookDelivery.id,
                WebhookDelivery.endpoint_id,
                WebhookDelivery.event_id,
                WebhookDelivery.attempts,
            ).where(WebhookDelivery.id.in_(ids))
        )
    }
    rows = [i for i in items if i[0] in known]
    if not rows:
        return 0
    session.execute(
        insert(WebhookAttempt),
        [
            {
                "id": str(uuid.uuid4()),
                "delivery_id": d,
                "endpoint_id": known[d][0],
                "event_id": known[d][1],
                "attempt": known[d][2] + 1,
                "at": now,
                "status_code": status,
                "latency_ms": latency,
                "response_excerpt": excerpt,
                "error": None,
                "succeeded": True,
            }
            for d, status, latency, excerpt in rows
        ],
    )
    table: Any = WebhookDelivery.__table__
    session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            state=rules.SUCCEEDED,
            attempts=table.c.attempts + 1,
            next_attempt_at=None,
            last_status=bindparam("b_status"),
            last_error=None,
            updated_at=now,
        ),
        [{"b_id": d, "b_status": status} for d, status, _, _ in rows],
    )
    session.execute(
        update(WebhookEndpoint)
        .where(
            WebhookEndpoint.id.in_({v[0] for v in known.values()}), WebhookEndpoint.failing_since.is_not(None)
        )
        .values(failing_since=None)
        .execution_options(synchronize_session=False)
    )
    return len(rows)


def record_attempt(
    session: Session,
    delivery_id: str,
    now: datetime,
    policy: NotifyPolicy,
    emit: Emit,
    *,
    status: int | None,
    latency_ms: int,
    excerpt: str | None,
    error: str | None,
) -> WebhookDelivery | None:
    """Log the attempt, then: succeeded; or the next try on the schedule; or failed. An endpoint
    failing for ``webhook_disable_after_days`` is disabled and its owner told."""
    d = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if d is None:
        return None
    ep = session.get(WebhookEndpoint, d.endpoint_id)  # locked only when it must change
    d.attempts += 1
    ok = rules.succeeded(status)
    session.add(
        WebhookAttempt(
            id=str(uuid.uuid4()),
            delivery_id=d.id,
            endpoint_id=d.endpoint_id,
            event_id=d.event_id,
            attempt=d.attempts,
            at=now,
            status_code=status,
            latency_ms=latency_ms,
            response_excerpt=excerpt,
            error=error,
            succeeded=ok,
        )
    )
    d.last_status, d.last_error, d.updated_at = status, error, now
    if ok:
        d.state, d.next_attempt_at = rules.SUCCEEDED, None
        if ep is not None and ep.failing_since is not None:
            ep.failing_since = None
        return d
    delay = rules.next_delay(d.attempts, policy.webhook_retry_seconds)
    if delay is None:
        d.state, d.next_attempt_at = rules.FAILED, None
    else:
        d.state, d.next_attempt_at = rules.PENDING, now + delay
    if ep is not None:
        if ep.failing_since is None:
            ep.failing_since = now
        elif ep.enabled and rules.should_disable(ep.failing_since, now, policy.webhook_disable_after_days):
            disable(session, ep, now, emit, f"failing since {ep.failing_since.isoformat()}")
    return d


def disable(session: Session, ep: WebhookEndpoint, now: datetime, emit: Emit, reason: str) -> None:
    """Disable the endpoint, stop its pending deliveries, tell its owner in-app and announce it.

    A conditional UPDATE decides: of several attempts failing at once, exactly one disables."""
    result: Any = session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == ep.id, WebhookEndpoint.enabled.is_(True))
        .values(
            enabled=False, disabled_reason=reason[:500], updated_at=now, version=WebhookEndpoint.version + 1
        )
        .execution_options(synchronize_session=False)
    )
    won = result.rowcount
    session.refresh(ep)
    if not won:
        return
    for d in session.scalars(
        select(WebhookDelivery).where(
            WebhookDelivery.endpoint_id == ep.id, WebhookDelivery.state == rules.PENDING
        )
    ):
        d.state, d.next_attempt_at, d.updated_at = rules.FAILED, None, now
        d.last_error = "endpoint disabled"
    inapp.deliver(
        session,
        str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ep.id}:{ep.version}")),
        Draft(
            ep.owner_id,
            "webhook_disabled",
            "Webhook endpoint disabled",
            f"{ep.url} was disabled: {reason}",
            "webhook_endpoint",
            ep.id,
        ),
        now,
        emit,
    )
    emit(session, ENDPOINT_DISABLED, disabled_payload(ep), ep.id)
