"""Pure template rules: which variables each event type offers, the built-in texts, and a
sandboxed, strict renderer (a missing variable is an error, never a half-rendered message)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

LANGUAGES = ("zh-CN", "en")
_COMMON = ("company", "recipient_name")
_LEAD = ("code", "kind", "due_at", "owner_id")
_TICKET = ("code", "kind", "priority", "due_at", "percent")
_APPT = ("code", "starts_at", "technician_id", "salutation", "sender_name")
_CREDIT = ("account_code", "account_name", "owner_id")
# Every variable a template of an event type may use (plus _COMMON); the reminders fill them all.
VARIABLES: dict[str, tuple[str, ...]] = {
    "leads.followup.due.v1": _LEAD,
    "leads.followup.overdue.v1": _LEAD,
    "leads.protection.expiring.v1": _LEAD,
    "leads.protection.expired.v1": _LEAD,
    "support.sla.warning.v1": _TICKET,
    "support.sla.breached.v1": _TICKET,
    "support.appointment.scheduled.v1": _APPT,
    "support.appointment.reminder_due.v1": _APPT,
    "support.return_visit.due.v1": ("code", "due_at", "reason"),
    "support.major_fault.reported.v1": ("code", "place", "symptoms", "plan", "occurred_at"),
    "accounts.payment.overdue.v1": (
        *_CREDIT,
        "amount_due",
        "currency",
        "due_on",
        "days_overdue",
        "salutation",
        "sender_name",
    ),
    "accounts.credit.hold_placed.v1": (*_CREDIT, "reasons"),
    "accounts.credit.hold_released.v1": (*_CREDIT, "reason"),
    "accounts.credit.approval_requested.v1": (*_CREDIT, "kind", "step", "proposed_limit", "requested_by"),
    "accounts.credit.approval_decided.v1": (*_CREDIT, "kind", "step", "decision", "opinion"),
    "accounts.credit.temporary_increase_expiring.v1": (*_CREDIT, "ends_on", "amount"),
    "accounts.account.opened.v1": ("lead_name", "lead_code", "name", "code"),
    "accounts.account.linked.v1": ("lead_name", "lead_code", "name", "code"),
    "greeting.key_customer.v1": ("salutation", "sender_name", "key_customer_phrase"),
    "greeting.holiday.v1": ("salutation", "sender_name", "holiday", "key_customer_phrase"),
    "greeting.christmas.v1": ("salutation", "sender_name"),
}


class TemplateRuleError(ValueError):
    """A template that cannot render; ``errors`` maps field (subject/body) to why (answered 422)."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in sorted(errors.items())))


MAX_OUTPUT = 10_000  # characters: no message is longer, so a larger rendering is an error


