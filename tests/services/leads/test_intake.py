"""Intake channels, explainable dedupe, imports, merges and the authorized list, against a
real PostgreSQL database."""

from __future__ import annotations

import pytest

from testkit.events import outbox_events

pytestmark = pytest.mark.integration
LEAD = {"name": "Zhang San", "company": "ACME 有限公司", "phone": "138 0013 8000",
        "email": "zs@acme.example", "source": "walk_in"}


def _register(client, headers, **fields):
    resp = client.post("/api/v1/leads", json={**LEAD, **fields}, headers=headers)
    assert resp.status_code in (200, 201), resp.json
    return resp.json


# --- dedupe check --------------------------------------------------------------------------

def test_dedupe_check_explains_each_match_without_contact_details(client, rep1, rep2):
    lead = _register(client, rep1)
    resp = client.post("/api/v1/leads/dedupe-check", headers=rep2, json={
        "name": "San Zhang", "company": "Acme Co., Ltd.", "phone": "+86 138-0013-8000",
        "email": "ZS@ACME.example"})
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert body["normalized"] == {"phone": "+8613800138000", "email": "ZS@acme.example",
                                  "company_key": "acme"}
    rules = {(m["id"], m["rule"]) for m in body["matches"]}
    assert rules == {(lead["id"], "phone_exact"), (lead["id"], "email_exact"),
                     (lead["id"], "company_person_fuzzy")}
    for match in body["matches"]:
        assert set(match) == {"kind", "id", "code", "owner_id", "rule", "score", "fields", "visible"}
        assert match["owner_id"] == "rep1" and match["visible"] is False and match["score"] > 85
    assert "138" not in resp.get_data(as_text=True).replace(body["normalized"]["phone"], "")


def test_dedupe_check_validates_and_refuses_unknown_fields(client, rep1):
    resp = client.post("/api/v1/leads/dedupe-check", headers=rep1,
                       json={"name": "Li", "threshold": 10, "extra": 1})
    assert resp.status_code == 422 and resp.content_type == "application/problem+json"
    assert set(resp.json["errors"]["json"]) >= {"threshold", "extra"}
    resp = client.post("/api/v1/leads/dedupe-check", headers=rep1, json={"name": "Li"})
    assert resp.status_code == 422 and "phone" in resp.json["errors"]["json"]
    resp = client.post("/api/v1/leads/dedupe-check", headers=rep1, json={"phone": "12"})
    assert resp.status_code == 422 and "phone" in resp.json["errors"]["json"]
    assert client.post("/api/v1/leads/dedupe-check", json={"phone": "13800138000"}).status_code == 401


def test_dedupe_check_writes_nothing(client, rep1, leads_ctx):
    client.post("/api/v1/leads/dedupe-check", headers=rep1, json={"phone": "13800138000"})
    assert client.get("/api/v1/leads", headers=rep1).json["items"] == []
    assert outbox_events(leads_ctx.bus) == []


# --- registration by channel --------------------------------------------------------------

def test_walk_in_from_an_existing_lead_records_a_visit_not_a_lead(client, rep1, leads_ctx):
    first = _register(client, rep1)
    assert first["visit_recorded"] is False and first["matches"] == []
    resp = client.post("/api/v1/leads", headers=rep1, json={
        "name": "Zhang San", "phone": "13800138000", "source": "phone_call", "note": "asks for a quote"})
    assert resp.status_code == 200, resp.json
    again = resp.json
    assert again["visit_recorded"] is True and again["id"] == first["id"]
    assert again["visit"]["channel"] == "phone_call" and again["visit"]["note"] == "asks for a quote"
    assert again["version"] == 2 and again["phone"] == "+8613800138000"
    assert again["matches"][0]["rule"] == "phone_exact"
    assert len(client.get("/api/v1/leads", headers=rep1).json["items"]) == 1
    [visit] = outbox_events(leads_ctx.bus, "leads.visit.recorded.v1")
    assert visit["subject"] == first["id"] and visit["data"]["channel"] == "phone_call"
    assert visit["data"]["owner_id"] == "rep1"


def test_visit_on_another_reps_lead_reveals_no_details(client, rep1, rep2):
    first = _register(client, rep1)
    resp = client.post("/api/v1/leads", headers=rep2, json={
        "name": "Zhang", "email": "zs@acme.example", "source": "walk_in"})
    assert resp.status_code == 200
    body = resp.json
    assert body["visit_recorded"] is True and body["id"] == first["id"]
    assert body["owner_id"] == "rep1" and "phone" not in body and "email" not in body
    assert [m["rule"] for m in body["matches"]] == ["email_exact"]


