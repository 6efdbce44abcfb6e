"""SLAs through the API and the timers: business time on the China calendar, paused while
waiting for the customer, warning at 80 %, breach, the escalation chain, each event once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from support.sla.service import run_timers
from support.wiring import SupportContext
from testkit.events import outbox_events

from .conftest import FakeClock
from .helpers import URL, act, open_ticket

pytestmark = pytest.mark.integration
SH = ZoneInfo("Asia/Shanghai")
H = dict[str, str]


def local(m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, m, d, hh, mm, tzinfo=SH)


def sla(client: FlaskClient, headers: H, ticket_id: str) -> dict[str, dict[str, Any]]:
    return {c["metric"]: c for c in client.get(f"{URL}/{ticket_id}", headers=headers).json["sla"]}


@pytest.fixture
def acc(known_account: Callable[..., str]) -> str:
    return known_account(str(uuid.uuid4()))


def types(ctx: SupportContext, prefix: str = "support.") -> list[tuple[str, str | None, int | None]]:
    out = []
    for e in outbox_events(ctx.bus):
        if e["type"].startswith(("support.sla.", "support.ticket.escalated")):
            out.append((e["type"], e["data"].get("metric"), e["data"].get("level")))
    return out


def test_due_times_are_business_time(client: FlaskClient, agent: H, acc: str) -> None:
    t = open_ticket(client, agent, acc)  # Monday 10:00
    clocks = sla(client, agent, t["id"])
    assert clocks["first_response"]["due_at"] == "2026-03-02T06:00:00+00:00"  # 14:00 in Shanghai
    assert datetime.fromisoformat(clocks["resolution"]["due_at"]) == local(3, 5, 10)
    assert clocks["resolution"]["state"] == "running" and clocks["resolution"]["breached"] is False


def test_spring_festival_and_national_day(client: FlaskClient, agent: H, acc: str, clock: FakeClock) -> None:
    clock.set(local(2, 13, 15))  # Friday before the Spring Festival
    t = open_ticket(client, agent, acc)
    # 27 business hours: Fri 3 h, Sat 14th (make-up day) 9 h, Tue 24th 9 h, Wed 25th 6 h.
    assert datetime.fromisoformat(sla(client, agent, t["id"])["resolution"]["due_at"]) == local(2, 25, 15)
    clock.set(local(9, 30, 17))  # the eve of the Golden Week
    t = open_ticket(client, agent, acc, new_matter=True)
    assert datetime.fromisoformat(sla(client, agent, t["id"])["first_response"]["due_at"]) == local(10, 8, 12)


def test_warning_breach_and_escalation_chain_each_once(
    client: FlaskClient,
    agent: H,
    acc: str,
    clock: FakeClock,
    support_ctx: SupportContext,
    timers: Callable[[], dict[str, int]],
) -> None:
    t = open_ticket(client, agent, acc)  # first response 4 h: warning 13:12, due 14:00
    clock.set(local(3, 2, 13, 11))
    timers()
    assert types(support_ctx) == []
    clock.set(local(3, 2, 13, 12))
    timers()
    timers()
    assert types(support_ctx) == [("support.sla.warning.v1", "first_response", None)]
    clock.set(local(3, 2, 14))
    timers()
    assert types(support_ctx)[1:] == [
        ("support.sla.breached.v1", "first_response", None),
        ("support.ticket.escalated.v1", "first_response", 1),
    ]
    breach = outbox_events(support_ctx.bus, "support.sla.breached.v1")[0]["data"]
    assert breach["role"] == "support_supervisor" and breach["owner_id"] == "agent"
    assert breach["kind"] == "repair" and breach["priority"] == "normal"
    assert datetime.fromisoformat(breach["due_at"]) == local(3, 2, 14)
    clock.set(local(3, 3, 13))  # 150 % = 6 h → Tue 10:00 … 200 % = 8 h → Tue 09:00+? (Mon 10-18 = 8 h)
    timers()
    levels = [
        (e["data"]["level"], e["data"]["role"])
        for e in outbox_events(support_ctx.bus, "support.ticket.escalated.v1")
    ]
    assert levels == [(1, "support_supervisor"), (2, "sales_gm"), (3, "group_gm")]
    assert client.get(f"{URL}/{t['id']}", headers=agent).json["escalation_level"] == 3
    clock.set(local(3, 20, 9))
    timers()
    # the resolution clock went through all its thresholds too, each once
    resolution = [x for x in types(support_ctx) if x[1] == "resolution"]
    assert [x[0] for x in resolution] == ["support.sla.warning.v1", "support.sla.breached.v1"] + [
        "support.ticket.escalated.v1"
    ] * 3
    timers()
    assert len(types(support_ctx)) == 10


def test_first_response_met_in_time(
    client: FlaskClient,
    agent: H,
    acc: str,
    clock: FakeClock,
    support_ctx: SupportContext,
    timers: Callable[[], dict[str, int]],
) -> None:
    t = open_ticket(client, agent, acc)
    clock.set(local(3, 2, 11))
    act(client, agent, t["id"], "start")
    clock.set(local(3, 2, 20))
    timers()
    first = sla(client, agent, t["id"])["first_response"]
    assert first["state"] == "met" and first["attained"] is True and first["elapsed_minutes"] == 60
    assert types(support_ctx) == []


def test_waiting_for_the_customer_pauses(
    client: FlaskClient,
    agent: H,
    acc: str,
    clock: FakeClock,
    support_ctx: SupportContext,
    timers: Callable[[], dict[str, int]],
) -> None:
    t = open_ticket(client, agent, acc)
    clock.set(local(3, 2, 12))
    act(client, agent, t["id"], "start")
    act(client, agent, t["id"], "wait", note="asked for the serial number")
    paused = sla(client, agent, t["id"])["resolution"]
    assert paused["state"] == "paused" and paused["due_at"] is None and paused["elapsed_minutes"] == 120
    clock.set(local(3, 13, 12))  # nine working days later: nothing counted, nothing sent
    timers()
    assert [x for x in types(support_ctx) if x[1] == "resolution"] == []
    act(client, agent, t["id"], "resume", note="customer answered")
    running = sla(client, agent, t["id"])["resolution"]
    # 27 h target, 2 h used: 25 h from Fri 13 Mar 12:00 → Fri 6 h, Mon 9, Tue 9, Wed 1 → Wed 10:00
    assert running["state"] == "running" and datetime.fromisoformat(running["due_at"]) == local(3, 18, 10)
    act(client, agent, t["id"], "resolve")
    met = sla(client, agent, t["id"])["resolution"]
    assert met["state"] == "met" and met["attained"] is True


def test_reopen_resumes_resolution(client: FlaskClient, agent: H, acc: str, clock: FakeClock) -> None:
    t = open_ticket(client, agent, acc)
    clock.set(local(3, 2, 12))
    act(client, agent, t["id"], "resolve")
    clock.set(local(3, 9, 12))
    act(client, agent, t["id"], "reopen", note="broke again")
    clocks = sla(client, agent, t["id"])["resolution"]
    assert clocks["state"] == "running" and clocks["elapsed_minutes"] == 120


def test_replicas_send_each_notice_once(
    client: FlaskClient, agent: H, acc: str, clock: FakeClock, support_ctx: SupportContext
) -> None:
    for _ in range(5):
        open_ticket(client, agent, acc, new_matter=True)
    clock.set(local(3, 2, 13, 30))
    barrier = threading.Barrier(3)

    def replica() -> None:
        barrier.wait()
        run_timers(support_ctx.bus.session_factory, support_ctx.bus, clock(), batch=2)

    threads = [threading.Thread(target=replica) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    assert len(outbox_events(support_ctx.bus, "support.sla.warning.v1")) == 5