class _Sandbox(SandboxedEnvironment):
    """The sandbox plus guards against resource bombs (``'a' * 10**9``): powers are refused and
    a repetition may not exceed the output cap."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("powers are not allowed in templates")
        if operator == "*" and any(isinstance(v, str | list | tuple) for v in (left, right)):
            count = right if isinstance(right, int) else left if isinstance(left, int) else 0
            if count > MAX_OUTPUT:
                raise SecurityError("repetition too large")
        return super().call_binop(context, operator, left, right)


_ENV = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


def variables(event_type: str) -> tuple[str, ...]:
    return (*_COMMON, *VARIABLES.get(event_type, ()))


def sample_context(event_type: str) -> dict[str, Any]:
    return {name: f"<{name}>" for name in variables(event_type)}


def render_text(source: str, context: Mapping[str, Any]) -> str:
    return _ENV.from_string(source).render(**context)


def render(subject: str, body: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """Both parts or TemplateRuleError; nothing half-rendered ever leaves."""
    errors: dict[str, str] = {}
    out: dict[str, str] = {}
    for name, source in (("subject", subject), ("body", body)):
        try:
            out[name] = render_text(source, context)
        except TemplateError as exc:  # syntax, undefined variable, sandbox refusal
            errors[name] = f"{type(exc).__name__}: {exc}"
        except (ArithmeticError, TypeError, ValueError, LookupError, RecursionError) as exc:
            errors[name] = f"does not render: {type(exc).__name__}: {exc}"
        else:
            if len(out[name]) > MAX_OUTPUT:
                errors[name] = f"renders longer than {MAX_OUTPUT} characters"
    if errors:
        raise TemplateRuleError(errors)
    return out["subject"], out["body"]


def validate(event_type: str, subject: str, body: str) -> None:
    """At save time: the event type is known and every variable used is one it offers."""
    if event_type not in VARIABLES:
        raise TemplateRuleError({"event_type": "no reminders or greetings for this event type"})
    render(subject, body, sample_context(event_type))


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


_ZH_SIGN = "{{ company }}{{ sender_name }}"
# Built-in texts, (event type, channel, language) → Text; admins override any through the API.
DEFAULTS: dict[tuple[str, str, str], Text] = {
    ("leads.followup.due.v1", "inapp", "zh-CN"): Text(
        "跟进提醒 {{ code }}", "线索 {{ code }} 需要跟进({{ kind }}),应于 {{ due_at }} 前联系。"
    ),
    ("leads.followup.due.v1", "inapp", "en"): Text(
        "Follow-up due {{ code }}", "Lead {{ code }} needs a follow-up ({{ kind }}), due {{ due_at }}."
    ),
    ("leads.followup.overdue.v1", "inapp", "zh-CN"): Text(
        "跟进逾期 {{ code }}", "线索 {{ code }} 跟进已逾期({{ kind }}),截止 {{ due_at }}。"
    ),
    ("leads.followup.overdue.v1", "inapp", "en"): Text(
        "Follow-up overdue {{ code }}",
        "Lead {{ code }} follow-up is overdue ({{ kind }}), was due {{ due_at }}.",
    ),
    ("leads.protection.expiring.v1", "inapp", "zh-CN"): Text(
        "保护期即将到期 {{ code }}", "线索 {{ code }} 的保护期将于 {{ due_at }} 到期,请尽快有效联系。"
    ),
    ("leads.protection.expiring.v1", "inapp", "en"): Text(
        "Protection expiring {{ code }}",
        "Your protection of lead {{ code }} ends {{ due_at }}; make a qualifying contact.",
    ),
    ("leads.protection.expired.v1", "inapp", "zh-CN"): Text(
        "保护期已到期 {{ code }}", "线索 {{ code }} 保护期已结束({{ kind }})。"
    ),
    ("leads.protection.expired.v1", "inapp", "en"): Text(
        "Protection ended {{ code }}", "Protection of lead {{ code }} ended ({{ kind }})."
    ),
    ("support.sla.warning.v1", "inapp", "zh-CN"): Text(
        "SLA预警 {{ code }}", "工单 {{ code }}({{ priority }})已用去 {{ percent }}% 时限,{{ due_at }} 到期。"
    ),
    ("support.sla.warning.v1", "inapp", "en"): Text(
        "SLA warning {{ code }}",
        "Ticket {{ code }} ({{ priority }}) used {{ percent }}% of its target, due {{ due_at }}.",
    ),
    ("support.sla.breached.v1", "inapp", "zh-CN"): Text(
        "SLA超时 {{ code }}", "工单 {{ code }}({{ priority }})已超时,截止 {{ due_at }}。"
    ),
    ("support.sla.breached.v1", "inapp", "en"): Text(
        "SLA breached {{ code }}", "Ticket {{ code }} ({{ priority }}) breached its target, due {{ due_at }}."
    ),
    ("support.appointment.scheduled.v1", "inapp", "zh-CN"): Text(
        "上门预约 {{ code }}", "工单 {{ code }} 已预约 {{ starts_at }} 上门,请提前确认。"
    ),
    ("support.appointment.scheduled.v1", "inapp", "en"): Text(
        "Visit booked {{ code }}", "Ticket {{ code }}: visit booked for {{ starts_at }}."
    ),
    ("support.appointment.scheduled.v1", "sms", "zh-CN"): Text(
        "上门预约确认",
        "{{ salutation }},您好!我们已为您预约 {{ starts_at }} 上门服务(工单 {{ code }}),如需改期请随时来电。"
        + _ZH_SIGN,
    ),
    ("support.appointment.reminder_due.v1", "inapp", "zh-CN"): Text(
        "上门前电话 {{ code }}", "工单 {{ code }}:{{ starts_at }} 上门,请提前1小时致电客户。"
    ),
    ("support.appointment.reminder_due.v1", "inapp", "en"): Text(
        "Call before arrival {{ code }}",
        "Ticket {{ code }}: visit at {{ starts_at }}; call the customer one hour before.",
    ),
    ("support.appointment.reminder_due.v1", "sms", "zh-CN"): Text(
        "上门提醒", "{{ salutation }},您好!我们的服务人员将于 {{ starts_at }} 到达,请您留意。" + _ZH_SIGN
    ),
    ("support.return_visit.due.v1", "inapp", "zh-CN"): Text(
        "回访到期 {{ code }}", "工单 {{ code }} 的回访应于 {{ due_at }} 前完成。"
    ),
    ("support.return_visit.due.v1", "inapp", "en"): Text(
        "Return visit due {{ code }}", "Return visit for {{ code }} due {{ due_at }}."
    ),
    ("support.major_fault.reported.v1", "inapp", "zh-CN"): Text(
        "重大故障 {{ code }}", "{{ occurred_at }} 于 {{ place }}:{{ symptoms }}。处理预案:{{ plan }}"
    ),
    ("support.major_fault.reported.v1", "inapp", "en"): Text(
        "Major fault {{ code }}", "{{ occurred_at }} at {{ place }}: {{ symptoms }}. Plan: {{ plan }}"
    ),
    ("accounts.payment.overdue.v1", "inapp", "zh-CN"): Text(
        "催款通知单 {{ account_code }}",
        "{{ account_name }} 应付 {{ amount_due }} {{ currency }}(到期 {{ due_on }}),"
        "已逾期 {{ days_overdue }} 天。",
    ),
    ("accounts.payment.overdue.v1", "inapp", "en"): Text(
        "Payment notice {{ account_code }}",
        "{{ account_name }} owes {{ amount_due }} {{ currency }} (due {{ due_on }}), "
        "{{ days_overdue }} days overdue.",
    ),
    ("accounts.payment.overdue.v1", "sms", "zh-CN"): Text(
        "催款通知单",
        "{{ salutation }},您好!贵司应付 {{ amount_due }} {{ currency }} 已于 {{ due_on }} 到期,"
        "已逾期 {{ days_overdue }} 天,烦请尽快安排付款;如已付款请忽略本通知。" + _ZH_SIGN,
    ),
    ("accounts.credit.hold_placed.v1", "inapp", "zh-CN"): Text(
        "信用冻结 {{ account_code }}", "{{ account_name }} 已被信用冻结:{{ reasons }}"
    ),
    ("accounts.credit.hold_placed.v1", "inapp", "en"): Text(
        "Credit hold {{ account_code }}", "{{ account_name }} is on credit hold: {{ reasons }}"
    ),
    ("accounts.credit.hold_released.v1", "inapp", "zh-CN"): Text(
        "信用解冻 {{ account_code }}", "{{ account_name }} 信用冻结已解除:{{ reason }}"
    ),
    ("accounts.credit.hold_released.v1", "inapp", "en"): Text(
        "Credit hold released {{ account_code }}",
        "{{ account_name }}'s credit hold was released: {{ reason }}",
    ),
    ("accounts.credit.approval_requested.v1", "inapp", "zh-CN"): Text(
        "待审批 {{ account_code }}",
        "{{ account_name }} 的{{ kind }}申请(第{{ step }}级)等待您审批,建议额度 {{ proposed_limit }}。",
    ),
    ("accounts.credit.approval_requested.v1", "inapp", "en"): Text(
        "Approval waiting {{ account_code }}",
        "{{ account_name }}: {{ kind }} request step {{ step }} awaits your decision "
        "(proposed {{ proposed_limit }}).",
    ),
    ("accounts.credit.approval_decided.v1", "inapp", "zh-CN"): Text(
        "审批结果 {{ account_code }}",
        "{{ account_name }} 的{{ kind }}申请第{{ step }}级:{{ decision }}。{{ opinion }}",
    ),
    ("accounts.credit.approval_decided.v1", "inapp", "en"): Text(
        "Approval decided {{ account_code }}",
        "{{ account_name }}: {{ kind }} step {{ step }} {{ decision }}. {{ opinion }}",
    ),
    ("accounts.credit.temporary_increase_expiring.v1", "inapp", "zh-CN"): Text(
        "临时额度到期 {{ account_code }}",
        "{{ account_name }} 的临时额度 {{ amount }} 将于 {{ ends_on }} 到期。",
    ),
    ("accounts.credit.temporary_increase_expiring.v1", "inapp", "en"): Text(
        "Temporary increase ending {{ account_code }}",
        "{{ account_name }}'s temporary increase of {{ amount }} ends {{ ends_on }}.",
    ),
    ("accounts.account.opened.v1", "inapp", "en"): Text(
        "Lead converted", "Lead {{ lead_name }} ({{ lead_code }}) became account {{ name }} ({{ code }})"
    ),
    ("accounts.account.linked.v1", "inapp", "en"): Text(
        "Lead linked to existing account",
        "Lead {{ lead_name }} ({{ lead_code }}) linked to existing account {{ name }} ({{ code }})",
    ),
    ("greeting.key_customer.v1", "sms", "zh-CN"): Text(
        "周末问候", "{{ salutation }},您好!一周辛苦了,祝您周末愉快,{{ key_customer_phrase }}。" + _ZH_SIGN
    ),
    ("greeting.holiday.v1", "sms", "zh-CN"): Text(
        "节日问候",
        "{{ salutation }},您好!{{ holiday }}将至,祝您节日快乐,{{ key_customer_phrase }}。" + _ZH_SIGN,
    ),
    ("greeting.christmas.v1", "email", "zh-CN"): Text(
        "圣诞快乐", "{{ salutation }},您好!值此圣诞佳节,谨致诚挚祝福。" + _ZH_SIGN
    ),
}


def default_text(event_type: str, channel: str, language: str) -> Text | None:
    return (
        DEFAULTS.get((event_type, channel, language))
        or DEFAULTS.get((event_type, channel, "zh-CN"))
        or DEFAULTS.get((event_type, channel, "en"))
    )
