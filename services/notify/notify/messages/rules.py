"""Pure message rules: §4.3 quiet hours and timing, §4.4 the customer SMS rules, retries.

No Flask, no session, no clock reads: the send moment is a parameter.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..policy.rules import NotifyPolicy

INAPP, EMAIL, SMS = "inapp", "email", "sms"
CHANNELS = (INAPP, EMAIL, SMS)
STAFF, CUSTOMER = "staff", "customer"
AUDIENCES = (STAFF, CUSTOMER)
# reminder: a due date; alert: an internal alarm; greeting: relationship; marketing: product offers.
PURPOSES = ("reminder", "alert", "greeting", "marketing", "notice")
QUEUED, DEFERRED, SENDING, SENT, FAILED = "queued", "deferred", "sending", "sent", "failed"
STATES = (QUEUED, DEFERRED, SENDING, SENT, FAILED)
_ID_NAMESPACE = uuid.UUID("0b8a7f4e-9d3c-5e2a-8b1f-6c4d2e0a9f17")


class MessageRuleError(ValueError):
    """A message breaks the documents' rules; ``errors`` maps each field to why (answered 422)."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in sorted(errors.items())))


@dataclass(frozen=True)
class Quiet:
    """A quiet window in local wall time; start > end means it spans midnight (21:00–08:00)."""

    start: time
    end: time

    def contains(self, t: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


@dataclass(frozen=True)
class MessageDraft:
    """A message to queue, before it has a state."""

    channel: str
    audience: str
    recipient_id: str
    address: str
    subject: str
    body: str
    purpose: str = "notice"
    critical: bool = False
    timezone: str | None = None
    language: str = "zh-CN"
    salutation: str | None = None  # the customer's title, e.g. 王总 (§4.4 opening)
    sender_name: str | None = None  # who signs a customer message (§4.4 signature)
    key_customer: bool = False
    product_content: bool = False  # mentions products / needs: never on a customer's weekend
    source_event_id: str | None = None
    event_type: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    created_by: str = "system"
    meta: dict[str, str] = field(default_factory=dict)


def message_id(key: str, recipient_id: str, channel: str) -> str:
    """The idempotency key of a message caused by ``key`` (an event id or a reminder key): the
    same cause, recipient and channel always give the same id, so a redelivery sends nothing."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{key}|{recipient_id}|{channel}"))


def zone(name: str | None, policy: NotifyPolicy) -> ZoneInfo:
    """The recipient's zone (the customer city's), falling back to the organisation default."""
    try:
        return ZoneInfo(name or policy.default_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(policy.default_timezone)


def _norm(text: str) -> str:
    """Full-width and ASCII punctuation compare the same (，/, ！/! ：/:)."""
    return (
        text.replace("，", ",").replace("！", "!").replace("：", ":").replace(" ", "").replace("\u3000", "")
    )


def opening(salutation: str) -> str:
    return f"{salutation},您好!"


def signature(company: str, sender_name: str) -> str:
    return f"{company}{sender_name}"


_TRAILING = re.compile(r"[\s。.!！]+$")


def check_customer_message(d: MessageDraft, policy: NotifyPolicy, local_send: datetime) -> None:
    """§4.4 / §4.3 for a message to a customer: SMS open with the customer's title and end with
    the signature ××(公司)××(员工姓名); key-customer greetings carry the phrase; no product
    content on the customer's weekend. Raises MessageRuleError naming each broken rule."""
    if d.audience != CUSTOMER:
        return
    errors: dict[str, str] = {}
    body = _norm(d.body)
    if d.channel == SMS:
        if not d.salutation:
            errors["salutation"] = "an SMS to a customer opens with the customer's title (××总,您好!)"
        elif not body.startswith(_norm(opening(d.salutation))):
            errors["body"] = f"must open with 「{opening(d.salutation)}」"
        if not d.sender_name:
            errors["sender_name"] = "an SMS to a customer is signed by its sender"
        elif not _TRAILING.sub("", body).endswith(_norm(signature(policy.company_name, d.sender_name))):
            errors["signature"] = f"must end signed 「{signature(policy.company_name, d.sender_name)}」"
    if d.key_customer and d.purpose == "greeting" and _norm(policy.key_customer_phrase) not in body:
        errors["key_customer_phrase"] = f"a key-customer greeting carries 「{policy.key_customer_phrase}」"
    if is_weekend(local_send) and (d.product_content or d.purpose == "marketing"):
        errors["product_content"] = (
            "no product content in a customer's weekend message (§4.3): the customer is resting"
        )
    if errors:
        raise MessageRuleError(errors)


def is_weekend(local: datetime) -> bool:
    return local.weekday() >= 5


def next_allowed(at: datetime, d: MessageDraft, policy: NotifyPolicy, quiet: Quiet | None = None) -> datetime:
    """The first moment at or after ``at`` (UTC) when ``d`` may reach its recipient.

    In-app is a passive inbox and never waits; critical staff alerts (major fault, SLA breach)
    bypass quiet hours. Customers have the organisation's quiet window unless ``quiet`` (their
    stated preference) says otherwise; staff only the window they chose. Marketing e-mail waits
    for the next allowed weekday (Tuesday–Thursday by default), from the window's end.
    """
    if d.channel == INAPP or (d.audience == STAFF and d.critical):
        return at
    if quiet is None and d.audience == CUSTOMER:
        quiet = Quiet(policy.quiet_start, policy.quiet_end)
    tz = zone(d.timezone, policy)
    local = at.astimezone(tz)
    marketing = d.channel == EMAIL and d.purpose == "marketing"
    for _ in range(16):  # at most two weeks of days to look through
        if marketing and local.weekday() not in policy.marketing_email_weekdays:
            start = quiet.end if quiet is not None else time(0, 0)
            local = _at_local(local.date() + timedelta(days=1), start, tz)
            continue
        if quiet is not None and quiet.contains(local.timetz().replace(tzinfo=None)):
            end_day = local.date()
            if quiet.start > quiet.end and local.time() >= quiet.start:
                end_day += timedelta(days=1)
            local = _at_local(end_day, quiet.end, tz)
            continue
        break
    return local.astimezone(at.tzinfo)


def _at_local(day: object, t: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, t, tzinfo=tz)  # type: ignore[arg-type]


def retry_delay(attempts: int, policy: NotifyPolicy) -> timedelta | None:
    """Delay before attempt ``attempts + 1`` after ``attempts`` failures; None when the bounded
    schedule is used up (the message is failed)."""
    schedule = policy.message_retry_seconds
    if attempts > len(schedule):
        return None
    return timedelta(seconds=schedule[attempts - 1])
