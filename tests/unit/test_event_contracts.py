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

# The module holding a consumer's schemas of accounts' events.
EVENTS_MODULE = {"leads": "leads.intake.events"}


NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _converted_payload() -> dict:
    from leads.intake.events import converted_payload
    from leads.intake.models import Lead

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
    # the archive keeps the lead's contact persons
    assert [c["name"] for c in data["contacts"]] == ["Wang Wu"]


@pytest.mark.parametrize("from_lead", [True, False])
@pytest.mark.parametrize("consumer", ["leads", "support", "notify"])
def test_consumers_read_what_accounts_publishes(consumer: str, from_lead: bool) -> None:
    import importlib

    schema = importlib.import_module(EVENTS_MODULE.get(consumer, f"{consumer}.events")).AccountOpenedIn()
    payload = _opened_payload(from_lead)
    data = schema.load(payload)
    assert data["account_id"] == payload["account_id"]
    assert set(data) <= set(payload)


def test_every_published_type_is_in_the_catalogue() -> None:

    catalogue = catalogue_text()
    from accounts import events as accounts
    from leads.intake import events as leads
    from leads.ownership import events as leads_ownership
    from leads.pipeline import events as leads_pipeline
    from notify import events as notify
    from support import events as support

    for published in (leads.LEAD_REGISTERED, leads.LEAD_CONVERTED, leads.VISIT_RECORDED,
                      leads.LEAD_MERGED, leads.LEAD_UNMERGED, accounts.ACCOUNT_OPENED,
                      support.TICKET_OPENED, notify.NOTIFICATION_CREATED, *leads_pipeline.PUBLISHED,
                      *leads_ownership.PUBLISHED, *support.PUBLISHED):
        assert f"`{published}`" in catalogue, published


def test_every_cadence_kind_has_an_event_type() -> None:
    """A new reminder kind in the rules must get a published type (the scheduler looks it up)."""
    from leads.pipeline import cadence
    from leads.pipeline.events import PUBLISHED, REMINDER_TYPES

    kinds = {v for k, v in vars(cadence).items() if k.isupper() and isinstance(v, str) and v != "trade_show"}
    assert set(REMINDER_TYPES) == kinds
    assert set(REMINDER_TYPES.values()) <= set(PUBLISHED)


# --- published schemas (eventbus.contracts): AsyncAPI and each event's dataschema -------------

def _all_contracts() -> dict[str, object]:
    import importlib

    for module in ("leads.intake.events", "leads.ownership.events", "leads.pipeline.events",
                   "accounts.events", "support.events", "notify.events"):
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
    from leads.intake.events import lead_payload
    from leads.intake.models import Lead

    lead = Lead(id=str(uuid.uuid4()), code="L-000008", name="Li Si", company=None, phone=None,
                email="li.si@example.com", source="walk_in", owner_id="rep2", owner_team=None,
                status="open", registered_by="rep2", created_at=NOW, updated_at=NOW, version=1)
    _validate("leads.lead.registered.v1", lead_payload(lead))
    from support.tickets.events import opened_payload
    from support.tickets.models import Ticket

    ticket = Ticket(id=str(uuid.uuid4()), code="T-000001", account_id=str(uuid.uuid4()), kind="repair",
                    subject="Noisy", description="", status="new", priority="normal",
                    created_by="agent", owner_id="agent", queue="technical", channel="phone", major=False,
                    created_at=NOW, updated_at=NOW, version=1)
    _validate("support.ticket.opened.v1", opened_payload(ticket, "rep1", {}))
    _validate("support.ticket.opened.v1", opened_payload(ticket, None, {"name": "Wang", "title": "总",
                                                                        "mobile": None, "email": None,
                                                                        "timezone": "Asia/Shanghai"}))


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

# -- support: the account snapshot it reads, the events it publishes -------------------------------

SNAPSHOT = {"id": str(uuid.uuid4()), "code": "C-000042", "name": "Hangzhou Bamboo Co., Ltd.",
            "owner_id": "rep1", "owner_team": "east", "status": "active", "archive_state": "approved",
            "grade": "B", "member": True, "key_customer": False, "credit_hold": False, "city": "Hangzhou",
            "timezone": "Asia/Shanghai",
            "contact": {"name": "Wang Wu", "title": "总", "mobile": "+8613800138000", "email": "wang@x.cn"},
            "version": 7}


