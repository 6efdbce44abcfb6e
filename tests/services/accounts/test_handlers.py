"""accounts consuming ``leads.lead.converted.v1``: real envelopes through the bus's consumer."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from accounts.models import Account, AccountAudit
from accounts.wiring import AccountsContext
from testkit.events import (
    envelope,
    outbox_events,
    publish,
    publish_raw,
    running_worker,
    wait_parked,
    wait_settled,
)

pytestmark = pytest.mark.integration
CONVERTED = "leads.lead.converted.v1"


def converted(**overrides):  # type: ignore[no-untyped-def]
    """A payload as leads publishes it (see leads.events.converted_payload)."""
    lead_id = str(uuid.uuid4())
    data = {
        "lead_id": lead_id, "code": "L-000007", "name": "Wang Wu",
        "company": "Hangzhou Bamboo Co., Ltd.", "phone": "+8657188886666",
        "email": "Wang.Wu@bamboo.example", "source": "trade_show", "owner_id": "rep1",
        "owner_team": "east", "registered_at": "2026-11-20T08:00:00+00:00",
        "converted_at": "2026-11-23T09:30:00+00:00", "converted_by": "rep1",
        "contacts": [{"name": "Wang Wu", "phone": "+8657188886666", "email": "Wang.Wu@bamboo.example"}],
    }
    return {**data, **overrides}


def _count(ctx: AccountsContext, model) -> int:  # type: ignore[no-untyped-def]
    with ctx.bus.session_factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def _accounts(ctx: AccountsContext) -> list[Account]:
    with ctx.bus.session_factory() as s:
        return list(s.scalars(select(Account).order_by(Account.code)))


def test_conversion_opens_an_audited_account_and_announces_it(accounts_ctx: AccountsContext) -> None:
    data = converted()
    with running_worker(accounts_ctx.bus) as bus:
        event = publish(bus, envelope(CONVERTED, data, subject=data["lead_id"], source="crm/leads"))
        wait_settled(bus, "handled")

    [account] = _accounts(accounts_ctx)
    assert account.code == "C-000001" and account.status == "active"
    assert account.name == "Hangzhou Bamboo Co., Ltd." and account.company == data["company"]
    assert (account.owner_id, account.owner_team) == ("rep1", "east")
    assert account.source_lead_id == data["lead_id"]
    with accounts_ctx.bus.session_factory() as s:
        audit = s.scalars(select(AccountAudit)).one()
    assert (audit.account_id, audit.actor, audit.action) == (account.id, "rep1", "opened")
    assert audit.reason == "converted from lead L-000007"

    [opened] = outbox_events(accounts_ctx.bus, "accounts.account.opened.v1")
    assert opened["subject"] == account.id
    # The new event names the conversion as its cause and keeps its correlation.
    assert opened["causationid"] == event.id and opened["correlationid"] == event.correlationid
    assert opened["data"] == {
        "account_id": account.id, "code": "C-000001", "name": "Hangzhou Bamboo Co., Ltd.",
        "company": data["company"], "phone": data["phone"], "email": data["email"],
        "owner_id": "rep1", "owner_team": "east", "source_lead_id": data["lead_id"],
        "source_lead_code": "L-000007", "source_lead_name": "Wang Wu",
        "opened_at": opened["data"]["opened_at"], "opened_by": "rep1", "version": 1,
    }


def test_person_without_company_names_the_account(accounts_ctx: AccountsContext) -> None:
    with running_worker(accounts_ctx.bus) as bus:
        publish(bus, envelope(CONVERTED, converted(company=None)))
        wait_settled(bus, "handled")
    assert _accounts(accounts_ctx)[0].name == "Wang Wu"


def test_redelivery_opens_one_account(accounts_ctx: AccountsContext) -> None:
    env = envelope(CONVERTED, converted())
    with running_worker(accounts_ctx.bus) as bus:
        publish(bus, env)
        publish(bus, env)
        wait_settled(bus, "duplicate")
        assert wait_settled(bus, "handled") == 1
    assert _count(accounts_ctx, Account) == 1 and _count(accounts_ctx, AccountAudit) == 1
    assert len(outbox_events(accounts_ctx.bus, "accounts.account.opened.v1")) == 1


def test_another_event_for_the_same_lead_creates_no_twin(accounts_ctx: AccountsContext) -> None:
    data = converted()
    with running_worker(accounts_ctx.bus) as bus:
        publish(bus, envelope(CONVERTED, data))
        publish(bus, envelope(CONVERTED, {**data, "converted_by": "manager"}))
        wait_settled(bus, "handled", count=2)
    assert _count(accounts_ctx, Account) == 1 and _count(accounts_ctx, AccountAudit) == 1
    assert len(outbox_events(accounts_ctx.bus, "accounts.account.opened.v1")) == 1


def test_poison_payload_is_parked_and_consumer_goes_on(accounts_ctx: AccountsContext) -> None:
    bad = converted()
    del bad["lead_id"]
    with running_worker(accounts_ctx.bus) as bus:
        poison = publish(bus, envelope(CONVERTED, bad))
        publish_raw(bus, CONVERTED, b"{not json", message_id="garbage-1")
        publish(bus, envelope(CONVERTED, converted()))
        parked = wait_parked(bus, poison.id)
        wait_parked(bus, "garbage-1")
        wait_settled(bus, "handled")
    assert parked.reason == "invalid-payload" and "lead_id" in (parked.error or "")
    assert parked.event_type == CONVERTED
    assert _count(accounts_ctx, Account) == 1


def test_events_emitted_by_handlers_reach_the_broker(accounts_ctx: AccountsContext) -> None:
    """The relay publishes what the handler wrote to the outbox (woken on commit)."""
    from eventbus.testing import wait_for

    with running_worker(accounts_ctx.bus) as bus:
        publish(bus, envelope(CONVERTED, converted()))
        wait_for(lambda: bus.outbox_backlog()["unsent"] == 0 and outbox_events(bus), 10,
                 message="opened event relayed")
