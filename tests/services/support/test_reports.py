"""Reports through the API (JSON, CSV with BOM, XLSX): complaint statistics, the supervision
report, the weekly summary, the return-visit summary."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from .conftest import FakeClock
from .helpers import URL, act, open_ticket

pytestmark = pytest.mark.integration
H = dict[str, str]
R = "/api/v1/support/reports"


@pytest.fixture
def month_of_work(
    client: FlaskClient,
    agent: H,
    supervisor: H,
    opsmgr: H,
    gm: H,
    clock: FakeClock,
    known_account: Callable[..., str],
) -> dict[str, Any]:
    member = known_account(str(uuid.uuid4()), member=True)
    other = known_account(str(uuid.uuid4()), code="C-000002", name='=HYPERLINK("x")')
    one = open_ticket(client, agent, member, kind="inquiry", resolution="answered at once")  # one-stop
    two = open_ticket(client, agent, other, kind="repair")
    client.post(
        URL, json={"account_id": other, "kind": "repair", "subject": "again"}, headers=agent
    )  # repeat
    c = open_ticket(client, agent, member, kind="complaint")
    steps: list[tuple[H, dict[str, Any]]] = [
        (agent, {"step": 1, "material": "m"}),
        (agent, {"step": 2, "problem_found": True}),
        (agent, {"step": 3, "category": "quality"}),
        (agent, {"step": 4, "plan": "=cmd|' /C calc'!A0"}),
        (opsmgr, {"step": 5, "opinion": "ok"}),
    ]
    for headers, data in steps:
        assert client.post(f"{URL}/{c['id']}/complaint/steps", json=data, headers=headers).status_code == 200
    client.post(f"{URL}/{c['id']}/complaint/approvals", json={"approved": True}, headers=gm)
    clock.advance(hours=5)
    client.post(f"{URL}/{c['id']}/complaint/steps", json={"step": 6, "satisfied": True}, headers=agent)
    client.post(f"{URL}/{c['id']}/complaint/steps", json={"step": 8, "note": "done"}, headers=agent)
    visits = client.get("/api/v1/support/return-visits", headers=agent).json["items"]
    for v, result in zip(visits, ("dissatisfied", "satisfied"), strict=False):
        client.post(
            f"/api/v1/support/return-visits/{v['id']}/result",
            json={"result": result, "note": "+ slow"},
            headers=agent,
        )
    act(client, agent, two["id"], "start")
    return {"one": one, "two": two, "complaint": c}


def test_complaint_statistics(client: FlaskClient, supervisor: H, month_of_work: dict[str, Any]) -> None:
    r = client.get(f"{R}/complaints?month=2026-03", headers=supervisor)
    assert r.status_code == 200
    f = r.json["figures"]
    assert f["received"] == {"total": 1, "by_kind": {"complaint": 1}}
    assert f["counted"]["total"] == 1 and f["counted"]["by_category"]["quality"] == 1
    assert f["counted"]["negotiation"] == {"satisfied": 1, "not_satisfied": 0}
    assert f["time_to_resolve_business_hours"]["count"] == 1
    assert f["time_to_resolve_business_hours"]["mean"] == 5.0
    assert f["satisfaction"]["recorded"] == 1
    empty = client.get(f"{R}/complaints?month=2026-04", headers=supervisor).json["figures"]
    assert empty["received"]["total"] == 0 and empty["time_to_resolve_business_hours"]["mean"] is None


def test_supervision_report(
    client: FlaskClient, supervisor: H, ceo: H, month_of_work: dict[str, Any]
) -> None:
    f = client.get(f"{R}/supervision?month=2026-03", headers=ceo).json["figures"]
    # three contacts plus the follow-up the unhappy return visit opened
    assert f["intake"]["total"] == 4
    assert f["intake"]["by_kind"] == {"complaint": 1, "follow_up": 1, "inquiry": 1, "repair": 1}
    assert f["one_stop"] == {"tickets": 1, "rate": 0.25}
    assert f["repeat_contact"] == {"tickets": 1, "contacts": 1, "rate": 0.25}
    # the repair was first answered 5 business hours after it came in: late
    assert f["sla"]["first_response"]["met"] == 3 and f["sla"]["first_response"]["attainment"] == 0.6667
    assert f["return_visits"]["member_tickets_resolved"] == 2 and f["return_visits"]["visited"] == 2
    assert f["return_visits"]["coverage"] == 1.0
    assert (
        f["satisfaction"]["dissatisfied"]["count"] == 1
        and f["satisfaction"]["dissatisfied"]["label"] == "不满意"
    )


def test_csv_and_xlsx_are_safe_and_complete(
    client: FlaskClient, supervisor: H, month_of_work: dict[str, Any]
) -> None:
    r = client.get(f"{R}/supervision?month=2026-03&format=csv", headers=supervisor)
    assert r.status_code == 200 and r.content_type.startswith("text/csv")
    text = r.data.decode("utf-8")
    assert text.startswith("\ufeff类别 section,指标 metric,数值 value\r\n")
    assert "one_stop,rate,0.25" in text
    x = client.get(f"{R}/weekly?week_ending=2026-03-06&format=xlsx", headers=supervisor)
    assert x.status_code == 200 and x.content_type.startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(x.data)).active.iter_rows(values_only=True))
    assert rows[0] == ("类别 section", "指标 metric", "数值 value")
    notes = [row[2] for row in rows if row[1] and str(row[1]).endswith("note")]
    assert notes and all(str(n).startswith("'") for n in notes)  # "+ slow" neutralised
    assert all(not str(row[2]).startswith(("=", "+", "-", "@")) for row in rows if row[2] is not None)


def test_weekly_and_return_visit_summary(
    client: FlaskClient, supervisor: H, month_of_work: dict[str, Any]
) -> None:
    w = client.get(f"{R}/weekly?week_ending=2026-03-04", headers=supervisor).json["figures"]
    assert w["week_ending"] == "2026-03-06" and w["tickets"]["opened"] == 4
    assert w["feedback"][0]["result"] == "不满意"
    v = client.get(f"{R}/return-visits?from=2026-03-01&to=2026-03-31", headers=supervisor).json["figures"]
    assert v["due"] == 2 and v["done"] == 2 and v["on_time"] == 2 and v["follow_up_tickets"] == 1
    assert v["members"] == {"due": 2, "done": 2, "coverage": 1.0}
    assert v["results"]["satisfied"]["share"] == 0.5


def test_report_input_and_roles(client: FlaskClient, supervisor: H, agent: H, rep1: H) -> None:
    assert client.get(f"{R}/supervision?month=2026-13", headers=supervisor).status_code == 422
    assert client.get(f"{R}/supervision?month=2026-03&format=pdf", headers=supervisor).status_code == 422
    assert (
        client.get(f"{R}/return-visits?from=2026-03-05&to=2026-03-01", headers=supervisor).status_code == 422
    )
    assert (
        client.get(f"{R}/return-visits?from=2024-03-05&to=2026-03-01", headers=supervisor).status_code == 422
    )
    assert client.get(f"{R}/supervision?month=2026-03", headers=agent).status_code == 403
    assert client.get(f"{R}/complaints?month=2026-03", headers=rep1).status_code == 403
