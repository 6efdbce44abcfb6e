"""Appointments through the API: ≥ 5 working days ahead to the hour (urgent sooner, with a
reason), the reminder one hour before arrival (once), rescheduling only with consent,
technician assignment, brand customers first."""

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
from .helpers import URL, open_ticket

pytestmark = pytest.mark.integration
SH = ZoneInfo("Asia/Shanghai")
H = dict[str, str]
APPTS = "/api/v1/support/appointments"


def local(m: int, d: int, hh: int, mm: int = 0) -> str:
    return datetime(2026, m, d, hh, mm, tzinfo=SH).isoformat()


@pytest.fixture
def acc(known_account: Callable[..., str]) -> str:
    return known_account(str(uuid.uuid4()), contact={"name": "Li Si", "mobile": "+8613900139000"})


@pytest.fixture
def install(client: FlaskClient, agent: H, acc: str) -> dict[str, Any]:
    return open_ticket(client, agent, acc, kind="installation", subject="Install the new line")


def book(client: FlaskClient, headers: H, ticket_id: str, **body: Any) -> Any:
    return client.post(
        f"{URL}/{ticket_id}/appointments", json={"technician_id": "tech", **body}, headers=headers
    )


def test_five_working_days_ahead_to_the_hour(
    client: FlaskClient, agent: H, install: dict[str, Any], support_ctx: SupportContext
) -> None:
    two_days = book(client, agent, install["id"], starts_at=local(3, 4, 10))
    assert two_days.status_code == 422 and "starts_at" in two_days.json["errors"]["json"]
    assert "5 working days" in two_days.json["errors"]["json"]["starts_at"][0]
    assert book(client, agent, install["id"], starts_at=local(3, 6, 10)).status_code == 422  # 4
    assert book(client, agent, install["id"], starts_at=local(3, 9, 10, 30)).status_code == 422
    assert book(client, agent, install["id"], starts_at="2026-03-09T10:00:00").status_code == 422  # naive
    r = book(client, agent, install["id"], starts_at=local(3, 9, 10))
    assert r.status_code == 201 and r.json["status"] == "scheduled"
    assert r.json["starts_at"] == "2026-03-09T02:00:00+00:00"
    ticket = client.get(f"{URL}/{install['id']}", headers=agent).json
    assert ticket["assignee_id"] == "tech" and ticket["status"] == "assigned"
    [event] = outbox_events(support_ctx.bus, "support.appointment.scheduled.v1")
    assert (
        event["data"]["technician_id"] == "tech" and event["data"]["customer"]["mobile"] == "+8613900139000"
    )


def test_working_days_follow_the_holiday_calendar(
    client: FlaskClient, agent: H, install: dict[str, Any], clock: FakeClock
) -> None:
    clock.set(datetime(2026, 2, 12, 10, tzinfo=SH))  # Thursday before the Spring Festival
    # Fri 13, Sat 14 (make-up day), Tue 24: only 3 working days before the 24th.
    assert book(client, agent, install["id"], starts_at=local(2, 24, 10)).status_code == 422
    assert book(client, agent, install["id"], starts_at=local(2, 26, 10)).status_code == 201


def test_urgent_sooner_only_with_a_reason(client: FlaskClient, agent: H, install: dict[str, Any]) -> None:
    r = book(client, agent, install["id"], starts_at=local(3, 3, 14), urgent=True)
    assert r.status_code == 422 and "urgent_reason" in r.json["errors"]["json"]
    r = book(
        client,
        agent,
        install["id"],
        starts_at=local(3, 3, 14),
        urgent=True,
        urgent_reason="production line stopped",
    )
    assert r.status_code == 201 and r.json["urgent"] is True
    assert (
        book(
            client, agent, install["id"], starts_at=local(3, 2, 9), urgent=True, urgent_reason="x"
        ).status_code
        == 422
    )  # in the past


def test_reminder_one_hour_before_once(
    client: FlaskClient,
    agent: H,
    install: dict[str, Any],
    clock: FakeClock,
    support_ctx: SupportContext,
    timers: Callable[[], dict[str, int]],
) -> None:
    appt = book(client, agent, install["id"], starts_at=local(3, 9, 10)).json
    clock.set(datetime(2026, 3, 9, 8, 59, tzinfo=SH))
    timers()
    assert outbox_events(support_ctx.bus, "support.appointment.reminder_due.v1") == []
    clock.set(datetime(2026, 3, 9, 9, 0, tzinfo=SH))
    timers()
    timers()
    [event] = outbox_events(support_ctx.bus, "support.appointment.reminder_due.v1")
    assert event["data"]["appointment_id"] == appt["id"] and event["data"]["technician_id"] == "tech"
    assert event["data"]["starts_at"] == "2026-03-09T02:00:00+00:00"


