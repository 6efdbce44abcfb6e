"""leads consuming ``accounts.account.linked.v1``: the converted lead records its account."""

from __future__ import annotations

import uuid

import pytest

from leads.intake.models import Lead
from leads.wiring import LeadsContext
from testkit.events import envelope, publish, running_worker, wait_settled

pytestmark = pytest.mark.integration
LINKED = "accounts.account.linked.v1"
LEAD = {"name": "Wang Wu", "company": "Bamboo Ltd", "phone": "13800138000", "source": "walk_in"}


def _converted_lead_and_link(client, rep1, code: str) -> tuple[str, str, dict]:  # type: ignore[no-untyped-def]
    """A converted lead of rep1, a new account id and the linked event's payload for them."""
    lead_id = client.post("/api/v1/leads", json=LEAD, headers=rep1).json["id"]
    assert client.post(f"/api/v1/leads/{lead_id}/convert", headers=rep1).status_code == 202
    account_id = str(uuid.uuid4())
    data = {"account_id": account_id, "code": code, "name": "Bamboo Ltd",
            "source_lead_id": lead_id, "source_lead_code": "L-000001", "source_lead_name": "Wang Wu",
            "owner_id": "rep2", "lead_owner_id": "rep1", "linked_at": "2026-11-23T09:30:01+00:00",
            "linked_by": "rep1"}
    return lead_id, account_id, data


def test_linked_account_is_recorded_on_the_lead_once(client, rep1, leads_ctx: LeadsContext):
    lead_id, account_id, data = _converted_lead_and_link(client, rep1, "C-000042")
    env = envelope(LINKED, data, subject=account_id, source="crm/accounts")
    with running_worker(leads_ctx.bus) as bus:
        publish(bus, env)
        publish(bus, env)
        wait_settled(bus, "duplicate")
        assert wait_settled(bus, "handled") == 1
    with leads_ctx.bus.session_factory() as s:
        lead = s.get(Lead, lead_id)
    assert lead.account_id == account_id and lead.version == 3  # registered, converted, linked
    assert client.get(f"/api/v1/leads/{lead_id}", headers=rep1).json["account_id"] == account_id


def test_a_second_event_naming_the_same_account_changes_nothing(client, rep1, leads_ctx: LeadsContext):
    """A different event (not a redelivery the inbox drops) for an account the lead already
    records: no new version; one for a lead this service does not know: handled, no effect."""
    lead_id, account_id, data = _converted_lead_and_link(client, rep1, "C-000043")
    unknown = {**data, "source_lead_id": str(uuid.uuid4())}
    with running_worker(leads_ctx.bus) as bus:
        for payload in (data, data, unknown):
            publish(bus, envelope(LINKED, payload, subject=account_id, source="crm/accounts"))
        assert wait_settled(bus, "handled", 3) == 3
    with leads_ctx.bus.session_factory() as s:
        lead = s.get(Lead, lead_id)
    assert lead.account_id == account_id and lead.version == 3  # registered, converted, linked once


def test_a_copy_of_the_lead_loaded_earlier_in_the_transaction_sees_the_link(
        client, rep1, leads_ctx: LeadsContext):
    """A batch's handlers share one session: a lead an earlier event loaded is not left stale
    by the link's UPDATE (nor does the ORM later write the old account back)."""
    from leads.intake.handlers import on_account_linked

    lead_id, account_id, data = _converted_lead_and_link(client, rep1, "C-000044")
    env = envelope(LINKED, data, subject=account_id, source="crm/accounts")
    with leads_ctx.bus.session_factory() as s, s.begin():
        lead = s.get(Lead, lead_id)
        assert lead is not None and lead.account_id is None and lead.version == 2
        on_account_linked(s, env, data)
        assert (lead.account_id, lead.version) == (account_id, 3)
        lead.email = "later@example.com"  # a later change in the same transaction
    with leads_ctx.bus.session_factory() as s:
        again = s.get(Lead, lead_id)
    assert again is not None and (again.account_id, again.version) == (account_id, 3)
