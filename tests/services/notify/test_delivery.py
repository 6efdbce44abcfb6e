"""Per-message delivery state: queued → sent, retries on the policy's bounded schedule, failed
with the reason, deferral by quiet hours, and one message per idempotency key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from notify.messages import rules
from notify.messages import service as messages
from notify.messages.models import Message
from notify.policy.service import current_policy
from notify.wiring import NotifyContext
from testkit.events import outbox_events

from .conftest import FakeClock, FakeSender


def _queue(ctx: NotifyContext, key: str = "evt-1", **kw: object) -> str:
    base: dict[str, object] = dict(
        channel=rules.EMAIL,
        audience=rules.STAFF,
        recipient_id="rep1",
        address="rep1@example.cn",
        subject="跟进提醒",
        body="请跟进",
    )
    base.update(kw)
    with ctx.bus.session_factory() as s, s.begin():
        m, created = messages.enqueue(s, rules.MessageDraft(**base), ctx.clock(), current_policy(s), key=key)  # type: ignore[arg-type]
        assert created
        return m.id


def _get(ctx: NotifyContext, mid: str) -> Message:
    with ctx.bus.session_factory() as s:
        m = s.get(Message, mid)
        assert m is not None
        return m


def test_retries_with_backoff_then_sent(
    ctx: NotifyContext, clock: FakeClock, email_sender: FakeSender
) -> None:
    email_sender.failures = 2
    mid = _queue(ctx)
    assert _get(ctx, mid).state == rules.QUEUED
    ctx.dispatch_messages()
    m = _get(ctx, mid)
    assert (m.state, m.attempts, m.reason) == (rules.QUEUED, 1, "try 1 failed")
    assert m.next_attempt_at == clock.now + timedelta(seconds=30)
    ctx.dispatch_messages()  # not due yet: nothing sent
    assert email_sender.calls == 1
    clock.advance(seconds=30)
    ctx.dispatch_messages()
    assert _get(ctx, mid).next_attempt_at == clock.now + timedelta(seconds=300)
    clock.advance(seconds=300)
    ctx.dispatch_messages()
    m = _get(ctx, mid)
    assert (m.state, m.attempts, m.reason, m.sent_at) == (rules.SENT, 3, None, clock.now)
    assert [o.message_id for o in email_sender.sent] == [mid]
    [sent] = outbox_events(ctx.bus, "notify.message.sent.v1")
    assert sent["data"]["message_id"] == mid and "address" not in sent["data"]


def test_bounded_retries_end_failed_with_the_reason(
    ctx: NotifyContext, clock: FakeClock, email_sender: FakeSender
) -> None:
    email_sender.failures = 99
    mid = _queue(ctx)
    for _ in range(4):  # the first try and the policy's three retries
        ctx.dispatch_messages()
        clock.advance(hours=1)
    m = _get(ctx, mid)
    assert (m.state, m.attempts, m.reason) == (rules.FAILED, 4, "try 4 failed")
    ctx.dispatch_messages()
    assert email_sender.calls == 4
    [failed] = outbox_events(ctx.bus, "notify.message.failed.v1")
    assert failed["data"]["reason"] == "try 4 failed"


def test_permanent_failure_is_not_retried(ctx: NotifyContext, email_sender: FakeSender) -> None:
    email_sender.failures, email_sender.permanent = 1, True
    mid = _queue(ctx)
    ctx.dispatch_messages()
    assert (_get(ctx, mid).state, email_sender.calls) == (rules.FAILED, 1)


def test_quiet_hours_defer_a_customer_sms_to_the_morning(ctx: NotifyContext, clock: FakeClock) -> None:
    clock.now = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
    mid = _queue(
        ctx,
        channel=rules.SMS,
        audience=rules.CUSTOMER,
        address="+8613800138000",
        body="王总,您好!明天上午10点上门。本公司客服部",
        salutation="王总",
        sender_name="客服部",
    )
    m = _get(ctx, mid)
    assert m.state == rules.DEFERRED and m.next_attempt_at == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)
    ctx.dispatch_messages()
    assert ctx.sms_provider.sent == []
    clock.now = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)
    ctx.dispatch_messages()
    assert [s[2] for s in ctx.sms_provider.sent] == [mid] and _get(ctx, mid).state == rules.SENT


def test_one_message_per_key_recipient_and_channel(ctx: NotifyContext) -> None:
    first = _queue(ctx, key="evt-9")
    with ctx.bus.session_factory() as s, s.begin():
        again, created = messages.enqueue(
            s,
            rules.MessageDraft(
                channel=rules.EMAIL,
                audience=rules.STAFF,
                recipient_id="rep1",
                address="rep1@example.cn",
                subject="x",
                body="y",
            ),
            ctx.clock(),
            current_policy(s),
            key="evt-9",
        )
        assert (again.id, created) == (first, False)
    with ctx.bus.session_factory() as s:
        assert len(list(s.scalars(select(Message)))) == 1