def test_other_channels_create_a_lead_and_list_the_matches(client, rep1, leads_ctx):
    first = _register(client, rep1)
    # Same company and person, another phone and e-mail: a possible duplicate, listed; the
    # same phone or e-mail would be the same customer (a visit, see test_rule_holes.py).
    resp = client.post("/api/v1/leads", headers=rep1, json={
        **LEAD, "phone": "13900139000", "email": "zhang@acme.example", "source": "trade_show",
        "show_name": "Canton Fair 2026"})
    assert resp.status_code == 201
    body = resp.json
    assert body["id"] != first["id"] and body["code"] == "L-000002"
    assert body["show_name"] == "Canton Fair 2026" and body["visit_recorded"] is False
    assert {m["rule"] for m in body["matches"]} == {"company_person_fuzzy"}
    registered = outbox_events(leads_ctx.bus, "leads.lead.registered.v1")[-1]["data"]
    assert registered["channel"] == "trade_show" and registered["show_name"] == "Canton Fair 2026"


def test_referral_goes_to_the_referrers_original_receiver(client, rep1, rep2):
    referrer = _register(client, rep1)
    resp = client.post("/api/v1/leads", headers=rep2, json={
        "name": "Li Si", "phone": "13900139000", "source": "referral",
        "referrer_type": "lead", "referrer_id": referrer["id"]})
    assert resp.status_code == 201, resp.json
    assert resp.json["owner_id"] == "rep1" and resp.json["referrer_id"] == referrer["id"]


def test_referral_validation(client, rep1):
    base = {"name": "Li Si", "phone": "13900139000"}
    resp = client.post("/api/v1/leads", headers=rep1, json={**base, "source": "referral"})
    assert resp.status_code == 422 and "referrer_id" in resp.json["errors"]["json"]
    resp = client.post("/api/v1/leads", headers=rep1, json={
        **base, "source": "walk_in", "referrer_type": "lead", "referrer_id": "x"})
    assert resp.status_code == 422 and "referrer_type" in resp.json["errors"]["json"]
    resp = client.post("/api/v1/leads", headers=rep1, json={
        **base, "source": "referral", "referrer_type": "lead", "referrer_id": "no-such-lead"})
    assert resp.status_code == 422 and "referrer_id" in resp.json["errors"]["json"]


# --- import --------------------------------------------------------------------------------

CSV = """name,company,phone,email
Wang Wu,Hangzhou Bamboo Co.,13800138001,
,No Name Ltd,13800138002,
Zhao Liu,Globex,12,
Zhang San,ACME,13800138000,
Qian Qi,Initech,,qq@initech.example
Sun Ba,Umbrella,13800138001,
"""


def test_trade_show_csv_answers_every_row(client, rep1, leads_ctx):
    existing = _register(client, rep1)
    resp = client.post("/api/v1/leads/import?show_name=Canton%20Fair", data=CSV.encode(),
                       headers={**rep1, "Content-Type": "text/csv"})
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert (body["created"], body["duplicates"], body["errors"]) == (2, 2, 2)
    rows = {r["row"]: r for r in body["rows"]}
    assert rows[1]["status"] == "created" and rows[5]["status"] == "created"
    assert rows[2]["status"] == "error" and "name" in rows[2]["errors"]
    assert rows[3]["status"] == "error" and "phone" in rows[3]["errors"]
    assert rows[4]["status"] == "duplicate" and rows[4]["lead_id"] == existing["id"]
    assert rows[6]["status"] == "duplicate" and rows[6]["lead_id"] == rows[1]["lead_id"]
    lead = client.get(f"/api/v1/leads/{rows[1]['lead_id']}", headers=rep1).json
    assert lead["show_name"] == "Canton Fair" and lead["source"] == "trade_show"
    assert lead["phone"] == "+8613800138001" and lead["owner_id"] == "rep1"
    assert len(outbox_events(leads_ctx.bus, "leads.lead.registered.v1")) == 3


def test_import_as_json_and_its_validation(client, rep1):
    resp = client.post("/api/v1/leads/import", headers=rep1, json={
        "show_name": "Expo", "rows": [{"name": "A", "phone": "13800138009"},
                                      {"name": "B", "phone": "13800138008", "fax": "1"}]})
    assert resp.status_code == 200
    assert [r["status"] for r in resp.json["rows"]] == ["created", "error"]
    assert "fax" in resp.json["rows"][1]["errors"]
    resp = client.post("/api/v1/leads/import", headers=rep1, json={"rows": [], "extra": 1})
    assert resp.status_code == 422
    assert set(resp.json["errors"]["json"]) >= {"rows", "extra"}
    resp = client.post("/api/v1/leads/import", headers=rep1, json={"rows": [{"name": "A"}]})
    assert resp.status_code == 422 and "show_name" in resp.json["errors"]["json"]
    resp = client.post("/api/v1/leads/import", data=b"name,fax\nA,1\n",
                       headers={**rep1, "Content-Type": "text/csv"}, query_string={"show_name": "X"})
    assert resp.status_code == 422 and "header" in resp.json["errors"]["csv"]
    resp = client.post("/api/v1/leads/import", data=CSV.encode(),
                       headers={**rep1, "Content-Type": "text/csv"})
    assert resp.status_code == 422 and "show_name" in resp.json["errors"]["query"]
    resp = client.post("/api/v1/leads/import", data=b"x", headers={**rep1, "Content-Type": "text/plain"})
    assert resp.status_code == 415
    resp = client.post("/api/v1/leads/import", data=b"x" * (2 << 20),
                       headers={**rep1, "Content-Type": "text/csv"})
    assert resp.status_code == 413


