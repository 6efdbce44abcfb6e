"""A converted lead whose company already is an active account is linked to it, not twinned."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from accounts.models import Account, AccountAudit, LeadLink
from accounts.wiring import AccountsContext
from testkit.events import envelope, outbox_events, publish, running_worker, wait_settled

pytestmark = pytest.mark.integration
CONVERTED = "leads.lead.converted.v1"
LINKED = "accounts.account.linked.v1"


def converted(**overrides):  # type: ignore[no-untyped-def]
    """A payload as leads publishes it (see leads.events.converted_payload)."""
    data = {
        "lead_id": str(uuid.uuid4()), "code": "L-000007", "name": "Wang Wu",
        "company": "Hangzhou Bamboo Co., Ltd.", "phone": "+8657188886666",
        "email": "wang.wu@bamboo.example", "source": "trade_show", "owner_id": "rep1",
        "owner_team": "east", "registered_at": "2026-11-20T08:00:00+00:00",
        "converted_at": "2026-11-23T09:30:00+00:00", "converted_by": "rep1", "contacts": [],
    }
    return {**data, **overrides}


def _count(ctx: AccountsContext, model) -> int:  # type: ignore[no-untyped-def]
    with ctx.bus.session_factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def _first_account(ctx: AccountsContext) -> Account:
    with ctx.bus.session_factory() as s:
        return s.scalars(select(Account).order_by(Account.code)).first()


def _open_existing(ctx: AccountsContext, company: str = "Hangzhou Bamboo Co., Ltd.") -> Account:
    """An account for the company, opened by an earlier conversion (owner rep2)."""
    with running_worker(ctx.bus) as bus:
        publish(bus, envelope(CONVERTED, converted(company=company, owner_id="rep2",
                                                   converted_by="rep2", code="L-000001")))
        wait_settled(bus, "handled")
    return _first_account(ctx)


def test_opened_account_keeps_its_company_key(accounts_ctx: AccountsContext) -> None:
    assert _open_existing(accounts_ctx, "杭州竹子有限公司").company_key == "杭州竹子"


def test_same_company_links_instead_of_opening_a_twin(accounts_ctx: AccountsContext) -> None:
    existing = _open_existing(accounts_ctx)
    # Another spelling of the same company: full-width, different legal suffix and case.
    data = converted(company="\uff28\uff21\uff2e\uff27\uff3a\uff28\uff2f\uff35  bamboo Ltd",  # full-width
                     owner_id="rep1", converted_by="manager")
    with running_worker(accounts_ctx.bus) as bus:
        event = publish(bus, envelope(CONVERTED, data, subject=data["lead_id"]))
        wait_settled(bus, "handled", count=2)  # the first was _open_existing's

    assert _count(accounts_ctx, Account) == 1
    with accounts_ctx.bus.session_factory() as s:
        link = s.get(LeadLink, data["lead_id"])
        audit = s.scalars(select(AccountAudit).where(AccountAudit.action == "linked")).one()
        account = s.get(Account, existing.id)
    assert link is not None and link.account_id == existing.id and link.linked_by == "manager"
    assert (audit.account_id, audit.actor) == (existing.id, "manager")
    assert audit.reason == "lead L-000007 linked to existing account" and audit.changes == "{}"
    assert account.owner_id == "rep2" and account.version == 1  # the account is unchanged

    [linked] = outbox_events(accounts_ctx.bus, LINKED)
    assert linked["subject"] == existing.id and linked["causationid"] == event.id
    assert linked["data"] == {
        "account_id": existing.id, "code": existing.code, "name": existing.name,
        "source_lead_id": data["lead_id"], "source_lead_code": "L-000007",
        "source_lead_name": "Wang Wu", "owner_id": "rep2", "lead_owner_id": "rep1",
        "linked_at": linked["data"]["linked_at"], "linked_by": "manager",
    }


def test_redelivered_and_repeated_conversion_links_once(accounts_ctx: AccountsContext) -> None:
    _open_existing(accounts_ctx)
    data = converted()
    env = envelope(CONVERTED, data)
    with running_worker(accounts_ctx.bus) as bus:
        publish(bus, env)
        publish(bus, env)
        publish(bus, envelope(CONVERTED, {**data, "converted_by": "manager"}))
        wait_settled(bus, "duplicate")
        wait_settled(bus, "handled", count=2)
    assert _count(accounts_ctx, Account) == 1 and _count(accounts_ctx, LeadLink) == 1
    assert len(outbox_events(accounts_ctx.bus, LINKED)) == 1


def test_another_company_or_a_person_opens_a_new_account(accounts_ctx: AccountsContext) -> None:
    _open_existing(accounts_ctx)
    with running_worker(accounts_ctx.bus) as bus:
        publish(bus, envelope(CONVERTED, converted(company="Suzhou Silk Co., Ltd.")))
        publish(bus, envelope(CONVERTED, converted(company=None)))
        wait_settled(bus, "handled", count=2)
    assert _count(accounts_ctx, Account) == 3 and _count(accounts_ctx, LeadLink) == 0
    assert outbox_events(accounts_ctx.bus, LINKED) == []


def test_an_inactive_account_is_not_linked_to(accounts_ctx: AccountsContext) -> None:
    existing = _open_existing(accounts_ctx)
    with accounts_ctx.bus.session_factory() as s, s.begin():
        s.get(Account, existing.id).status = "closed"
    with running_worker(accounts_ctx.bus) as bus:
        publish(bus, envelope(CONVERTED, converted()))
        wait_settled(bus, "handled", count=2)  # the first was _open_existing's
    assert _count(accounts_ctx, Account) == 2 and _count(accounts_ctx, LeadLink) == 0
