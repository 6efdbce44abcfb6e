"""support consuming ``accounts.account.opened.v1`` into its read model of accounts."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from support.readmodel.models import KnownAccount
from support.wiring import SupportContext
from testkit.events import envelope, publish, running_worker, wait_parked, wait_settled

pytestmark = pytest.mark.integration
OPENED = "accounts.account.opened.v1"


def opened(account_id: str, version: int = 1, **overrides):  # type: ignore[no-untyped-def]
    """A payload as accounts publishes it (see accounts.events.opened_payload)."""
    return {
        "account_id": account_id, "code": "C-000001", "name": "Hangzhou Bamboo Co., Ltd.",
        "company": "Hangzhou Bamboo Co., Ltd.", "phone": "+8657188886666", "email": None,
        "owner_id": "rep1", "owner_team": "east", "source_lead_id": str(uuid.uuid4()),
        "source_lead_code": "L-000007", "source_lead_name": "Wang Wu",
        "opened_at": "2026-11-23T09:30:01+00:00", "opened_by": "rep1", "version": version,
        **overrides,
    }


def _known(ctx: SupportContext, account_id: str) -> KnownAccount | None:
    with ctx.bus.session_factory() as s:
        return s.get(KnownAccount, account_id)


def test_opened_account_becomes_known(support_ctx: SupportContext) -> None:
    account_id = str(uuid.uuid4())
    with running_worker(support_ctx.bus) as bus:
        publish(bus, envelope(OPENED, opened(account_id), subject=account_id, source="crm/accounts"))
        wait_settled(bus, "handled")
    known = _known(support_ctx, account_id)
    assert known is not None
    assert (known.code, known.name, known.owner_id, known.owner_team, known.version) == (
        "C-000001", "Hangzhou Bamboo Co., Ltd.", "rep1", "east", 1)


def test_redelivery_is_harmless(support_ctx: SupportContext) -> None:
    account_id = str(uuid.uuid4())
    env = envelope(OPENED, opened(account_id))
    with running_worker(support_ctx.bus) as bus:
        publish(bus, env)
        publish(bus, env)
        wait_settled(bus, "duplicate")
        assert wait_settled(bus, "handled") == 1
    with support_ctx.bus.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(KnownAccount)) == 1


def test_older_version_arriving_late_does_not_overwrite(support_ctx: SupportContext) -> None:
    account_id = str(uuid.uuid4())
    newer = envelope(OPENED, opened(account_id, version=2, owner_id="rep2", name="Bamboo Group"))
    older = envelope(OPENED, opened(account_id, version=1))
    with running_worker(support_ctx.bus) as bus:
        publish(bus, newer)
        publish(bus, older)
        wait_settled(bus, "handled", count=2)
    known = _known(support_ctx, account_id)
    assert known is not None
    assert (known.version, known.owner_id, known.name) == (2, "rep2", "Bamboo Group")


def test_newer_version_replaces_older(support_ctx: SupportContext) -> None:
    account_id = str(uuid.uuid4())
    with running_worker(support_ctx.bus) as bus:
        publish(bus, envelope(OPENED, opened(account_id, version=1)))
        publish(bus, envelope(OPENED, opened(account_id, version=3, owner_team="west")))
        wait_settled(bus, "handled", count=2)
    known = _known(support_ctx, account_id)
    assert known is not None and (known.version, known.owner_team) == (3, "west")


def test_poison_payload_is_parked_and_consumer_goes_on(support_ctx: SupportContext) -> None:
    bad = opened(str(uuid.uuid4()))
    del bad["version"]
    good_id = str(uuid.uuid4())
    with running_worker(support_ctx.bus) as bus:
        poison = publish(bus, envelope(OPENED, bad))
        publish(bus, envelope(OPENED, opened(good_id)))
        parked = wait_parked(bus, poison.id)
        wait_settled(bus, "handled")
    assert parked.reason == "invalid-payload" and "version" in (parked.error or "")
    assert _known(support_ctx, good_id) is not None


def test_event_makes_tickets_possible(support_ctx: SupportContext, issuer) -> None:  # type: ignore[no-untyped-def]
    """The read model is what the API checks: before the event 422, after it 201."""
    from support.app import create_app

    client = create_app(support_ctx, verifier=issuer.verifier()).test_client()
    agent = issuer.headers("agent", "support_agent")
    account_id = str(uuid.uuid4())
    body = {"account_id": account_id, "kind": "inquiry", "subject": "Delivery date?"}
    assert client.post("/api/v1/support/tickets", json=body, headers=agent).status_code == 422
    with running_worker(support_ctx.bus) as bus:
        publish(bus, envelope(OPENED, opened(account_id)))
        wait_settled(bus, "handled")
    assert client.post("/api/v1/support/tickets", json=body, headers=agent).status_code == 201
