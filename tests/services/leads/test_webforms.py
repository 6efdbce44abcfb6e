"""Public web forms: keys shown once, scoping, per-form rate limit, honeypot, intake dedupe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from leads.db import OUTBOX
from leads.intake.models import Lead
from leads.webforms.models import WebForm, WebFormSubmission
from leads.wiring import LeadsContext

pytestmark = pytest.mark.integration
FORMS = "/api/v1/leads/web-forms"
PERSON = {"name": "李雷", "company": "韩梅梅贸易有限公司", "phone": "138 0013 8000",
          "message": "请报价"}
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def form(client, manager, leads_ctx: LeadsContext):
    leads_ctx.clock = lambda: NOW
    resp = client.post(FORMS, json={"name": "官网咨询", "rate_limit_per_minute": 3}, headers=manager)
    assert resp.status_code == 201, resp.json
    return resp.json


def submit(client, form, body=None, key=None):
    return client.post(f"{FORMS}/{form['id']}/submissions", json=body or PERSON,
                       headers={"X-Form-Key": key if key is not None else form["key"]})


def _leads(ctx: LeadsContext) -> list[Lead]:
    with ctx.bus.session_factory() as s:
        return list(s.scalars(select(Lead)))


def _outcomes(ctx: LeadsContext) -> list[str]:
    with ctx.bus.session_factory() as s:
        return [r.outcome for r in s.scalars(select(WebFormSubmission).order_by(WebFormSubmission.at))]


def test_create_shows_the_key_once_and_stores_only_its_hash(client, form, manager, leads_ctx):
    assert form["key"].startswith("wf_") and form["owner_id"] == "manager"
    assert form["owner_team"] == "east" and form["active"] is True
    listed = client.get(FORMS, headers=manager).json["items"]
    assert [f["id"] for f in listed] == [form["id"]] and "key" not in listed[0]
    with leads_ctx.bus.session_factory() as s:
        stored = s.get(WebForm, form["id"])
    assert form["key"] not in stored.key_hash and len(stored.key_hash) == 64


def test_who_manages_forms(client, form, rep1, west_manager, admin):
    assert client.post(FORMS, json={"name": "x"}, headers=rep1).status_code == 403
    assert client.get(FORMS, headers=west_manager).json["items"] == []
    assert client.post(f"{FORMS}/{form['id']}/rotate-key", headers=west_manager).status_code == 404
    assert client.post(FORMS, json={"name": "x", "owner_team": "east"},
                       headers=west_manager).status_code == 403
    # Admins must say which team and who receives the leads.
    missing = client.post(FORMS, json={"name": "x"}, headers=admin)
    assert missing.status_code == 422 and set(missing.json["errors"]["json"]) == {"owner_team", "owner_id"}
    assert len(client.get(FORMS, headers=admin).json["items"]) == 1


def test_submission_registers_a_web_form_lead_through_intake(client, form, leads_ctx):
    resp = submit(client, form)
    assert resp.status_code == 202, resp.json
    assert resp.json["status"] == "received" and "lead_id" not in resp.json
    [lead] = _leads(leads_ctx)
    assert (lead.source, lead.owner_id, lead.owner_team) == ("web_form", "manager", "east")
    assert lead.phone == "+8613800138000" and lead.company_key == "韩梅梅贸易"
    assert lead.registered_by == f"web-form:{form['id']}"
    with leads_ctx.bus.session_factory() as s:
        types = [r.event_type for r in s.execute(select(OUTBOX.c.event_type))]
        [row] = s.scalars(select(WebFormSubmission))
    assert "leads.lead.registered.v1" in types
    assert (row.outcome, row.lead_id, row.message) == ("created", lead.id, "请报价")


def test_same_phone_again_is_a_duplicate_not_a_twin(client, form, leads_ctx):
    assert submit(client, form).status_code == 202
    again = submit(client, form, {**PERSON, "phone": "+86 138-0013-8000", "name": "Li Lei"})
    assert again.status_code == 202 and again.json["status"] == "received"
    assert len(_leads(leads_ctx)) == 1 and _outcomes(leads_ctx) == ["created", "duplicate"]


def test_honeypot_is_accepted_silently_and_creates_nothing(client, form, leads_ctx):
    resp = submit(client, form, {**PERSON, "website": "http://spam.example"})
    assert resp.status_code == 202 and resp.json["status"] == "received"
    assert _leads(leads_ctx) == [] and _outcomes(leads_ctx) == ["spam"]


def test_validation_is_the_normal_intakes(client, form):
    resp = submit(client, form, {"name": "No Contact"})
    assert resp.status_code == 422 and "phone" in resp.json["errors"]["json"]
    assert submit(client, form, {**PERSON, "phone": "12"}).status_code == 422
    assert submit(client, form, {**PERSON, "owner_id": "rep1"}).status_code == 422


def test_key_is_required_and_checked(client, form, manager):
    assert client.post(f"{FORMS}/{form['id']}/submissions", json=PERSON).status_code == 401
    assert submit(client, form, key="wf_wrong").status_code == 401
    assert submit(client, {"id": "nope", "key": form["key"]}).status_code == 401
    # A user token is no substitute for the form's key.
    assert client.post(f"{FORMS}/{form['id']}/submissions", json=PERSON,
                       headers=manager).status_code == 401


def test_rotation_and_deactivation(client, form, manager):
    rotated = client.post(f"{FORMS}/{form['id']}/rotate-key", headers=manager)
    assert rotated.status_code == 200 and rotated.json["key"] != form["key"]
    assert submit(client, form).status_code == 401
    assert submit(client, form, key=rotated.json["key"]).status_code == 202
    assert client.delete(f"{FORMS}/{form['id']}", headers=manager).status_code == 204
    assert submit(client, form, {**PERSON, "phone": "13900139000"},
                  key=rotated.json["key"]).status_code == 401
    assert client.get(FORMS, headers=manager).json["items"][0]["active"] is False


def test_per_form_rate_limit_answers_429_with_retry_after(client, form, leads_ctx):
    for n in range(3):
        leads_ctx.clock = lambda n=n: NOW + timedelta(seconds=10 * n)
        assert submit(client, form, {**PERSON, "phone": f"1390013900{n}"}).status_code == 202
    leads_ctx.clock = lambda: NOW + timedelta(seconds=25)
    limited = submit(client, form, {**PERSON, "phone": "13900139009"})
    assert limited.status_code == 429
    assert limited.content_type == "application/problem+json"
    assert limited.headers["Retry-After"] == "35"  # the first one leaves the window at 60 s
    leads_ctx.clock = lambda: NOW + timedelta(seconds=61)
    assert submit(client, form, {**PERSON, "phone": "13900139009"}).status_code == 202
    assert len(_leads(leads_ctx)) == 4


def test_only_the_submission_route_is_public(client, form):
    assert client.get(FORMS).status_code == 401
    assert client.get(f"{FORMS}/{form['id']}/submissions").status_code == 401
    assert client.post(f"{FORMS}/{form['id']}/rotate-key").status_code == 401
