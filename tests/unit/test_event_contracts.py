"""Consumer-driven contract checks: what each producer builds is what each consumer parses.

Producers' payload functions run on unsaved model instances; consumers' schemas are the ones
their subscriptions use. A renamed or dropped field fails here, not in a parked queue.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from testkit.catalogue import catalogue_text
from testkit.jsonformats import FORMATS

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


# --- published schemas (eventbus.contracts): AsyncAPI and each event's dataschema -------------

def _all_contracts() -> dict[str, object]:
    import importlib

    for module in ("leads.events", "leads.events_ownership", "leads.events_pipeline", "accounts.events",
                   "support.events", "notify.events"):
        importlib.import_module(module)
    from eventbus.contracts import contracts

    return {c.type: c for c in contracts()}


def _catalogue_types() -> set[str]:
    import re

    index = catalogue_text().split("## Transport")[0]
    return set(re.findall(r"^\| \[`([a-z_.0-9]+\.v\d+)`\]", index, flags=re.MULTILINE))


def test_every_catalogued_type_publishes_a_schema_and_nothing_else_does() -> None:
    """A new event type goes into docs/events.md AND registers its payload schema with
    eventbus.contracts.publishes in the producer's events module (docs/events.md, "Schemas")."""
    registered = set(_all_contracts())
    catalogued = _catalogue_types()
    assert catalogued, "no types found in the catalogue's index table"
    assert catalogued - registered == set(), "catalogued without a published schema"
    assert registered - catalogued == set(), "published schema without a catalogue row"


def _validate(type_: str, payload: dict) -> None:
    import jsonschema

    from eventbus.contracts import contract_for, payload_schema

    contract = contract_for(type_)
    assert contract is not None, type_
    schema = payload_schema(contract)
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema, format_checker=FORMATS)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]
    assert not errors, (type_, errors)
    assert set(payload) <= set(schema["properties"]), (type_, set(payload) - set(schema["properties"]))


def test_what_producers_build_validates_against_their_published_schemas() -> None:
    """A generic JSON Schema validator (as an outside subscriber would use) accepts each payload
    the producers' own functions build; a renamed or retyped field fails here."""
    _all_contracts()
    _validate("leads.lead.converted.v1", _converted_payload())
    _validate("accounts.account.opened.v1", _opened_payload(from_lead=True))
    _validate("accounts.account.opened.v1", _opened_payload(from_lead=False))
    from leads.events import lead_payload
    from leads.models import Lead

    lead = Lead(id=str(uuid.uuid4()), code="L-000008", name="Li Si", company=None, phone=None,
                email="li.si@example.com", source="walk_in", owner_id="rep2", owner_team=None,
                status="open", registered_by="rep2", created_at=NOW, updated_at=NOW, version=1)
    _validate("leads.lead.registered.v1", lead_payload(lead))
    from support.events import ticket_opened_payload
    from support.models import Ticket

    ticket = Ticket(id=str(uuid.uuid4()), code="T-000001", account_id=str(uuid.uuid4()), kind="repair",
                    subject="Noisy", description="", status="open", priority="normal",
                    created_by="agent", created_at=NOW, updated_at=NOW, version=1)
    _validate("support.ticket.opened.v1", ticket_opened_payload(ticket))


def test_a_wrong_payload_is_refused_by_the_published_schema() -> None:
    import pytest as _pytest

    _all_contracts()
    payload = _opened_payload(from_lead=True)
    for broken in ({**payload, "version": "1"}, {k: v for k, v in payload.items() if k != "code"},
                   {**payload, "opened_at": "yesterday"}, {**payload, "opened_at": "2026-11-23T09:30:00"},
                   {**payload, "name": None}, {**payload, "account_id": "not-a-uuid"}):
        with _pytest.raises(AssertionError):
            _validate("accounts.account.opened.v1", broken)


def test_publishing_the_same_type_with_another_schema_is_refused() -> None:
    from marshmallow import Schema

    from eventbus.contracts import publishes

    _all_contracts()

    class Other(Schema):
        pass

    with pytest.raises(ValueError, match="already published"):
        publishes("accounts.account.opened.v1", Other, summary="x", subject="y")
    with pytest.raises(ValueError, match=r"service\.entity\.fact"):
        publishes("AccountOpened", Other, summary="x", subject="y")
