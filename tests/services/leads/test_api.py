"""Leads API against a real PostgreSQL database."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from leads.db import OUTBOX

pytestmark = pytest.mark.integration
LEAD = {"name": "Zhang San", "company": "ACME 有限公司", "phone": "138 0013 8000", "source": "walk_in"}


def _outbox_types(ctx) -> list[str]:
    with ctx.bus.session_factory() as s:
        return [r.event_type for r in s.execute(select(OUTBOX.c.event_type).order_by(OUTBOX.c.id))]


def test_register_normalizes_and_records_event(client, rep1, leads_ctx):
    resp = client.post("/api/v1/leads", json=LEAD, headers=rep1)
    assert resp.status_code == 201
    lead = resp.json
    assert lead["phone"] == "+8613800138000"
    assert lead["owner_id"] == "rep1" and lead["owner_team"] == "east"
    assert lead["code"] == "L-000001" and lead["status"] == "open"
    assert _outbox_types(leads_ctx) == ["leads.lead.registered.v1"]


def test_validation_is_problem_json_with_fields(client, rep1):
    resp = client.post("/api/v1/leads", json={"name": "", "source": "x", "extra": 1}, headers=rep1)
    assert resp.status_code == 422
    assert resp.content_type == "application/problem+json"
    errors = resp.json["errors"]["json"]
    assert set(errors) >= {"name", "source", "extra"}
    assert "Traceback" not in resp.get_data(as_text=True)


def test_requires_phone_or_email(client, rep1):
    resp = client.post("/api/v1/leads", json={"name": "Li", "source": "walk_in"}, headers=rep1)
    assert resp.status_code == 422 and "phone" in resp.json["errors"]["json"]


def test_unauthenticated_is_401(client):
    resp = client.get("/api/v1/leads")
    assert resp.status_code == 401 and resp.content_type == "application/problem+json"
    resp = client.get("/api/v1/leads", headers={"Authorization": "Bearer not-a-jwt"})
    assert resp.status_code == 401


def test_support_agent_is_forbidden(client, issuer):
    resp = client.get("/api/v1/leads", headers=issuer.headers("agent", "support_agent"))
    assert resp.status_code == 403


def test_rep_cannot_see_or_convert_another_reps_lead(client, rep1, rep2):
    lead_id = client.post("/api/v1/leads", json=LEAD, headers=rep1).json["id"]
    assert client.get(f"/api/v1/leads/{lead_id}", headers=rep2).status_code == 404
    assert client.post(f"/api/v1/leads/{lead_id}/convert", headers=rep2).status_code == 404
    assert client.get("/api/v1/leads", headers=rep2).json["items"] == []


def test_manager_sees_team_and_admin_sees_all(client, rep1, manager, admin, issuer):
    client.post("/api/v1/leads", json=LEAD, headers=rep1)
    west = issuer.headers("rep9", "sales_rep", team="west")
    client.post("/api/v1/leads", json={**LEAD, "phone": "13900139000"}, headers=west)
    assert len(client.get("/api/v1/leads", headers=manager).json["items"]) == 1
    assert len(client.get("/api/v1/leads", headers=admin).json["items"]) == 2


def test_rep_cannot_register_for_someone_else(client, rep1):
    resp = client.post("/api/v1/leads", json={**LEAD, "owner_id": "rep2"}, headers=rep1)
    assert resp.status_code == 403


def test_keyset_pagination_walks_every_lead_once(client, rep1):
    for i in range(7):
        client.post("/api/v1/leads", json={**LEAD, "phone": f"1380013800{i}"}, headers=rep1)
    seen, cursor = [], None
    while True:
        url = "/api/v1/leads?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=rep1).json
        seen += [lead["id"] for lead in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 7 and len(set(seen)) == 7
    assert client.get("/api/v1/leads?cursor=garbage", headers=rep1).status_code == 422


def test_convert_is_idempotent_and_emits_once(client, rep1, leads_ctx):
    lead_id = client.post("/api/v1/leads", json=LEAD, headers=rep1).json["id"]
    first = client.post(f"/api/v1/leads/{lead_id}/convert", headers=rep1)
    again = client.post(f"/api/v1/leads/{lead_id}/convert", json={}, headers=rep1)
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json["status"] == "converted"
    assert _outbox_types(leads_ctx).count("leads.lead.converted.v1") == 1
    with leads_ctx.bus.session_factory() as s:
        env = json.loads(s.execute(select(OUTBOX.c.envelope).where(
            OUTBOX.c.event_type == "leads.lead.converted.v1")).scalar_one())
    assert env["subject"] == lead_id and env["data"]["owner_id"] == "rep1"
    assert env["data"]["split"] == [{"rep": "rep1", "percent": "100.00"}]  # no split recorded


def test_oversized_body_is_413(client, rep1):
    resp = client.post("/api/v1/leads", data="x" * (2 << 20),
                       headers={**rep1, "Content-Type": "application/json"})
    assert resp.status_code == 413 and resp.content_type == "application/problem+json"


def test_ops_endpoints_are_admin_only(client, rep1, admin):
    assert client.get("/ops/outbox", headers=rep1).status_code == 403
    client.post("/api/v1/leads", json=LEAD, headers=rep1)
    assert client.get("/ops/outbox", headers=admin).json["unsent"] == 1
