"""leads consuming ``accounts.account.opened.v1``: the account_companies read model."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from leads.intake.models import AccountCompany
from leads.wiring import LeadsContext
from testkit.events import envelope, publish, running_worker, wait_parked, wait_settled

pytestmark = pytest.mark.integration
OPENED = "accounts.account.opened.v1"


def opened(**overrides):
    """A payload as accounts publishes it (see accounts.events.opened_payload)."""
    account_id = str(uuid.uuid4())
    data = {
        "account_id": account_id, "code": "C-000042", "name": "Hangzhou Bamboo Co., Ltd.",
        "company": "Hangzhou Bamboo Co., Ltd.", "phone": None, "email": None,
        "owner_id": "rep1", "owner_team": "east", "source_lead_id": None,
        "source_lead_code": None, "source_lead_name": None,
        "opened_at": "2026-11-23T09:30:01+00:00", "opened_by": "admin", "version": 1,
    }
    return {**data, **overrides}


def _rows(ctx: LeadsContext) -> list[AccountCompany]:
    with ctx.bus.session_factory() as s:
        return list(s.scalars(select(AccountCompany)))


def test_redelivery_applies_the_read_model_once(leads_ctx: LeadsContext) -> None:
    data = opened()
    env = envelope(OPENED, data, subject=data["account_id"], source="crm/accounts")
    with running_worker(leads_ctx.bus) as bus:
        publish(bus, env)
        publish(bus, env)
        wait_settled(bus, "duplicate")
        assert wait_settled(bus, "handled") == 1
    [row] = _rows(leads_ctx)
    assert (row.account_id, row.company_key, row.owner_id, row.version) == (
        data["account_id"], "hangzhoubamboo", "rep1", 1)


def test_an_older_version_never_overwrites_a_newer_one(leads_ctx: LeadsContext) -> None:
    data = opened(version=3, owner_id="rep2")
    with running_worker(leads_ctx.bus) as bus:
        publish(bus, envelope(OPENED, data))
        publish(bus, envelope(OPENED, {**data, "version": 2, "owner_id": "rep1"}))
        wait_settled(bus, "handled", count=2)
    [row] = _rows(leads_ctx)
    assert (row.owner_id, row.version) == ("rep2", 3)


def test_a_persons_account_has_no_company_row(leads_ctx: LeadsContext) -> None:
    with running_worker(leads_ctx.bus) as bus:
        publish(bus, envelope(OPENED, opened(company=None, name="Wang Wu")))
        wait_settled(bus, "handled")
    with leads_ctx.bus.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(AccountCompany)) == 0


def test_known_accounts_show_in_dedupe_authorized_list_and_referrals(
        leads_ctx: LeadsContext, client, rep2) -> None:
    data = opened()
    with running_worker(leads_ctx.bus) as bus:
        publish(bus, envelope(OPENED, data))
        wait_settled(bus, "handled")
    resp = client.post("/api/v1/leads/dedupe-check", headers=rep2,
                       json={"name": "Wang", "company": "杭州 Hangzhou Bamboo 有限公司"})
    assert resp.status_code == 200
    resp = client.post("/api/v1/leads/dedupe-check", headers=rep2,
                       json={"name": "Wang", "company": "Hangzhou Bamboo Ltd"})
    [match] = resp.json["matches"]
    assert (match["kind"], match["id"], match["rule"], match["owner_id"]) == (
        "account", data["account_id"], "company_fuzzy", "rep1")
    items = client.get("/api/v1/leads/authorized?company=Hangzhou Bamboo",
                       headers=rep2).json["items"]
    assert [(i["kind"], i["owner_id"], i["protected_until"]) for i in items] == [("account", "rep1", None)]
    resp = client.post("/api/v1/leads", headers=rep2, json={
        "name": "Li Si", "phone": "13900139000", "source": "referral",
        "referrer_type": "account", "referrer_id": data["account_id"]})
    assert resp.status_code == 201 and resp.json["owner_id"] == "rep1"


@pytest.mark.parametrize("event_type", [OPENED, "accounts.account.linked.v1"])
def test_poison_payload_is_parked_and_consumer_goes_on(leads_ctx: LeadsContext, event_type: str) -> None:
    bad = opened()
    del bad["account_id"]  # required by both consumer schemas
    with running_worker(leads_ctx.bus) as bus:
        poison = publish(bus, envelope(event_type, bad))
        publish(bus, envelope(OPENED, opened()))
        parked = wait_parked(bus, poison.id)
        wait_settled(bus, "handled")
    assert parked.reason == "invalid-payload" and "account_id" in (parked.error or "")
    assert len(_rows(leads_ctx)) == 1
