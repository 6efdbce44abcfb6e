"""support consuming ``accounts.account.opened.v1`` into its read model of accounts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from support.readmodel.models import KnownAccount
from support.wiring import SupportContext
from testkit.events import envelope, publish, running_worker, wait_parked, wait_settled
from testkit.issuer import TestIssuer

pytestmark = pytest.mark.integration
OPENED = "accounts.account.opened.v1"


def opened(account_id: str, version: int = 1, **overrides):  # type: ignore[no-untyped-def]
    """A payload as accounts publishes it (see accounts.events.opened_payload)."""
    return {
        "account_id": account_id,
        "code": "C-000001",
        "name": "Hangzhou Bamboo Co., Ltd.",
        "company": "Hangzhou Bamboo Co., Ltd.",
        "phone": "+8657188886666",
        "email": None,
        "owner_id": "rep1",
        "owner_team": "east",
        "source_lead_id": str(uuid.uuid4()),
        "source_lead_code": "L-000007",
        "source_lead_name": "Wang Wu",
        "opened_at": "2026-11-23T09:30:01+00:00",
        "opened_by": "rep1",
        "version": version,
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
        "C-000001",
        "Hangzhou Bamboo Co., Ltd.",
        "rep1",
        "east",
        1,
    )


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
    """The read model is what the API checks: before the event 422 (unknown account), after it 201."""
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


# -- the account snapshot (CONTRACTS.md) -------------------------------------------------------


def snapshot(account_id: str, version: int, **overrides: Any) -> dict[str, Any]:
    return {
        "id": account_id,
        "code": "C-000042",
        "name": "Hangzhou Bamboo Co., Ltd.",
        "owner_id": "rep1",
        "owner_team": "east",
        "status": "active",
        "archive_state": "approved",
        "grade": "B",
        "member": True,
        "key_customer": False,
        "credit_hold": False,
        "city": "Hangzhou",
        "timezone": "Asia/Shanghai",
        "contact": {"name": "Wang Wu", "title": "总", "mobile": "+8613800138000", "email": "wang@x.cn"},
        "version": version,
        **overrides,
    }


def test_snapshot_events_keep_the_read_model(support_ctx: SupportContext) -> None:
    account_id = str(uuid.uuid4())
    graded = {
        "account_id": account_id,
        "code": "C-000042",
        "version": 2,
        "old_grade": None,
        "new_grade": "B",
        "score": 82,
        "actor": "reviewer",
        "at": "2026-11-23T09:30:01+00:00",
        "account": snapshot(account_id, 2),
    }
    hold = {
        "account_id": account_id,
        "code": "C-000042",
        "reasons": ["overdue"],
        "actor": "finance",
        "at": "2026-11-24T09:30:01+00:00",
        "account": snapshot(account_id, 3, credit_hold=True),
    }
    with running_worker(support_ctx.bus) as bus:
        publish(bus, envelope(OPENED, opened(account_id)))
        publish(bus, envelope("accounts.account.graded.v1", graded))
        publish(bus, envelope("accounts.credit.hold_placed.v1", hold))
        wait_settled(bus, "handled", count=3)
    known = _known(support_ctx, account_id)
    assert known is not None
    assert (known.version, known.grade, known.member, known.credit_hold, known.archive_state) == (
        3,
        "B",
        True,
        True,
        "approved",
    )
    assert known.contact == {
        "name": "Wang Wu",
        "title": "总",
        "mobile": "+8613800138000",
        "email": "wang@x.cn",
    }
    assert known.phone == "13800138000" and known.timezone == "Asia/Shanghai"


def test_archive_and_future_account_events_arrive_by_pattern(support_ctx: SupportContext) -> None:
    account_id = str(uuid.uuid4())
    approved = {
        "account_id": account_id,
        "code": "C-000042",
        "actor": "ceo",
        "reason": "ok",
        "at": "2026-11-23T09:30:01+00:00",
        "account": snapshot(account_id, 4, grade="A"),
    }
    future = {"account_id": account_id, "account": snapshot(account_id, 5, status="inactive", grade="A")}
    with running_worker(support_ctx.bus) as bus:
        publish(bus, envelope("accounts.archive.approved.v1", approved))
        publish(bus, envelope("accounts.account.merged.v1", future))
        publish(bus, envelope("accounts.credit.limit_changed.v1", future))  # not subscribed
        wait_settled(bus, "handled", count=2)
    known = _known(support_ctx, account_id)
    assert known is not None and (known.grade, known.status, known.version) == ("A", "inactive", 5)


def test_snapshot_released_hold_and_older_versions(support_ctx: SupportContext) -> None:
    account_id = str(uuid.uuid4())
    placed = envelope(
        "accounts.credit.hold_placed.v1",
        {"account_id": account_id, "account": snapshot(account_id, 7, credit_hold=True)},
    )
    released = envelope(
        "accounts.credit.hold_released.v1",
        {"account_id": account_id, "account": snapshot(account_id, 8, credit_hold=False)},
    )
    with running_worker(support_ctx.bus) as bus:
        publish(bus, released)
        publish(bus, placed)  # older, arrives late: ignored
        publish(bus, released)  # redelivered: applied once
        wait_settled(bus, "duplicate")
        wait_settled(bus, "handled", count=2)
    known = _known(support_ctx, account_id)
    assert known is not None and (known.version, known.credit_hold) == (8, False)


def test_opened_with_snapshot_wins_over_top_level(support_ctx: SupportContext) -> None:
    account_id = str(uuid.uuid4())
    payload = opened(account_id, account=snapshot(account_id, 1, member=True, grade=None))
    with running_worker(support_ctx.bus) as bus:
        publish(bus, envelope(OPENED, payload))
        wait_settled(bus, "handled")
    known = _known(support_ctx, account_id)
    assert known is not None and known.member is True and known.code == "C-000042"


def test_event_without_snapshot_changes_nothing_and_bad_snapshot_is_parked(
    support_ctx: SupportContext,
) -> None:
    account_id = str(uuid.uuid4())
    bad = {"account_id": account_id, "account": {"id": account_id, "version": 2}}
    with running_worker(support_ctx.bus) as bus:
        publish(bus, envelope("accounts.account.linked.v1", {"account_id": account_id, "code": "C-1"}))
        poison = publish(bus, envelope("accounts.account.updated.v1", bad))
        parked = wait_parked(bus, poison.id)
        wait_settled(bus, "handled")
    assert parked.reason == "invalid-payload"
    assert _known(support_ctx, account_id) is None


def test_ticket_shows_the_snapshot(support_ctx: SupportContext, issuer: TestIssuer) -> None:
    from support.app import create_app

    client = create_app(support_ctx, verifier=issuer.verifier()).test_client()
    agent = issuer.headers("agent", "support_agent")
    account_id = str(uuid.uuid4())
    with running_worker(support_ctx.bus) as bus:
        publish(
            bus,
            envelope(
                "accounts.credit.hold_placed.v1",
                {"account_id": account_id, "account": snapshot(account_id, 3, credit_hold=True)},
            ),
        )
        wait_settled(bus, "handled")
    resp = client.post(
        "/api/v1/support/tickets",
        headers=agent,
        json={"account_id": account_id, "kind": "inquiry", "subject": "Where is my order?"},
    )
    assert resp.status_code == 201
    assert resp.json["account"] == {
        "id": account_id,
        "code": "C-000042",
        "name": "Hangzhou Bamboo Co., Ltd.",
        "owner_id": "rep1",
        "owner_team": "east",
        "grade": "B",
        "member": True,
        "key_customer": False,
        "status": "active",
        "credit_hold": True,
        "timezone": "Asia/Shanghai",
        "version": 3,
        "contact": {"name": "Wang Wu", "title": "总", "mobile": "+8613800138000", "email": "wang@x.cn"},
    }