@pytest.mark.parametrize("event_type", [
    "accounts.account.updated.v1", "accounts.account.status_changed.v1", "accounts.account.graded.v1",
    "accounts.archive.submitted.v1", "accounts.archive.approved.v1", "accounts.archive.rejected.v1",
    "accounts.credit.hold_placed.v1", "accounts.credit.hold_released.v1", "accounts.account.opened.v1"])
def test_support_reads_the_account_snapshot_of_every_accounts_event(event_type: str) -> None:
    """CONTRACTS.md: every accounts.account.*, accounts.archive.* and credit-hold event carries the
    ``account`` snapshot; support's subscription table finds a parser for each (by pattern)."""
    from support.handlers import subscriptions

    sub = subscriptions(lambda: NOW).get(event_type)
    assert sub is not None and sub.parse is not None
    payload = {"account_id": SNAPSHOT["id"], "code": "C-000042", "name": "Bamboo", "owner_id": "rep1",
               "version": 7, "extra": {"ignored": True}, "account": SNAPSHOT}
    data = sub.parse(payload)
    assert data["account"]["grade"] == "B" and data["account"]["member"] is True
    assert data["account"]["contact"]["mobile"] == "+8613800138000"
    assert "extra" not in data


def test_support_keeps_working_with_todays_opened_event() -> None:
    from support.handlers import subscriptions
    from support.readmodel.service import snapshot_from_opened

    data = subscriptions(lambda: NOW)["accounts.account.opened.v1"].parse(_opened_payload(True))
    assert data.get("account") is None
    assert snapshot_from_opened(data)["owner_id"] == "rep1"


