"""§4.3 / §4.4 as pure rules: quiet hours in the recipient's zone, marketing days, the customer
SMS rules, bounded retries and the idempotency key."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta

import pytest

from notify.messages import rules
from notify.messages.rules import CUSTOMER, EMAIL, INAPP, SMS, STAFF, MessageDraft, MessageRuleError, Quiet
from notify.policy.rules import NotifyPolicy, PolicyError

POLICY = NotifyPolicy(company_name="建州公司")
# 2026-12-01 is a Tuesday; Shanghai is UTC+8.
TUE_2230_SH = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)


def sms(**kw: object) -> MessageDraft:
    base: dict[str, object] = dict(
        channel=SMS,
        audience=CUSTOMER,
        recipient_id="acc-1",
        address="+8613800138000",
        subject="问候",
        body="王总,您好!祝您工作顺利。有任何需求和问题,请随时来电吩咐。建州公司李四",
        salutation="王总",
        sender_name="李四",
    )
    base.update(kw)
    return MessageDraft(**base)  # type: ignore[arg-type]


def test_customer_quiet_hours_defer_to_the_window_end_in_the_customers_zone() -> None:
    assert rules.next_allowed(TUE_2230_SH, sms(), POLICY) == datetime(
        2026, 12, 2, 0, 0, tzinfo=UTC
    )  # 08:00 SH
    # 07:59 in Shanghai → 08:00 the same day.
    early = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
    assert rules.next_allowed(early, sms(), POLICY) == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)
    # 22:30 Shanghai is 15:30 in Berlin: a Berlin customer is awake.
    assert rules.next_allowed(TUE_2230_SH, sms(timezone="Europe/Berlin"), POLICY) == TUE_2230_SH
    # Midday: no wait.
    noon = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    assert rules.next_allowed(noon, sms(), POLICY) == noon


def test_critical_staff_alerts_and_in_app_bypass_quiet_hours() -> None:
    staff = MessageDraft(
        channel=SMS,
        audience=STAFF,
        recipient_id="tech",
        address="+86139",
        subject="s",
        body="b",
        critical=True,
    )
    assert rules.next_allowed(TUE_2230_SH, staff, POLICY, Quiet(time(21), time(8))) == TUE_2230_SH
    calm = MessageDraft(
        channel=SMS, audience=STAFF, recipient_id="tech", address="+86139", subject="s", body="b"
    )
    assert rules.next_allowed(TUE_2230_SH, calm, POLICY, Quiet(time(21), time(8))) > TUE_2230_SH
    assert rules.next_allowed(TUE_2230_SH, calm, POLICY) == TUE_2230_SH  # staff without quiet hours
    inapp = MessageDraft(
        channel=INAPP, audience=CUSTOMER, recipient_id="x", address="x", subject="s", body="b"
    )
    assert rules.next_allowed(TUE_2230_SH, inapp, POLICY) == TUE_2230_SH


def test_marketing_email_waits_for_tuesday_to_thursday() -> None:
    friday_noon = datetime(2026, 12, 4, 4, 0, tzinfo=UTC)
    mail = sms(channel=EMAIL, purpose="marketing", address="wang@x.cn")
    # Friday → Tuesday 08:00 Shanghai (after the quiet window).
    assert rules.next_allowed(friday_noon, mail, POLICY) == datetime(2026, 12, 8, 0, 0, tzinfo=UTC)
    wednesday = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)
    assert rules.next_allowed(wednesday, mail, POLICY) == wednesday
    # A reminder e-mail is not marketing: Friday is fine.
    assert rules.next_allowed(friday_noon, sms(channel=EMAIL, purpose="reminder"), POLICY) == friday_noon


def test_sms_opens_with_the_title_and_ends_with_the_signature() -> None:
    local = TUE_2230_SH.astimezone(rules.zone(None, POLICY))
    rules.check_customer_message(sms(), POLICY, local)
    # Full-width punctuation is the same text.
    rules.check_customer_message(sms(body="王总，您好！祝您顺利。建州公司李四。"), POLICY, local)
    with pytest.raises(MessageRuleError) as bad:
        rules.check_customer_message(sms(body="您好,祝您顺利。建州公司李四"), POLICY, local)
    assert set(bad.value.errors) == {"body"}
    with pytest.raises(MessageRuleError) as unsigned:
        rules.check_customer_message(sms(body="王总,您好!祝您顺利。"), POLICY, local)
    assert set(unsigned.value.errors) == {"signature"}
    with pytest.raises(MessageRuleError) as anonymous:
        rules.check_customer_message(sms(salutation=None, sender_name=None), POLICY, local)
    assert set(anonymous.value.errors) == {"salutation", "sender_name"}


def test_key_customer_greeting_carries_the_phrase() -> None:
    local = TUE_2230_SH
    rules.check_customer_message(sms(purpose="greeting", key_customer=True), POLICY, local)
    with pytest.raises(MessageRuleError) as exc:
        rules.check_customer_message(
            sms(purpose="greeting", key_customer=True, body="王总,您好!周末愉快。建州公司李四"), POLICY, local
        )
    assert set(exc.value.errors) == {"key_customer_phrase"}


def test_weekend_customer_messages_carry_no_product_content() -> None:
    saturday = datetime(2026, 12, 5, 10, 0, tzinfo=rules.zone(None, POLICY))
    with pytest.raises(MessageRuleError) as exc:
        rules.check_customer_message(sms(product_content=True), POLICY, saturday)
    assert set(exc.value.errors) == {"product_content"}
    with pytest.raises(MessageRuleError):
        rules.check_customer_message(sms(purpose="marketing"), POLICY, saturday)
    rules.check_customer_message(sms(), POLICY, saturday)  # a plain greeting is fine
    rules.check_customer_message(sms(product_content=True), POLICY, saturday - timedelta(days=2))


def test_retries_are_bounded_and_ids_are_stable() -> None:
    policy = NotifyPolicy(message_retry_seconds=(10, 60))
    assert rules.retry_delay(1, policy) == timedelta(seconds=10)
    assert rules.retry_delay(2, policy) == timedelta(seconds=60)
    assert rules.retry_delay(3, policy) is None
    a = rules.message_id("evt-1", "rep1", SMS)
    assert a == rules.message_id("evt-1", "rep1", SMS)
    assert a != rules.message_id("evt-1", "rep1", EMAIL) != rules.message_id("evt-2", "rep1", SMS)


def test_policy_values_are_checked_and_round_trip() -> None:
    p = NotifyPolicy().with_changes(quiet_start="22:30", marketing_email_weekdays=[1, 2])
    assert p.quiet_start == time(22, 30) and p.marketing_email_weekdays == (1, 2)
    assert NotifyPolicy.from_dict(p.to_dict()) == p
    with pytest.raises(PolicyError) as exc:
        NotifyPolicy().with_changes(default_timezone="Mars/Base", webhook_disable_after_days=0)
    assert set(exc.value.errors) == {"default_timezone", "webhook_disable_after_days"}
    with pytest.raises(PolicyError) as unknown:
        NotifyPolicy().with_changes(colour=1)
    assert set(unknown.value.errors) == {"colour"}


# --- edges found by mutation testing (cosmic-ray on messages/rules.py) ------------------------------

SH = rules.zone(None, POLICY)


def test_quiet_windows_same_day_overnight_and_empty() -> None:
    lunch = Quiet(time(12), time(14))
    assert [lunch.contains(time(h, m)) for h, m in [(11, 59), (12, 0), (13, 0), (14, 0), (15, 0)]] == [
        False, True, True, False, False,
    ]
    night = Quiet(time(21), time(8))
    assert [night.contains(time(h, m)) for h, m in [(20, 59), (21, 0), (23, 0), (7, 59), (8, 0)]] == [
        False, True, True, True, False,
    ]
    assert not any(Quiet(time(8), time(8)).contains(time(h)) for h in range(24))  # no window at all


def test_staff_quiet_windows_end_the_same_day_or_the_next() -> None:
    staff = MessageDraft(
        channel=SMS, audience=STAFF, recipient_id="r", address="+86139", subject="s", body="b"
    )
    one_pm = datetime(2026, 12, 1, 13, 0, tzinfo=SH)
    assert rules.next_allowed(one_pm, staff, POLICY, Quiet(time(12), time(14))) == datetime(
        2026, 12, 1, 14, 0, tzinfo=SH
    )
    nine_pm = datetime(2026, 12, 1, 21, 0, tzinfo=SH)  # the first minute of the window
    assert rules.next_allowed(nine_pm, staff, POLICY, Quiet(time(21), time(8))) == datetime(
        2026, 12, 2, 8, 0, tzinfo=SH
    )


def test_critical_customer_messages_still_wait_for_the_morning() -> None:
    morning = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)
    assert rules.next_allowed(TUE_2230_SH, sms(critical=True), POLICY) == morning


def test_only_marketing_email_waits_for_its_weekdays() -> None:
    friday_noon = datetime(2026, 12, 4, 12, 0, tzinfo=SH)
    assert rules.next_allowed(friday_noon, sms(purpose="marketing"), POLICY) == friday_noon  # an SMS
    greeting = sms(channel=EMAIL, purpose="greeting", address="wang@x.cn")
    assert rules.next_allowed(friday_noon, greeting, POLICY) == friday_noon
    mail = sms(channel=EMAIL, purpose="marketing", address="wang@x.cn")
    monday_noon = datetime(2026, 12, 7, 12, 0, tzinfo=SH)
    assert rules.next_allowed(monday_noon, mail, POLICY) == datetime(2026, 12, 8, 8, 0, tzinfo=SH)
    # Thursday night: quiet until Friday 08:00, then not a marketing day → Tuesday 08:00.
    thursday_night = datetime(2026, 12, 3, 22, 30, tzinfo=SH)
    assert rules.next_allowed(thursday_night, mail, POLICY) == datetime(2026, 12, 8, 8, 0, tzinfo=SH)
    # Staff have no quiet window unless they chose one: Tuesday from midnight.
    staff_mail = MessageDraft(
        channel=EMAIL, audience=STAFF, recipient_id="r", address="r@x.cn", subject="s", body="b",
        purpose="marketing",
    )
    assert rules.next_allowed(friday_noon, staff_mail, POLICY) == datetime(2026, 12, 8, 0, 0, tzinfo=SH)


def test_customer_rules_apply_to_customer_sms_only() -> None:
    saturday = datetime(2026, 12, 5, 10, 0, tzinfo=SH)
    staff = MessageDraft(
        channel=SMS, audience=STAFF, recipient_id="r", address="+86139", subject="s", body="b"
    )
    rules.check_customer_message(staff, POLICY, saturday)  # no title, no signature: staff
    mail = sms(channel=EMAIL, address="wang@x.cn", salutation=None, sender_name=None, body="附件请查收。")
    rules.check_customer_message(mail, POLICY, saturday)  # not held to the SMS opening and signature
    plain = "王总,您好!明天上午10点上门。建州公司李四"
    for purpose in ("alert", "reminder", "notice"):  # the phrase is for key-customer greetings only
        rules.check_customer_message(sms(purpose=purpose, key_customer=True, body=plain), POLICY, saturday)
    rules.check_customer_message(sms(purpose="greeting", body=plain), POLICY, saturday)  # not a key one


def test_the_customers_weekend_is_saturday_and_sunday() -> None:
    assert [rules.is_weekend(datetime(2026, 12, d, 10, 0, tzinfo=SH)) for d in (4, 5, 6, 7)] == [
        False, True, True, False,
    ]  # Friday, Saturday, Sunday, Monday


def test_retry_schedule_is_read_in_order_and_unknown_zones_fall_back() -> None:
    policy = NotifyPolicy(message_retry_seconds=(10, 60, 600, 3600))
    assert [rules.retry_delay(n, policy) for n in range(1, 6)] == [
        timedelta(seconds=10),
        timedelta(seconds=60),
        timedelta(seconds=600),
        timedelta(seconds=3600),
        None,
    ]
    assert rules.zone("Mars/Base", POLICY) == rules.zone("../etc/passwd", POLICY) == SH


def test_rule_values_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Quiet(time(21), time(8)).start = time(22)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        sms().body = "x"  # type: ignore[misc]
