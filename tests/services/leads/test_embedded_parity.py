"""The embedded mode (SQLite) behaves as PostgreSQL does (issue 6): reports for today, local
calendar bounds, stage history and stale leads answer on both; an import is one transaction —
every row answered with the good rows saved, or nothing saved — even while the worker writes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from leads.intake import service as intake
from leads.intake.models import Lead
from leads.wiring import LeadsContext
from testkit.events import running_worker

pytestmark = pytest.mark.integration
H = dict[str, str]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _walk_in(client: FlaskClient, headers: H, phone: str, **extra: Any) -> Any:
    resp = client.post("/api/v1/leads", headers=headers, json={
        "name": f"Customer {phone}", "phone": phone, "source": "walk_in", **extra})
    assert resp.status_code in (200, 201), resp.json
    return resp.json


def test_daily_reception_for_today_with_the_real_clock(client: FlaskClient, rep1: H) -> None:
    _walk_in(client, rep1, "13800138000")
    _walk_in(client, rep1, "13800138000")  # the same customer again: a repeat visit
    today = datetime.now(UTC).astimezone(SHANGHAI).date().isoformat()
    resp = client.get("/api/v1/leads/stats/daily-reception", headers=rep1,
                      query_string={"from": today, "to": today})
    assert resp.status_code == 200, resp.json
    [row] = resp.json["rows"]
    assert (row["date"], row["new_walk_ins"], row["repeat_walk_ins"]) == (today, 1, 1)


def test_funnel_is_not_shifted_by_the_timezone(client: FlaskClient, rep1: H,
                                               leads_ctx: LeadsContext) -> None:
    # 00:30 on Mar 1 in Shanghai is still Feb 28 in UTC: the lead belongs to March.
    leads_ctx.clock = lambda: datetime(2026, 3, 1, 0, 30, tzinfo=SHANGHAI)
    _walk_in(client, rep1, "13800138000")
    march = client.get("/api/v1/leads/stats/funnel", headers=rep1,
                       query_string={"period": "month", "date": "2026-03-15"})
    feb = client.get("/api/v1/leads/stats/funnel", headers=rep1,
                     query_string={"period": "month", "date": "2026-02-15"})
    assert march.status_code == feb.status_code == 200
    assert march.json["totals"]["registered"] == 1 and feb.json["totals"] is None


def test_stages_and_without_follow_up_answer_for_every_lead(client: FlaskClient, rep1: H,
                                                            leads_ctx: LeadsContext) -> None:
    registered = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    leads_ctx.clock = lambda: registered
    lead = _walk_in(client, rep1, "13800138000")
    leads_ctx.clock = lambda: registered + timedelta(days=10)
    stages = client.get(f"/api/v1/leads/{lead['id']}/stages", headers=rep1)
    assert stages.status_code == 200, stages.json
    assert stages.json["items"][0]["seconds"] == 10 * 86400
    stale = client.get("/api/v1/leads/stats/without-follow-up", headers=rep1,
                       query_string={"days": 7})
    assert stale.status_code == 200, stale.json
    assert [(r["lead_id"], r["days_without_touch"]) for r in stale.json["leads"]] == [
        (lead["id"], 10)]


@pytest.fixture
def busy_writer(leads_ctx: LeadsContext) -> Iterator[None]:
    """The worker's relay publishing while a request writes, plus another writer committing
    small transactions in a loop — what made an embedded import fail half way."""
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            with leads_ctx.bus.session_factory() as session, session.begin():
                session.execute(select(func.count()).select_from(Lead))
                leads_ctx.bus.emit(session, "leads.test.noise.v1", {}, subject="noise")

    thread = threading.Thread(target=write, daemon=True)
    with running_worker(leads_ctx.bus):
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=30)


def _rows(n: int) -> list[dict[str, str]]:
    return [{"name": f"Visitor {i}", "phone": f"1390013{i:04d}"} for i in range(n)]


def test_import_of_twenty_rows_while_other_writers_commit(client: FlaskClient, rep1: H,
                                                          leads_ctx: LeadsContext,
                                                          busy_writer: None) -> None:
    resp = client.post("/api/v1/leads/import", headers=rep1,
                       json={"source": "trade_show", "show_name": "Expo", "rows": _rows(20)})
    assert resp.status_code == 200, resp.json
    assert resp.json["created"] == 20 and len(resp.json["rows"]) == 20
    with leads_ctx.bus.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 20


def test_an_import_that_fails_saves_nothing(client: FlaskClient, rep1: H, leads_ctx: LeadsContext,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    create = intake.create_lead
    calls = iter(range(100))

    def failing(*args: Any, **kwargs: Any) -> Lead:
        if next(calls) == 10:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return create(*args, **kwargs)

    monkeypatch.setattr(intake, "create_lead", failing)
    resp = client.post("/api/v1/leads/import", headers=rep1,
                       json={"source": "trade_show", "show_name": "Expo", "rows": _rows(20)})
    assert resp.status_code == 503 and resp.content_type == "application/problem+json"
    with leads_ctx.bus.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 0
