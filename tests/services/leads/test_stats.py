"""Statistics API against PostgreSQL: local-calendar boundaries, scoping and the CSV shape."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from leads.intake.models import Lead
from leads.wiring import LeadsContext

pytestmark = pytest.mark.integration
DAILY = "/api/v1/leads/stats/daily-reception"
FUNNEL = "/api/v1/leads/stats/funnel"
STALE = "/api/v1/leads/stats/without-follow-up"


@pytest.fixture
def west_rep(issuer):
    return issuer.headers("rep3", "sales_rep", team="west")


@pytest.fixture
def register(client, leads_ctx: LeadsContext):
    """Register (or revisit) a lead at a given UTC moment through the API."""
    count = iter(range(10_000))

    def add(headers, at: datetime, source: str = "walk_in", phone: str | None = None,
            company: str | None = None):
        leads_ctx.clock = lambda: at
        n = next(count)
        body = {"name": f"Customer {n}", "phone": phone or f"1380013{n:04d}", "source": source,
                "company": company or f"Company {n} 有限公司"}
        resp = client.post("/api/v1/leads", json=body, headers=headers)
        assert resp.status_code in (200, 201), resp.json
        return resp.json

    return add


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_daily_reception_counts_new_leads_and_visits_per_local_day(client, register, rep1, rep2, manager):
    register(rep1, utc(2026, 1, 31, 15, 30))  # 23:30 Jan 31 in Shanghai
    register(rep1, utc(2026, 1, 31, 16, 30))  # 00:30 Feb 1
    register(rep1, utc(2026, 1, 31, 2), source="phone_call", phone="13900139000")
    register(rep1, utc(2026, 1, 31, 4), source="phone_call", phone="13900139000")  # a visit
    register(rep2, utc(2026, 1, 31, 5), source="web_form")  # not reception

    resp = client.get(DAILY, query_string={"from": "2026-01-31", "to": "2026-01-31"}, headers=manager)
    assert resp.status_code == 200, resp.json
    assert resp.json["timezone"] == "Asia/Shanghai"
    [row] = resp.json["rows"]
    assert (row["date"], row["owner_id"], row["walk_ins"], row["calls"], row["new_calls"],
            row["repeat_calls"], row["total"]) == ("2026-01-31", "rep1", 1, 2, 1, 1, 3)
    assert resp.json["totals"]["total"] == 3
    feb = client.get(DAILY, query_string={"from": "2026-02-01", "to": "2026-02-28"}, headers=manager)
    assert [(r["date"], r["walk_ins"]) for r in feb.json["rows"]] == [("2026-02-01", 1)]
    # rep2 sees only their own rows: nothing at the reception that day.
    mine = client.get(DAILY, query_string={"from": "2026-01-31", "to": "2026-01-31"}, headers=rep2)
    assert mine.json["rows"] == []


def test_funnel_month_boundary_and_conversion(client, register, rep1, rep2, manager, leads_ctx):
    jan = register(rep1, utc(2026, 1, 31, 15, 30))
    register(rep2, utc(2026, 1, 31, 16, 30))  # February locally
    register(rep2, utc(2026, 1, 5), source="trade_show")
    leads_ctx.clock = lambda: utc(2026, 2, 1, 3, 30)  # 12 hours later
    assert client.post(f"/api/v1/leads/{jan['id']}/convert", headers=rep1).status_code == 202

    resp = client.get(FUNNEL, query_string={"period": "month", "date": "2026-01-20",
                                            "group_by": "source"}, headers=manager)
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert (body["label"], body["from"], body["to"]) == ("2026-01", "2026-01-01", "2026-01-31")
    by_source = {g["group"]: g for g in body["groups"]}
    assert set(by_source) == {"walk_in", "trade_show"}
    assert by_source["walk_in"]["registered"] == 1 and by_source["walk_in"]["converted"] == 1
    assert by_source["walk_in"]["conversion_rate"] == 1.0
    assert by_source["walk_in"]["median_hours_to_convert"] == 12.0
    assert body["totals"]["registered"] == 2 and body["totals"]["conversion_rate"] == 0.5

    by_rep = client.get(FUNNEL, query_string={"period": "month", "date": "2026-02-01",
                                              "group_by": "rep"}, headers=manager).json
    assert [(g["group"], g["registered"]) for g in by_rep["groups"]] == [("rep2", 1)]
    week = client.get(FUNNEL, query_string={"period": "week", "date": "2026-01-31",
                                            "group_by": "team"}, headers=manager).json
    # ISO week 2026-W05 is Mon Jan 26 .. Sun Feb 1: both late-January leads are in it.
    assert (week["label"], week["from"], week["to"]) == ("2026-W05", "2026-01-26", "2026-02-01")
    assert [(g["group"], g["registered"]) for g in week["groups"]] == [("east", 2)]


def test_scoping_rep_manager_admin(client, register, rep1, west_rep, manager, west_manager, admin):
    register(rep1, utc(2026, 3, 2, 2))
    register(west_rep, utc(2026, 3, 2, 3))
    q = {"period": "month", "date": "2026-03-02", "group_by": "rep"}

    def groups(headers, **extra):
        resp = client.get(FUNNEL, query_string={**q, **extra}, headers=headers)
        assert resp.status_code == 200, resp.json
        return [g["group"] for g in resp.json["groups"]]

    assert groups(rep1) == ["rep1"]
    assert groups(west_rep) == ["rep3"]
    assert groups(manager) == ["rep1"] and groups(west_manager) == ["rep3"]
    assert groups(admin) == ["rep1", "rep3"] and groups(admin, team="west") == ["rep3"]
    assert client.get(FUNNEL, query_string={**q, "team": "west"}, headers=manager).status_code == 403


def test_without_follow_up_lists_untouched_open_leads(client, register, rep1, rep2, manager, leads_ctx):
    stale = register(rep1, utc(2026, 3, 1, 2), phone="13700137000")
    revisited = register(rep1, utc(2026, 3, 1, 3), phone="13700137001")
    register(rep1, utc(2026, 3, 12, 3), source="phone_call", phone="13700137001")  # a visit
    fresh = register(rep2, utc(2026, 3, 12, 4))
    converted = register(rep2, utc(2026, 3, 1, 5))
    with leads_ctx.bus.session_factory() as s, s.begin():
        s.execute(update(Lead).where(Lead.id == converted["id"]).values(status="converted"))
    leads_ctx.clock = lambda: utc(2026, 3, 15, 2)

    resp = client.get(STALE, query_string={"days": 7}, headers=manager)
    assert resp.status_code == 200, resp.json
    assert [row["lead_id"] for row in resp.json["leads"]] == [stale["id"]]
    assert resp.json["leads"][0]["days_without_touch"] == 14
    assert {revisited["id"], fresh["id"]}.isdisjoint(r["lead_id"] for r in resp.json["leads"])
    assert client.get(STALE, query_string={"days": 7}, headers=rep2).json["leads"] == []


def test_every_report_has_a_csv_with_bom(client, register, rep1, manager):
    register(rep1, utc(2026, 1, 31, 15, 30))
    resp = client.get(DAILY, query_string={"from": "2026-01-31", "to": "2026-01-31",
                                           "format": "csv"}, headers=manager)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert resp.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["date", "owner_id", "owner_team", "walk_ins"]
    assert rows[1][:4] == ["2026-01-31", "rep1", "east", "1"]
    funnel = client.get(FUNNEL, query_string={"date": "2026-01-31", "format": "csv"}, headers=manager)
    lines = funnel.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("group,registered,open,converted") and lines[-1].startswith("all,1,")
    stale = client.get(STALE, query_string={"format": "csv"}, headers=manager)
    assert stale.data.decode("utf-8-sig").startswith("lead_id,code,name")


def test_bad_queries_are_422(client, manager):
    assert client.get(DAILY, query_string={"from": "2026-02-01", "to": "2026-01-01"},
                      headers=manager).status_code == 422
    assert client.get(FUNNEL, query_string={"date": "2026-01-01", "period": "year"},
                      headers=manager).status_code == 422
    assert client.get(STALE, query_string={"days": 0}, headers=manager).status_code == 422


def test_days_follow_the_organizations_timezone_from_the_policy(client, register, rep1, admin):
    register(rep1, utc(2026, 1, 31, 15, 30))  # Jan 31 in Shanghai, Jan 31 in UTC too
    register(rep1, utc(2026, 1, 31, 16, 30))  # Feb 1 in Shanghai, still Jan 31 in UTC
    q = {"from": "2026-01-31", "to": "2026-02-01"}
    shanghai = client.get(DAILY, query_string=q, headers=admin).json
    assert [r["date"] for r in shanghai["rows"]] == ["2026-01-31", "2026-02-01"]
    changed = client.put("/api/v1/leads/policy", headers=admin,
                         json={"timezone": "UTC", "reason": "reports in UTC"})
    assert changed.status_code == 200, changed.json
    in_utc = client.get(DAILY, query_string=q, headers=admin).json
    assert in_utc["timezone"] == "UTC"
    assert [(r["date"], r["walk_ins"]) for r in in_utc["rows"]] == [("2026-01-31", 2)]
