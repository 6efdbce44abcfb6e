"""Consumer-driven contract checks: what each producer builds is what each consumer parses.

Producers' payload functions run on unsaved model instances; consumers' schemas are the ones
their subscriptions use. A renamed or dropped field fails here, not in a parked queue.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from testkit.catalogue import catalogue_text

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _converted_payload() -> dict:
    from leads.events import converted_payload
    from leads.models import Lead

    lead = Lead(id=str(uuid.uuid4()), code="L-000007", name="Wang Wu", company="Bamboo Co.",
                phone="+8657188886666", email="wang.wu@bamboo.example", source="trade_show",
                owner_id="rep1", owner_team="east", status="converted", registered_by="rep1",
                created_at=NOW, updated_at=NOW, converted_at=NOW, converted_by="rep1", version=2)
    return converted_payload(lead)


def _opened_payload(from_lead: bool) -> dict:
    from accounts.events import opened_payload
    from accounts.models import Account

    account = Account(id=str(uuid.uuid4()), code="C-000001", name="Bamboo Co.", company="Bamboo Co.",
                      phone=None, email=None, owner_id="rep1", owner_team="east",
                      source_lead_id=str(uuid.uuid4()) if from_lead else None, status="active",
                      created_at=NOW, updated_at=NOW, version=1)
    if from_lead:
        return opened_payload(account, opened_by="rep1", source_lead_code="L-000007",
                              source_lead_name="Wang Wu")
    return opened_payload(account, opened_by="admin")


def test_accounts_reads_what_leads_publishes() -> None:
    from accounts.events import LeadConvertedIn

    data = LeadConvertedIn().load(_converted_payload())
    assert data["code"] == "L-000007" and data["converted_by"] == "rep1"
    assert "contacts" not in data  # consumers keep only what they read


@pytest.mark.parametrize("from_lead", [True, False])
@pytest.mark.parametrize("consumer", ["leads", "support", "notify"])
def test_consumers_read_what_accounts_publishes(consumer: str, from_lead: bool) -> None:
    import importlib

    schema = importlib.import_module(f"{consumer}.events").AccountOpenedIn()
    payload = _opened_payload(from_lead)
    data = schema.load(payload)
    assert data["account_id"] == payload["account_id"]
    assert set(data) <= set(payload)


def test_every_published_type_is_in_the_catalogue() -> None:

    catalogue = catalogue_text()
    from accounts import events as accounts
    from leads import events as leads
    from leads import events_ownership as leads_ownership
    from leads import events_pipeline as leads_pipeline
    from notify import events as notify
    from support import events as support

    for published in (leads.LEAD_REGISTERED, leads.LEAD_CONVERTED, leads.VISIT_RECORDED,
                      leads.LEAD_MERGED, leads.LEAD_UNMERGED, accounts.ACCOUNT_OPENED,
                      support.TICKET_OPENED, notify.NOTIFICATION_CREATED, *leads_pipeline.PUBLISHED,
                      *leads_ownership.PUBLISHED):
        assert f"`{published}`" in catalogue, published


def test_every_cadence_kind_has_an_event_type() -> None:
    """A new reminder kind in the rules must get a published type (the scheduler looks it up)."""
    from leads import cadence
    from leads.events_pipeline import PUBLISHED, REMINDER_TYPES

    kinds = {v for k, v in vars(cadence).items() if k.isupper() and isinstance(v, str) and v != "trade_show"}
    assert set(REMINDER_TYPES) == kinds
    assert set(REMINDER_TYPES.values()) <= set(PUBLISHED)