def test_reschedule_only_with_consent(
    client: FlaskClient,
    agent: H,
    tech: H,
    install: dict[str, Any],
    clock: FakeClock,
    support_ctx: SupportContext,
    timers: Callable[[], dict[str, int]],
) -> None:
    appt = book(client, agent, install["id"], starts_at=local(3, 9, 10)).json
    url = f"{APPTS}/{appt['id']}/reschedule"
    r = client.post(url, json={"starts_at": local(3, 10, 15)}, headers=agent)
    assert r.status_code == 422 and "consent" in r.json["errors"]["json"]
    assert (
        client.post(
            url, json={"starts_at": local(3, 10, 15), "consent": {"by": "Li Si"}}, headers=agent
        ).status_code
        == 422
    )
    assert (
        client.post(
            url,
            json={"starts_at": local(3, 10, 15), "consent": {"by": "Li", "channel": "phone"}},
            headers=tech,
        ).status_code
        == 403
    )  # the technician sees it, the desk moves it
    r = client.post(
        url,
        json={
            "starts_at": local(3, 10, 15),
            "consent": {"by": "Li Si", "channel": "phone"},
            "note": "customer away on Monday",
        },
        headers=agent,
    )
    assert r.status_code == 200 and r.json["starts_at"] == "2026-03-10T07:00:00+00:00"
    change = r.json["changes"][-1]
    assert (change["action"], change["consent_by"], change["consent_channel"]) == (
        "reschedule",
        "Li Si",
        "phone",
    )
    [moved] = outbox_events(support_ctx.bus, "support.appointment.rescheduled.v1")
    assert moved["data"]["previous_starts_at"] == "2026-03-09T02:00:00+00:00"
    clock.set(datetime(2026, 3, 9, 9, 30, tzinfo=SH))
    timers()
    assert outbox_events(support_ctx.bus, "support.appointment.reminder_due.v1") == []
    clock.set(datetime(2026, 3, 10, 14, 0, tzinfo=SH))
    timers()
    assert len(outbox_events(support_ctx.bus, "support.appointment.reminder_due.v1")) == 1
    cancel = client.post(f"{APPTS}/{appt['id']}/cancel", json={"reason": "customer cancelled"}, headers=agent)
    assert cancel.status_code == 200 and cancel.json["status"] == "cancelled"
    assert (
        client.post(
            url,
            json={"starts_at": local(3, 20, 15), "consent": {"by": "Li", "channel": "phone"}},
            headers=agent,
        ).status_code
        == 409
    )


def test_technician_busy_and_wrong_kind(
    client: FlaskClient, agent: H, acc: str, install: dict[str, Any]
) -> None:
    assert book(client, agent, install["id"], starts_at=local(3, 9, 10)).status_code == 201
    other = open_ticket(client, agent, acc, kind="repair", new_matter=True)
    assert book(client, agent, other["id"], starts_at=local(3, 9, 11)).status_code == 409
    assert book(client, agent, other["id"], starts_at=local(3, 9, 12)).status_code == 201
    inquiry = open_ticket(client, agent, acc, kind="inquiry")
    r = book(client, agent, inquiry["id"], starts_at=local(3, 9, 15))
    assert r.status_code == 422 and "ticket_id" in r.json["errors"]["json"]


def test_schedule_serves_brand_customers_first(
    client: FlaskClient, agent: H, supervisor: H, tech: H, tech2: H, known_account: Callable[..., str]
) -> None:
    plain = known_account(str(uuid.uuid4()), code="C-000010", grade="C")
    brand = known_account(str(uuid.uuid4()), code="C-000011", grade="A")
    flagged = known_account(str(uuid.uuid4()), code="C-000012", key_customer=True)
    made = []
    for acc, hour, who in ((plain, 9, "tech"), (brand, 14, "tech2"), (flagged, 11, "tech")):
        t = open_ticket(client, agent, acc, kind="installation")
        made.append(book(client, agent, t["id"], starts_at=local(3, 10, hour), technician_id=who).json)
    window = f"?from={local(3, 10, 0)}&to={local(3, 11, 0)}".replace("+", "%2B")
    items = client.get(APPTS + window, headers=supervisor).json["items"]
    assert [i["priority_customer"] for i in items] == [True, True, False]
    assert [i["id"] for i in items] == [made[2]["id"], made[1]["id"], made[0]["id"]]
    mine = client.get(APPTS + window + "&technician_id=tech2", headers=tech).json["items"]
    assert {i["technician_id"] for i in mine} == {"tech"}  # a technician sees only their own
    assert client.get(f"{APPTS}/{made[1]['id']}", headers=tech).status_code == 404
    assert client.get(f"{APPTS}/{made[1]['id']}", headers=tech2).status_code == 200
    assert (
        client.get(
            APPTS + f"?from={local(3, 10, 0)}&to={local(3, 9, 0)}".replace("+", "%2B"), headers=supervisor
        ).status_code
        == 422
    )
