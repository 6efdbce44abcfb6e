"""notify consuming ``accounts.account.linked.v1``: the lead's owner hears where it went."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from notify.models import Notification
from notify.wiring import NotifyContext
from testkit.events import envelope, outbox_events, publish, running_worker, wait_parked, wait_settled

pytestmark = pytest.mark.integration
LINKED = "accounts.account.linked.v1"


def linked(**overrides):  # type: ignore[no-untyped-def]
    """A payload as accounts publishes it (see accounts.events.linked_payload)."""
    return {
        "account_id": str(uuid.uuid4()), "code": "C-000042", "name": "Hangzhou Bamboo Co., Ltd.",
        "source_lead_id": str(uuid.uuid4()), "source_lead_code": "L-000007",
        "source_lead_name": "Wang Wu", "owner_id": "rep2", "lead_owner_id": "rep1",
        "linked_at": "2026-11-23T09:30:01+00:00", "linked_by": "manager", **overrides,
    }


def _notifications(ctx: NotifyContext) -> list[Notification]:
    with ctx.bus.session_factory() as s:
        return list(s.scalars(select(Notification)))


def test_lead_owner_is_notified_once_on_redelivery(notify_ctx: NotifyContext) -> None:
    data = linked()
    env = envelope(LINKED, data, subject=data["account_id"], source="crm/accounts")
    with running_worker(notify_ctx.bus) as bus:
        publish(bus, env)
        publish(bus, env)
        wait_settled(bus, "duplicate")
        assert wait_settled(bus, "handled") == 1
    [note] = _notifications(notify_ctx)
    assert (note.recipient_id, note.kind) == ("rep1", "lead_linked")
    assert note.body == ("Lead Wang Wu (L-000007) linked to existing account "
                         "Hangzhou Bamboo Co., Ltd. (C-000042)")
    assert (note.subject_type, note.subject_id) == ("account", data["account_id"])
    assert len(outbox_events(notify_ctx.bus, "notify.notification.created.v1")) == 1


def test_poison_linked_payload_is_parked_and_consumer_goes_on(notify_ctx: NotifyContext) -> None:
    bad = linked()
    del bad["lead_owner_id"]  # whom to notify: without it the event cannot be handled
    with running_worker(notify_ctx.bus) as bus:
        poison = publish(bus, envelope(LINKED, bad))
        publish(bus, envelope(LINKED, linked()))
        parked = wait_parked(bus, poison.id)
        wait_settled(bus, "handled")
    assert parked.reason == "invalid-payload" and "lead_owner_id" in (parked.error or "")
    assert [n.recipient_id for n in _notifications(notify_ctx)] == ["rep1"]