# --- merge / unmerge -------------------------------------------------------------------------

def test_merge_and_unmerge_round_trip(client, rep1, leads_ctx):
    survivor = _register(client, rep1, email=None)
    duplicate = _register(client, rep1, phone="13900139000", source="event", show_name="Seminar")
    client.post("/api/v1/leads", headers=rep1, json={   # a visit on the duplicate
        "name": "Zhang San", "phone": "13900139000", "source": "walk_in"})
    resp = client.post(f"/api/v1/leads/{survivor['id']}/merge", headers=rep1,
                       json={"duplicate_id": duplicate["id"], "reason": "same person"})
    assert resp.status_code == 200, resp.json
    merged = resp.json
    assert merged["merged"]["merged_into"] == survivor["id"]
    assert merged["survivor"]["email"] == "zs@acme.example"  # filled from the duplicate
    assert merged["survivor"]["show_name"] == "Seminar"
    assert merged["survivor"]["phone"] == "+8613800138000"  # never overwritten
    ids = [lead["id"] for lead in client.get("/api/v1/leads", headers=rep1).json["items"]]
    assert ids == [survivor["id"]]  # the tombstone is out of lists
    resp = client.post(f"/api/v1/leads/{duplicate['id']}/convert", headers=rep1)
    assert resp.status_code == 409
    again = client.post(f"/api/v1/leads/{survivor['id']}/merge", headers=rep1,
                        json={"duplicate_id": duplicate["id"], "reason": "again"})
    assert again.status_code == 409

    resp = client.post(f"/api/v1/leads/{survivor['id']}/unmerge", headers=rep1,
                       json={"duplicate_id": duplicate["id"]})
    assert resp.status_code == 200, resp.json
    restored = resp.json
    assert restored["merged"]["merged_into"] is None
    assert restored["survivor"]["email"] is None and restored["survivor"]["show_name"] is None
    assert len(client.get("/api/v1/leads", headers=rep1).json["items"]) == 2
    # the duplicate's visit went to the survivor and came back
    call = client.post("/api/v1/leads", headers=rep1, json={
        "name": "Zhang San", "phone": "13900139000", "source": "walk_in"})
    assert call.json["id"] == duplicate["id"]
    assert client.post(f"/api/v1/leads/{survivor['id']}/unmerge", headers=rep1,
                       json={"duplicate_id": duplicate["id"]}).status_code == 409
    types = [e["type"] for e in outbox_events(leads_ctx.bus)]
    assert types.count("leads.lead.merged.v1") == 1 and types.count("leads.lead.unmerged.v1") == 1
    [event] = outbox_events(leads_ctx.bus, "leads.lead.merged.v1")
    assert event["subject"] == duplicate["id"] and event["data"]["survivor_id"] == survivor["id"]


def test_merge_permission_walls_and_validation(client, rep1, rep2, manager, issuer):
    mine = _register(client, rep1)
    theirs = _register(client, rep2, phone="13900139000", email=None, source="event")
    url = f"/api/v1/leads/{mine['id']}/merge"
    body = {"duplicate_id": theirs["id"], "reason": "same company"}
    assert client.post(url, headers=rep1, json=body).status_code == 404  # not rep1's to see
    assert client.post(url, headers=rep1, json={"duplicate_id": mine["id"], "reason": "x"}).status_code == 422
    resp = client.post(url, headers=rep1, json={"duplicate_id": theirs["id"], "extra": 1})
    assert resp.status_code == 422 and set(resp.json["errors"]["json"]) >= {"reason", "extra"}
    agent = issuer.headers("agent", "support_agent")
    assert client.post(url, headers=agent, json=body).status_code == 403
    assert client.post(url, headers=manager, json=body).status_code == 200  # the team's manager


# --- authorized list -----------------------------------------------------------------------

