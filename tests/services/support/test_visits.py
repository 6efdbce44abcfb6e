"""Return visits through the API: due within 3 days of resolution for every member, the script's
满意/一般/不满意 branches, follow-up tickets for the supervisor, due/overdue events once, delivered
projects monthly in year one and quarterly after."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from support.wiring import SupportContext
from testkit.events import outbox_events

from .conftest import FakeClock
from .helpers import URL, act, open_ticket

pytestmark = pytest.mark.integration
SH = ZoneInfo("Asia/Shanghai")
H = dict[str, str]
VISITS = "/api/v1/support/return-visits"
SCRIPT = {
    "name": "After-sales",
    "intro": "您好, 我是客服专员…",
    "questions": ["产品使用是否正常?"],
    "branches": {"satisfied": "感谢您的支持!", "neutral": "我们会改进…", "dissatisfied": "非常抱歉…"},
}


@pytest.fixture
def member(known_account: Callable[..., str]) -> str:
    return known_account(str(uuid.uuid4()), member=True, contact={"name": "Zhao", "mobile": "+8613700137000"})


@pytest.fixture
def plain(known_account: Callable[..., str]) -> str:
    return known_account(str(uuid.uuid4()), code="C-000077")


def resolved(client: FlaskClient, headers: H, account: str) -> dict[str, Any]:
    t = open_ticket(client, headers, account, kind="inquiry", new_matter=True)
    act(client, headers, t["id"], "start")
    return act(client, headers, t["id"], "resolve", note="answered").json


def test_every_member_gets_a_visit_within_three_days(
    client: FlaskClient, agent: H, member: str, plain: str, support_ctx: SupportContext
) -> None:
    t = resolved(client, agent, member)
    resolved(client, agent, plain)
    [event] = outbox_events(support_ctx.bus, "support.return_visit.due.v1")
    data = event["data"]
    assert data["ticket_id"] == t["id"] and data["agent_id"] == "agent" and data["account_owner_id"] == "rep1"
    assert data["due_at"] == "2026-03-05T02:00:00+00:00" and data["customer"]["mobile"] == "+8613700137000"
    visits = client.get(f"{VISITS}?status=due", headers=agent).json["items"]
    assert [v["ticket_id"] for v in visits] == [t["id"]] and visits[0]["member"] is True


def test_satisfied_closes_the_ticket(
    client: FlaskClient, agent: H, supervisor: H, member: str, support_ctx: SupportContext
) -> None:
    script = client.post("/api/v1/support/visit-scripts", json=SCRIPT, headers=supervisor)
    assert script.status_code == 201
    t = resolved(client, agent, member)
    [visit] = client.get(VISITS, headers=agent).json["items"]
    assert visit["script"]["branches"]["neutral"] == "我们会改进…"
    r = client.post(
        f"{VISITS}/{visit['id']}/result",
        headers=agent,
        json={
            "result": "satisfied",
            "script_id": script.json["id"],
            "answers": {"产品使用是否正常?": "正常"},
        },
    )
    assert r.status_code == 200 and r.json["status"] == "done" and r.json["follow_up_ticket_id"] is None
    assert client.get(f"{URL}/{t['id']}", headers=agent).json["status"] == "closed"
    again = client.post(f"{VISITS}/{visit['id']}/result", headers=agent, json={"result": "satisfied"})
    assert again.status_code == 409
    [event] = outbox_events(support_ctx.bus, "support.return_visit.recorded.v1")
    assert event["data"]["result"] == "satisfied"


@pytest.mark.parametrize("result", ["neutral", "dissatisfied"])
def test_neutral_or_dissatisfied_opens_a_follow_up(
    client: FlaskClient, agent: H, supervisor: H, member: str, result: str, support_ctx: SupportContext
) -> None:
    t = resolved(client, agent, member)
    [visit] = client.get(VISITS, headers=agent).json["items"]
    r = client.post(
        f"{VISITS}/{visit['id']}/result",
        headers=agent,
        json={"result": result, "note": "still slow to start"},
    )
    follow_id = r.json["follow_up_ticket_id"]
    follow = client.get(f"{URL}/{follow_id}", headers=supervisor).json
    assert follow["kind"] == "follow_up" and follow["queue"] == "supervision"
    assert follow["follow_up_of"] == t["id"] and follow["priority"] == "high"
    escalated = outbox_events(support_ctx.bus, "support.ticket.escalated.v1")
    assert escalated[-1]["data"]["role"] == "support_supervisor"
    # The follow-up's own resolution is not visited again.
    act(client, supervisor, follow_id, "resolve", note="called back")
    assert len(outbox_events(support_ctx.bus, "support.return_visit.due.v1")) == 1


def test_result_validation(client: FlaskClient, agent: H, rep1: H, member: str) -> None:
    resolved(client, agent, member)
    [visit] = client.get(VISITS, headers=agent).json["items"]
    url = f"{VISITS}/{visit['id']}/result"
    assert client.post(url, headers=agent, json={"result": "meh"}).status_code == 422
    assert (
        client.post(url, headers=agent, json={"result": "satisfied", "script_id": "nope"}).status_code == 422
    )
    assert client.post(url, headers=rep1, json={"result": "satisfied"}).status_code == 403
    assert (
        client.post(
            f"{VISITS}/{uuid.uuid4()}/result", headers=agent, json={"result": "satisfied"}
        ).status_code
        == 404
    )


def test_overdue_once_and_timeout_close(
    client: FlaskClient,
    agent: H,
    member: str,
    clock: FakeClock,
    support_ctx: SupportContext,
    timers: Callable[[], dict[str, int]],
) -> None:
    t = resolved(client, agent, member)
    clock.advance(days=3)
    timers()
    assert outbox_events(support_ctx.bus, "support.return_visit.overdue.v1") == []
    clock.advance(seconds=1)
    timers()
    timers()
    assert len(outbox_events(support_ctx.bus, "support.return_visit.overdue.v1")) == 1
    clock.advance(days=4)
    timers()
    ticket = client.get(f"{URL}/{t['id']}", headers=agent).json
    assert ticket["status"] == "closed"
    history = client.get(f"{URL}/{t['id']}/history", headers=agent).json["items"]
    assert history[-1]["actor"] == "system" and "automatically" in history[-1]["note"]


def test_delivered_project_cadence(
    client: FlaskClient,
    agent: H,
    member: str,
    clock: FakeClock,
    support_ctx: SupportContext,
    timers: Callable[[], dict[str, int]],
) -> None:
    r = client.post(
        "/api/v1/support/projects",
        headers=agent,
        json={"account_id": member, "name": "Bamboo floor, phase 1", "delivered_on": "2026-03-02"},
    )
    assert r.status_code == 201 and r.json["next_visit_on"] == "2026-04-02"
    assert (
        client.post(
            "/api/v1/support/projects",
            headers=agent,
            json={"account_id": str(uuid.uuid4()), "name": "x", "delivered_on": "2026-03-02"},
        ).status_code
        == 422
    )
    due_days = []
    for month in range(1, 19):
        clock.set(datetime(2026 + (2 + month) // 12, (2 + month) % 12 + 1, 1, 12, tzinfo=SH))
        timers()
    for e in outbox_events(support_ctx.bus, "support.return_visit.due.v1"):
        due_days.append(e["data"]["due_at"][:10])
    # Monthly in the first year (12 visits), then quarterly: months 15 and 18 by 1 Sep 2027.
    assert len(due_days) == 14
    assert due_days[:3] == ["2026-04-02", "2026-05-02", "2026-06-02"]
    assert due_days[11:] == ["2027-03-02", "2027-06-02", "2027-09-02"][:3]


def test_renaming_a_script_onto_another_name_is_409_and_changes_nothing(
    client: FlaskClient, supervisor: H
) -> None:
    url = "/api/v1/support/visit-scripts"
    first = client.post(url, json=SCRIPT, headers=supervisor).json
    second = client.post(url, json={**SCRIPT, "name": "second"}, headers=supervisor).json
    clash = client.put(f"{url}/{second['id']}", json={**SCRIPT, "name": first["name"]}, headers=supervisor)
    assert clash.status_code == 409 and clash.content_type == "application/problem+json"
    assert sorted(s["name"] for s in client.get(url, headers=supervisor).json["items"]) == sorted(
        [first["name"], "second"])
    renamed = client.put(f"{url}/{second['id']}", json={**SCRIPT, "name": "third"}, headers=supervisor)
    assert renamed.status_code == 200 and renamed.json["name"] == "third"
    missing = client.put(f"{url}/{uuid.uuid4()}", json=SCRIPT, headers=supervisor)
    assert missing.status_code == 404