def test_support_events_carry_the_contract_fields() -> None:
    """The fields CONTRACTS.md fixes for each support event, from the real payload builders."""
    from support.appointments import events as appt
    from support.appointments.models import Appointment
    from support.complaints import events as complaint
    from support.faults import events as fault
    from support.faults.models import MajorFault
    from support.sla import events as sla
    from support.tickets import events as ticket
    from support.tickets.models import Ticket
    from support.visits import events as visit
    from support.visits.models import ReturnVisit

    t = Ticket(id=str(uuid.uuid4()), code="T-000001", account_id=SNAPSHOT["id"], kind="repair",
               subject="s", status="assigned", priority="normal", queue="technical", channel="phone",
               created_by="agent", owner_id="agent", assignee_id="tech", major=False, one_stop=False,
               repeat_contacts=1, escalation_level=0, reopened=0, created_at=NOW, updated_at=NOW, version=2)
    customer = {"name": "Wang", "title": None, "mobile": None, "email": None, "timezone": None}
    a = Appointment(id="a", ticket_id=t.id, account_id=t.account_id, kind="installation", starts_at=NOW,
                    technician_id="tech", urgent=False, priority_customer=True)
    v = ReturnVisit(id="v", ticket_id=t.id, project_id=None, account_id=t.account_id, reason="resolution",
                    member=True, due_at=NOW, agent_id="agent", result="neutral", follow_up_ticket_id="f")
    f = MajorFault(id="f", ticket_id=t.id, account_id=t.account_id, occurred_at=NOW, place="p",
                   symptoms="s", plan="p", reported_by="agent")
    required = {
        "opened": (ticket.opened_payload(t, "rep1", customer),
                   {"ticket_id", "code", "account_id", "kind", "priority", "owner_id", "queue",
                    "account_owner_id", "customer"}),
        "assigned": (ticket.assigned_payload(t, "supervisor", NOW),
                     {"ticket_id", "code", "account_id", "assignee_id", "queue", "by", "at"}),
        "handed_over": (ticket.handed_over_payload(t, "agent2", "why", NOW),
                        {"ticket_id", "code", "from_id", "to_id", "reason", "at"}),
        "status_changed": (ticket.status_changed_payload(t, "new", "agent", "n", NOW, "assign"),
                           {"ticket_id", "code", "account_id", "from_status", "to_status", "owner_id",
                            "by", "note", "at"}),
        "repeat_contact": (ticket.repeat_contact_payload(t, "phone", 1, NOW),
                           {"ticket_id", "code", "account_id", "owner_id", "channel", "at"}),
        "escalated": (ticket.escalated_payload(t, 1, "support_supervisor", None, "r", NOW),
                      {"ticket_id", "code", "level", "role", "user_id", "reason", "at"}),
        "sla": (sla.sla_payload(t, "resolution", NOW, 80, NOW),
                {"ticket_id", "code", "account_id", "metric", "due_at", "owner_id", "role", "kind",
                 "priority", "at"}),
        "appointment": (appt.appointment_payload(a, t, customer, NOW),
                        {"appointment_id", "ticket_id", "code", "account_id", "technician_id", "starts_at",
                         "kind", "urgent", "customer", "at"}),
        "reminder": (appt.reminder_payload(a, t, customer, NOW),
                     {"appointment_id", "ticket_id", "code", "technician_id", "starts_at", "customer", "at"}),
        "visit_due": (visit.due_payload(v, "T-000001", "rep1", customer, NOW),
                      {"visit_id", "ticket_id", "account_id", "code", "agent_id", "due_at",
                       "account_owner_id", "customer", "at"}),
        "visit_recorded": (visit.recorded_payload(v, NOW),
                           {"visit_id", "ticket_id", "account_id", "result", "follow_up_ticket_id", "at"}),
        "fault": (fault.reported_payload(f, t, "rep1", ["group_gm"], NOW),
                  {"fault_id", "ticket_id", "account_id", "code", "account_owner_id", "occurred_at", "place",
                   "symptoms", "plan", "roles", "at"}),
        "analysis": (fault.analysis_payload(f, t, "rep1", customer, NOW),
                     {"fault_id", "ticket_id", "account_id", "impact", "handling", "cause",
                      "corrective_action", "preventive_action", "customer", "account_owner_id", "at"}),
        "step": (complaint.step_payload(t, 5, "opsmgr", NOW, None),
                 {"ticket_id", "code", "step", "step_name", "by", "at"}),
        "transferred": (complaint.transferred_payload(t, "complaint_desk", "sales_manager", NOW),
                        {"ticket_id", "code", "from_department", "to_department", "to_user", "role", "at"}),
    }
    for name, (payload, fields) in required.items():
        assert fields <= set(payload), (name, fields - set(payload))
    # ... and each validates against the schema published for its type (AsyncAPI, dataschema).
    _all_contracts()
    published = {"opened": ticket.TICKET_OPENED, "assigned": ticket.TICKET_ASSIGNED,
                 "handed_over": ticket.TICKET_HANDED_OVER, "status_changed": ticket.TICKET_STATUS_CHANGED,
                 "repeat_contact": ticket.TICKET_REPEAT_CONTACT, "escalated": ticket.TICKET_ESCALATED,
                 "sla": sla.SLA_BREACHED, "appointment": appt.APPOINTMENT_SCHEDULED,
                 "reminder": appt.APPOINTMENT_REMINDER_DUE, "visit_due": visit.RETURN_VISIT_DUE,
                 "visit_recorded": visit.RETURN_VISIT_RECORDED, "fault": fault.MAJOR_FAULT_REPORTED,
                 "analysis": fault.MAJOR_FAULT_ANALYSIS_ISSUED, "step": complaint.STEP_COMPLETED,
                 "transferred": complaint.GRIEVANCE_TRANSFERRED}
    for name, type_ in published.items():
        _validate(type_, required[name][0])
    _validate(fault.MAJOR_FAULT_UPDATED, fault.updated_payload(f, t, "crew on site", "agent", NOW))
    _validate(appt.APPOINTMENT_RESCHEDULED,
              appt.appointment_payload(a, t, customer, NOW, previous_starts_at=NOW))
    entries = [{"person_id": "agent", "person_role": "support_agent", "amount": "50"}]
    _validate(complaint.ACCOUNTABILITY_RECORDED,
              complaint.accountability_payload(t, "fine_by_level", entries, "CNY", NOW))
    assert required["sla"][0]["role"] == "support_supervisor"
    assert required["transferred"][0]["role"] == "sales_manager"
