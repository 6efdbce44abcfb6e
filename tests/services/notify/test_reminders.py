"""Reminders from the other services' events, through the bus: the right people on the right
channels, customers by individual signed SMS, critical alerts past quiet hours, and a
redelivered event (or the same reminder key again) sends nothing twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from notify.messages.models import Message
from notify.models import Notification
from notify.preferences.service import set_prefs
from notify.wiring import NotifyContext
from testkit.events import envelope, publish, running_worker, settled, wait_settled

from .conftest import FakeClock

pytestmark = pytest.mark.integration


def _deliver(
    ctx: NotifyContext, type_: str, data: dict[str, Any], *, times: int = 1, event_id: str | None = None
) -> None:
    env = envelope(type_, data, subject=str(uuid.uuid4()), source=f"crm/{type_.split('.')[0]}")
    if event_id:
        env = type(env).from_dict({**env.to_dict(), "id": event_id})
    with running_worker(ctx.bus) as bus:
        # The bus counts settlements over its life: wait for this call's own (a test that
        # delivers twice saw the first event's count and read before the second was handled).
        handled, duplicate = settled(bus, "handled"), settled(bus, "duplicate")
        for _ in range(times):
            publish(bus, env)
        wait_settled(bus, "handled", handled + 1)
        if times > 1:
            wait_settled(bus, "duplicate", duplicate + times - 1)


def _notes(ctx: NotifyContext) -> dict[str, Notification]:
    with ctx.bus.session_factory() as s:
        return {n.recipient_id: n for n in s.scalars(select(Notification))}


def _messages(ctx: NotifyContext) -> list[Message]:
    with ctx.bus.session_factory() as s:
        return list(s.scalars(select(Message).order_by(Message.channel)))


def _prefs(ctx: NotifyContext, user: str, **changes: Any) -> None:
    with ctx.bus.session_factory() as s, s.begin():
        set_prefs(s, user, changes, ctx.clock())


def lead_reminder(**kw: Any) -> dict[str, Any]:
    lead = str(uuid.uuid4())
    return {
        "lead_id": lead,
        "code": "L-000007",
        "owner_id": "rep1",
        "owner_team": "east",
        "kind": "trade_show_unanswered_breach",
        "due_at": "2026-11-30T01:00:00+00:00",
        "escalate_to": "manager",
        "reminder_key": f"{lead}:x:2026-11-23T01:00:00+00:00",
        "future_field": {"ignored": True},
        **kw,
    }


def test_overdue_lead_reaches_owner_by_chosen_channels_and_the_teams_manager(ctx: NotifyContext) -> None:
    _prefs(
        ctx,
        "rep1",
        channels=["email", "sms"],
        email="rep1@example.cn",
        mobile="+8613900000001",
        language="en",
    )
    data = lead_reminder()
    _deliver(ctx, "leads.followup.overdue.v1", data, times=3)  # redelivered twice: once only
    notes = _notes(ctx)
    assert set(notes) == {"rep1", "role:sales_manager@east"}
    assert notes["rep1"].title == "Follow-up overdue L-000007"  # rep1 reads English
    assert notes["role:sales_manager@east"].title == "跟进逾期 L-000007"
    assert (notes["rep1"].subject_type, notes["rep1"].subject_id) == ("lead", data["lead_id"])
    msgs = _messages(ctx)
    assert [(m.channel, m.address, m.state) for m in msgs] == [
        ("email", "rep1@example.cn", "queued"),
        ("sms", "+8613900000001", "queued"),
    ]
    # The same reminder in another event (the producer re-ran): still once.
    _deliver(ctx, "leads.followup.overdue.v1", data)
    assert len(_messages(ctx)) == 2 and len(_notes(ctx)) == 2


def _customer(**kw: Any) -> dict[str, Any]:
    return {
        "name": "王五",
        "title": "总",
        "mobile": "+8613800138000",
        "email": None,
        "timezone": "Asia/Shanghai",
        **kw,
    }


def test_appointment_confirmation_is_an_individual_signed_sms(ctx: NotifyContext) -> None:
    data = {
        "appointment_id": str(uuid.uuid4()),
        "ticket_id": str(uuid.uuid4()),
        "code": "T-000105",
        "account_id": str(uuid.uuid4()),
        "technician_id": "tech1",
        "starts_at": "2026-12-08T02:00:00+00:00",
        "kind": "installation",
        "urgent": False,
        "priority_customer": False,
        "customer": _customer(),
        "at": "2026-12-01T04:00:00+00:00",
    }
    _deliver(ctx, "support.appointment.scheduled.v1", data)
    assert set(_notes(ctx)) == {"tech1"}
    [sms] = _messages(ctx)
    assert (sms.channel, sms.audience, sms.recipient_id, sms.address) == (
        "sms",
        "customer",
        data["account_id"],
        "+8613800138000",
    )
    assert sms.body.startswith("王总,您好!") and sms.body.endswith("本公司客服部")
    ctx.dispatch_messages()
    assert [s[0] for s in ctx.sms_provider.sent] == ["+8613800138000"]


def test_customer_sms_at_night_waits_for_the_morning(ctx: NotifyContext, clock: FakeClock) -> None:
    clock.now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    data = {
        "appointment_id": str(uuid.uuid4()),
        "ticket_id": str(uuid.uuid4()),
        "code": "T-000106",
        "technician_id": "tech1",
        "starts_at": "2026-12-02T02:00:00+00:00",
        "customer": _customer(),
        "at": "2026-12-01T15:00:00+00:00",
    }
    _deliver(ctx, "support.appointment.reminder_due.v1", data)
    [sms] = _messages(ctx)
    assert sms.state == "deferred" and sms.next_attempt_at == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)


def test_major_fault_reaches_staff_at_night_past_their_quiet_hours(
    ctx: NotifyContext, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    _prefs(ctx, "rep1", channels=["sms"], mobile="+8613900000001", quiet_start="21:00", quiet_end="08:00")
    data = {
        "fault_id": str(uuid.uuid4()),
        "ticket_id": str(uuid.uuid4()),
        "account_id": str(uuid.uuid4()),
        "code": "T-000107",
        "account_owner_id": "rep1",
        "owner_id": "agent",
        "occurred_at": "2026-12-01T14:50:00+00:00",
        "place": "杭州工厂",
        "symptoms": "整线停机",
        "plan": "技术部两小时内到场",
        "roles": ["technician", "sales_gm"],
        "critical": True,
        "reported_by": "agent",
        "at": "2026-12-01T15:00:00+00:00",
    }
    _deliver(ctx, "support.major_fault.reported.v1", data)
    assert set(_notes(ctx)) == {"agent", "rep1", "role:technician", "role:sales_gm"}
    [sms] = _messages(ctx)
    assert (sms.recipient_id, sms.critical, sms.state) == ("rep1", True, "queued")


def test_sla_warning_is_not_critical_so_quiet_hours_hold(ctx: NotifyContext, clock: FakeClock) -> None:
    clock.now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    _prefs(ctx, "agent", channels=["sms"], mobile="+8613900000002", quiet_start="21:00", quiet_end="08:00")
    data = {
        "ticket_id": str(uuid.uuid4()),
        "code": "T-1",
        "account_id": str(uuid.uuid4()),
        "metric": "resolution",
        "due_at": "2026-12-02T01:00:00+00:00",
        "owner_id": "agent",
        "assignee_id": None,
        "role": "support_supervisor",
        "kind": "repair",
        "priority": "high",
        "percent": 80,
        "at": "2026-12-01T15:00:00+00:00",
    }
    _deliver(ctx, "support.sla.warning.v1", data)
    assert set(_notes(ctx)) == {"agent", "role:support_supervisor"}
    [sms] = _messages(ctx)
    assert sms.state == "deferred"


@pytest.mark.parametrize(
    ("type_", "extra", "recipients"),
    [
        (
            "accounts.credit.approval_requested.v1",
            {
                "request_id": "r1",
                "kind": "limit_change",
                "step": 2,
                "approver_role": "sales_vp",
                "proposed_limit": "50000.00",
                "requested_by": "rep1",
            },
            {"role:sales_vp"},
        ),
        (
            "accounts.payment.overdue.v1",
            {
                "charge_id": "c1",
                "amount_due": "1200.50",
                "currency": "CNY",
                "due_on": "2026-11-20",
                "days_overdue": 11,
            },
            {"rep1", "role:finance"},
        ),
        (
            "accounts.credit.hold_placed.v1",
            {"reasons": ["overdue", "over_limit"], "held_at": "2026-12-01T04:00:00Z"},
            {"rep1"},
        ),
        (
            "accounts.credit.temporary_increase_expiring.v1",
            {"increase_id": "i1", "ends_on": "2026-12-05", "amount": "10000.00"},
            {"rep1"},
        ),
    ],
)
def test_credit_events_go_to_owner_approver_or_finance(
    ctx: NotifyContext, type_: str, extra: dict[str, Any], recipients: set[str]
) -> None:
    data = {
        "account_id": str(uuid.uuid4()),
        "account_code": "C-000042",
        "account_name": "杭州竹业",
        "owner_id": "rep1",
        "owner_team": "east",
        **extra,
    }
    _deliver(ctx, type_, data)
    notes = _notes(ctx)
    assert set(notes) == recipients
    assert all("C-000042" in n.title for n in notes.values())


def test_payment_notice_reaches_the_customer_signed_by_finance(ctx: NotifyContext) -> None:
    """催款通知单 (§4.1): the owner and finance in-app, the customer by SMS from its card."""
    aid = str(uuid.uuid4())
    snapshot = {
        "id": aid,
        "code": "C-000042",
        "name": "杭州竹业",
        "owner_id": "rep1",
        "status": "active",
        "key_customer": False,
        "timezone": "Asia/Shanghai",
        "version": 2,
        "contact": {"name": "王五", "title": "总", "mobile": "+8613800138000", "email": None},
    }
    _deliver(ctx, "accounts.account.updated.v1", {"account_id": aid, "account": snapshot, "version": 2})
    _deliver(
        ctx,
        "accounts.payment.overdue.v1",
        {
            "account_id": aid,
            "account_code": "C-000042",
            "account_name": "杭州竹业",
            "owner_id": "rep1",
            "owner_team": "east",
            "charge_id": "c1",
            "amount_due": "1200.50",
            "currency": "CNY",
            "due_on": "2026-11-20",
            "days_overdue": 11,
        },
    )
    assert set(_notes(ctx)) == {"rep1", "role:finance"}
    [sms] = _messages(ctx)
    assert (sms.audience, sms.recipient_id, sms.address) == ("customer", aid, "+8613800138000")
    assert (
        sms.body.startswith("王总,您好!") and "1200.50 CNY" in sms.body and sms.body.endswith("本公司财务部")
    )