def test_authorized_list_shows_owner_and_protection_only(client, rep1, rep2):
    lead = _register(client, rep1, company="Hangzhou Bamboo Co., Ltd.")
    resp = client.get("/api/v1/leads/authorized?company=HANGZHOU BAMBOO 有限公司", headers=rep2)
    assert resp.status_code == 200, resp.json
    [item] = resp.json["items"]
    assert set(item) == {"kind", "company", "owner_id", "protected_until", "score"}
    assert item["owner_id"] == "rep1" and item["company"] == "Hangzhou Bamboo Co., Ltd."
    assert item["protected_until"][:10] > lead["created_at"][:10]
    text = resp.get_data(as_text=True)
    assert "+8613800138000" not in text and "zs@acme.example" not in text and lead["id"] not in text
    assert client.get("/api/v1/leads/authorized?company=Globex", headers=rep2).json["items"] == []


def test_authorized_list_validation(client, rep1, issuer):
    assert client.get("/api/v1/leads/authorized", headers=rep1).status_code == 422
    resp = client.get("/api/v1/leads/authorized?company=Acme&phone=1", headers=rep1)
    assert resp.status_code == 422 and "phone" in resp.json["errors"]["query"]
    assert client.get("/api/v1/leads/authorized?company=,.,.", headers=rep1).status_code == 422
    agent = issuer.headers("agent", "support_agent")
    assert client.get("/api/v1/leads/authorized?company=Acme", headers=agent).status_code == 403


def test_authorized_search_reads_what_the_orm_look_ups_read(leads_ctx):
    """The one-statement search (leads.intake.search) returns the candidates of
    ``leads_by_company`` then ``account_candidates(search=True)``, in their order, and the
    protection the ORM path computes: with more neighbours than fit, merged and converted leads,
    owner changes, qualifying and non-qualifying contacts, and accounts."""
    import uuid
    from datetime import UTC, datetime, timedelta

    from leads.intake import dedupe, search
    from leads.intake.matching import company_key
    from leads.intake.models import AccountCompany, Lead
    from leads.ownership import service as ownership
    from leads.ownership.models import LeadContact, OwnerChangeRow
    from leads.policy.service import current_policy
    from servicedb import read_connection

    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    names = [f"{w} Bamboo {t} Co., Ltd." for w in ("Hangzhou", "Hangzhu", "Ningbo", "Bamboo")
             for t in ("Trading", "Tech", "Works", "Foods", "Medical", "Systems", "")]
    with leads_ctx.bus.session_factory() as session, session.begin():
        for i, name in enumerate(names):
            lead = Lead(id=str(uuid.uuid4()), code=f"L-9{i:05d}", name="Wang", company=name,
                        company_key=company_key(name), source="walk_in", owner_id=f"rep{i % 5 + 1}",
                        owner_team="east", status="converted" if i % 7 == 3 else "open",
                        registered_by="rep1", created_at=start + timedelta(days=i),
                        merged_into=str(uuid.uuid4()) if i % 9 == 4 else None)
            session.add(lead)
            if i % 4 == 0:
                session.add(OwnerChangeRow(lead_id=lead.id, at=start + timedelta(days=40 + i),
                                           from_owner="rep9", to_owner=lead.owner_id,
                                           actor="manager", rule="manual", reason="test"))
            for j, kind in enumerate(("face_to_face", "phone", "sms")[: i % 4]):
                session.add(LeadContact(id=str(uuid.uuid4()), lead_id=lead.id, kind=kind,
                                        at=start + timedelta(days=30 + 20 * j + i), by="rep1",
                                        out_of_town=bool(j % 2)))
        for i, name in enumerate(("Hangzhou Bamboo Inc.", "Hangzhou Bambu GmbH", "Globex")):
            session.add(AccountCompany(account_id=f"acc-{i}", company_key=company_key(name),
                                       name=name, owner_id="rep2"))
    now = start + timedelta(days=200)
    for query in ("Hangzhou Bamboo", "Bamboo Trading", "hangzhoubambootech", "zzz", "aaa"):
        key = company_key(query)
        with leads_ctx.bus.session_factory() as session, session.begin():
            leads = dedupe.leads_by_company(session, key, 5)
            accounts = dedupe.account_candidates(session, key, 5, search=True)
            expected = ([("lead", x.id, x.company, x.owner_id) for x in leads]
                        + [("account", a.account_id, a.name, a.owner_id) for a in accounts])
            states = ownership.protection_states(session, leads, now, current_policy(session))
        with read_connection(leads_ctx.bus.engine) as conn:
            found = search.authorized_search(conn, key, 5)
        assert [(h.kind, h.id, h.company, h.owner_id) for h in found.hits] == expected, query
        hits = [(h.id, h.owner_id, h.created_at) for h in found.hits if h.kind == "lead"]
        assert ownership.states_from(hits, found.last_change, found.contacts, now,
                                     found.policy) == states
