"""notify consuming ``accounts.account.opened.v1``: the owner hears about their converted lead."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlalchemy import select

from notify.models import Notification
from notify.wiring import NotifyContext
from testkit.events import (
    envelope,
    outbox_events,
    publish,
    running_worker,
    wait_parked,
    wait_settled,
)

pytestmark = pytest.mark.integration
OPENED = "accounts.account.opened.v1"


def opened(**overrides):  # type: ignore[no-untyped-def]
    """A payload as accounts publishes it (see accounts.events.opened_payload)."""
    return {
        "account_id": str(uuid.uuid4()), "code": "C-000042", "name": "Hangzhou Bamboo Co., Ltd.",
        "company": "Hangzhou Bamboo Co., Ltd.", "phone": "+8657188886666", "email": None,
        "owner_id": "rep1", "owner_team": "east", "source_lead_id": str(uuid.uuid4()),
        "source_lead_code": "L-000007", "source_lead_name": "Wang Wu",
        "opened_at": "2026-11-23T09:30:01+00:00", "opened_by": "rep1", "version": 1,
        **overrides,
    }


def _notifications(ctx: NotifyContext) -> list[Notification]:
    with ctx.bus.session_factory() as s:
        return list(s.scalars(select(Notification).order_by(Notification.created_at)))


def test_converted_lead_notifies_the_owner_and_announces_it(notify_ctx: NotifyContext) -> None:
    data = opened()
    with running_worker(notify_ctx.bus) as bus:
        event = publish(bus, envelope(OPENED, data, subject=data["account_id"], source="crm/accounts"))
        wait_settled(bus, "handled")
    [note] = _notifications(notify_ctx)
    assert (note.recipient_id, note.kind, note.title) == ("rep1", "lead_converted", "Lead converted")
    assert note.body == "Lead Wang Wu (L-000007) became account Hangzhou Bamboo Co., Ltd. (C-000042)"
    assert (note.subject_type, note.subject_id) == ("account", data["account_id"])
    assert note.source_event_id == event.id and note.read_at is None

    [created] = outbox_events(notify_ctx.bus, "notify.notification.created.v1")
    assert created["subject"] == note.id and created["causationid"] == event.id
    assert created["data"] == {
        "notification_id": note.id, "recipient_id": "rep1", "kind": "lead_converted",
        "title": "Lead converted", "subject_type": "account", "subject_id": data["account_id"],
        "created_at": created["data"]["created_at"],
    }


def test_account_opened_directly_notifies_nobody(notify_ctx: NotifyContext) -> None:
    with running_worker(notify_ctx.bus) as bus:
        publish(bus, envelope(OPENED, opened(source_lead_id=None, source_lead_code=None,
                                             source_lead_name=None)))
        wait_settled(bus, "handled")
    assert _notifications(notify_ctx) == []
    assert outbox_events(notify_ctx.bus) == []


def test_redelivery_notifies_once(notify_ctx: NotifyContext) -> None:
    env = envelope(OPENED, opened())
    with running_worker(notify_ctx.bus) as bus:
        publish(bus, env)
        publish(bus, env)
        wait_settled(bus, "duplicate")
        assert wait_settled(bus, "handled") == 1
    assert len(_notifications(notify_ctx)) == 1
    assert len(outbox_events(notify_ctx.bus, "notify.notification.created.v1")) == 1


def test_poison_payload_is_parked_and_consumer_goes_on(notify_ctx: NotifyContext) -> None:
    bad = opened()
    del bad["owner_id"]
    with running_worker(notify_ctx.bus) as bus:
        poison = publish(bus, envelope(OPENED, bad))
        publish(bus, envelope(OPENED, opened(owner_id="rep2")))
        parked = wait_parked(bus, poison.id)
        wait_settled(bus, "handled")
    assert parked.reason == "invalid-payload" and "owner_id" in (parked.error or "")
    assert [n.recipient_id for n in _notifications(notify_ctx)] == ["rep2"]


def test_delivered_notification_is_listed_for_its_owner(notify_ctx: NotifyContext, issuer) -> None:  # type: ignore[no-untyped-def]
    from notify.app import create_app

    client = create_app(notify_ctx, verifier=issuer.verifier()).test_client()
    data = opened()
    with running_worker(notify_ctx.bus) as bus:
        publish(bus, envelope(OPENED, data))
        wait_settled(bus, "handled")
    rep1 = client.get("/api/v1/notify/notifications", headers=issuer.headers("rep1", "sales_rep"))
    assert [n["subject_id"] for n in rep1.json["items"]] == [data["account_id"]]
    rep2 = client.get("/api/v1/notify/notifications", headers=issuer.headers("rep2", "sales_rep"))
    assert rep2.json["items"] == []


def test_a_notification_is_made_and_announced_once_per_event_and_recipient(notify_ctx: NotifyContext) -> None:
    """What the inbox cannot catch (the same event under another consumer name, a replay):
    the unique (event, recipient) pair makes the second delivery a no-op, without an event."""
    from notify.channels import inapp
    from notify.domain import Draft

    source = str(uuid.uuid4())
    draft = Draft("rep1", "account_opened", "标题", "正文", "account", "a-1")
    made = []
    for recipient in ("rep1", "rep1", "rep2"):
        with notify_ctx.bus.session_factory() as s, s.begin():
            made.append(inapp.deliver(s, source, dataclasses.replace(draft, recipient_id=recipient),
                                      notify_ctx.clock(), notify_ctx.bus.emit))
    assert [n is not None for n in made] == [True, False, True]
    rows = _notifications(notify_ctx)
    assert sorted((n.recipient_id, n.source_event_id, n.title) for n in rows) == [
        ("rep1", source, "标题"), ("rep2", source, "标题")]
    announced = outbox_events(notify_ctx.bus, "notify.notification.created.v1")
    assert sorted(e["data"]["recipient_id"] for e in announced) == ["rep1", "rep2"]
    assert {e["data"]["notification_id"] for e in announced} == {n.id for n in rows}
