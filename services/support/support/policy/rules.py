"""Support policy: every number of the support rules, with the documents' values as defaults.

Sources (seeds digest): §3.1 kinds and their departments; §3.2a the complaint flow's sign-off
(销售管理部经理) and approvals (销售总经理 / 集团总经理); §3.2d grievances: 3 days, 100 / 500 yuan;
§3.3 major matters to the general manager at once; §3.4 return visit within 3 days, 100 % of
members, appointments ≥ 5 working days ahead to the hour, the call 1 hour before arrival;
§3.6/§3.8 delivered projects visited monthly in year one and quarterly after; §3.7 brand
customers scheduled first.

The documents give no SLA numbers (§3.4 names only "within the promised time"): the targets
below are this service's defaults, in business minutes, for an admin to change.

Choices on ambiguities (§9.12): "within 3 days" (return visit, grievance) is read as calendar
days from resolution / opening, measured to the instant; "5 working days" uses the business
calendar (official China holidays and make-up days).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

KINDS = (
    "inquiry",
    "complaint",
    "suggestion",
    "dispute",
    "repair",
    "installation",
    "replacement",
    "return",
    "shipment_tracking",
    "major_fault",
    "follow_up",
)
REPAIR_MODES = ("onsite", "factory", "paid")
PRIORITIES = ("low", "normal", "high", "urgent")
METRICS = ("first_response", "resolution")
# Every key a ticket can be routed by: its kind, or kind.mode for repairs (§3.1 A/B/paid).
ROUTE_KEYS = tuple(k for k in KINDS if k != "repair") + tuple(f"repair.{m}" for m in REPAIR_MODES)


class PolicyError(ValueError):
    """Invalid policy values; ``errors`` maps each bad field name to what is wrong with it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(
            "invalid support policy: " + "; ".join(f"{k}: {v}" for k, v in sorted(self.errors.items()))
        )


def _h(hours: float) -> int:
    return int(hours * 60)


DEFAULT_QUEUES = ("after_sales", "technical", "quality", "complaint_desk", "supervision")
DEFAULT_ROUTING = {
    "inquiry": "after_sales",  # §3.1 inquiry desk of after-sales
    "complaint": "complaint_desk",  # §3.1 complaint desk
    "suggestion": "complaint_desk",
    "dispute": "complaint_desk",
    "repair.onsite": "technical",  # §3.1 「A. 技术部上门维修」
    "repair.factory": "quality",  # §3.1 「B. 质检部返厂维修」
    "repair.paid": "after_sales",  # §3.1 paid repair: tell the customer the fee
    "installation": "after_sales",
    "replacement": "after_sales",
    "return": "after_sales",
    "shipment_tracking": "after_sales",
    "major_fault": "technical",
    "follow_up": "supervision",  # §3.6 一般/不满意 → the supervisor
}
# Business minutes: first response and resolution per priority (this service's defaults).
DEFAULT_SLA = {
    "urgent": {"first_response": _h(0.5), "resolution": _h(4)},
    "high": {"first_response": _h(1), "resolution": _h(9)},
    "normal": {"first_response": _h(4), "resolution": _h(27)},
    "low": {"first_response": _h(9), "resolution": _h(45)},
}
# Per-kind overrides: complaints within 3 working days (§3.2d), major faults at once (§3.3).
DEFAULT_SLA_BY_KIND = {
    "complaint": {p: {"resolution": _h(27)} for p in ("low", "normal")},
    "major_fault": {p: {"first_response": _h(0.25), "resolution": _h(9)} for p in PRIORITIES},
}
DEFAULT_ESCALATION = (
    {"percent": 100, "role": "support_supervisor"},  # breach: 客服主管
    {"percent": 150, "role": "sales_gm"},  # 销售总经理
    {"percent": 200, "role": "group_gm"},  # 集团总经理
)


@dataclass(frozen=True)
class SupportPolicy:
    """Every number of the support rules. Defaults are the documents' values (module docstring)."""

    # Business calendar (§3.4; issue: 09:00-18:00 Mon-Fri, Asia/Shanghai, China holidays + 调休)
    timezone: str = "Asia/Shanghai"
    business_hours_start: str = "09:00"
    business_hours_end: str = "18:00"
    business_weekdays: tuple[int, ...] = (1, 2, 3, 4, 5)  # ISO weekday numbers
    official_holidays: str = "CN"  # country code of the official calendar ("" = none)
    extra_holidays: tuple[str, ...] = ()  # ISO dates the organisation closes besides the official ones
    extra_workdays: tuple[str, ...] = ()  # ISO dates it works (e.g. a make-up day the library lacks)
    # Routing (§3.1)
    queues: tuple[str, ...] = DEFAULT_QUEUES
    routing: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ROUTING))
    # SLAs (§3.4) in business minutes, warning share, escalation chain
    sla_targets: Mapping[str, Mapping[str, int]] = field(
        default_factory=lambda: {p: dict(v) for p, v in DEFAULT_SLA.items()}
    )
    sla_kind_targets: Mapping[str, Mapping[str, Mapping[str, int]]] = field(
        default_factory=lambda: {
            k: {p: dict(v) for p, v in by.items()} for k, by in DEFAULT_SLA_BY_KIND.items()
        }
    )
    sla_warning_percent: int = 80
    escalation_chain: tuple[Mapping[str, Any], ...] = DEFAULT_ESCALATION
    # First responder (§3.3): major matters to the general manager at once
    major_kinds: tuple[str, ...] = ("major_fault",)
    major_role: str = "group_gm"
    # Lifecycle: a resolved ticket closes after its return visit or this timeout
    auto_close_days: int = 7
    # Return visits (§3.4, §3.6)
    return_visit_days: int = 3
    member_visit_percent: int = 100
    other_visit_percent: int = 0
    # Delivered projects (§3.6, §3.8): monthly in year one, quarterly after
    project_first_period_months: int = 12
    project_first_period_every_months: int = 1
    project_later_every_months: int = 3
    project_visit_notice_days: int = 3
    # Complaints (§3.2a) and grievances (§3.2d)
    complaint_kinds: tuple[str, ...] = ("complaint", "dispute")
    complaint_sign_role: str = "sales_ops_manager"
    complaint_approval_roles: tuple[str, ...] = ("sales_gm",)
    complaint_group_gm_threshold: str = "10000.00"  # compensation at or above: group GM approves too
    grievance_days: int = 3
    grievance_transfer_queues: tuple[str, ...] = ("after_sales", "technical", "quality", "complaint_desk")
    grievance_notify_role: str = "sales_manager"
    penalty_grievance_found: str = "100.00"  # found without a formal complaint: the employee
    penalty_executive_complaint: str = "100.00"  # complaint to the executive: manager and employee each
    penalty_unresolved: str = "500.00"  # not resolved in grievance_days: manager and employee each
    currency: str = "CNY"
    # Appointments (§3.4, §3.7)
    appointment_min_working_days: int = 5
    appointment_reminder_minutes: int = 60
    appointment_duration_minutes: int = 120
    appointment_kinds: tuple[str, ...] = ("installation", "repair")
    priority_grades: tuple[str, ...] = ("A", "B")
    # Major faults (§3.8): who is told besides the account owner
    major_fault_roles: tuple[str, ...] = (
        "group_gm",
        "support_supervisor",
        "sales_manager",
        "sales_ops_manager",
    )

    def __post_init__(self) -> None:
        errors = _validate(self)
        if errors:
            raise PolicyError(errors)

    # -- derived values ------------------------------------------------------------------
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def day_start(self) -> time:
        return time.fromisoformat(self.business_hours_start)

    @property
    def day_end(self) -> time:
        return time.fromisoformat(self.business_hours_end)

    def money(self, name: str) -> Decimal:
        return Decimal(getattr(self, name)).quantize(Decimal("0.01"))

    def queue_for(self, kind: str, repair_mode: str | None = None) -> str:
        key = f"repair.{repair_mode or 'onsite'}" if kind == "repair" else kind
        return self.routing[key]

    def target_minutes(self, kind: str, priority: str, metric: str) -> int:
        """The kind's override for this priority, else the priority's target."""
        override = self.sla_kind_targets.get(kind, {}).get(priority, {})
        return int(override.get(metric, self.sla_targets[priority][metric]))

    def is_major(self, kind: str, flagged: bool = False) -> bool:
        return flagged or kind in self.major_kinds

    # -- change and audit (the shape of leads' policy) -----------------------------------
    def with_changes(self, **changes: Any) -> SupportPolicy:
        """A new policy with ``changes`` applied; PolicyError names every unknown or invalid field."""
        known = {f.name for f in dataclasses.fields(self) if f.init}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise PolicyError({name: "unknown policy field" for name in unknown})
        current = {name: getattr(self, name) for name in known}
        for name, value in changes.items():
            current[name] = tuple(value) if isinstance(value, list) else value
        return SupportPolicy(**current)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self) if f.init}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SupportPolicy:
        """Inverse of ``to_dict``; fields no longer known are dropped, missing ones default."""
        known = {f.name for f in dataclasses.fields(cls) if f.init}
        return cls().with_changes(**{k: v for k, v in data.items() if k in known})

    def changes(self, new: SupportPolicy) -> dict[str, tuple[Any, Any]]:
        old_d, new_d = self.to_dict(), new.to_dict()
        return {k: (old_d[k], new_d[k]) for k in old_d if old_d[k] != new_d[k]}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


# -- validation -------------------------------------------------------------------------------

_INT_MIN = {
    "auto_close_days": 1,
    "return_visit_days": 1,
    "project_first_period_months": 0,
    "project_first_period_every_months": 1,
    "project_later_every_months": 1,
    "project_visit_notice_days": 0,
    "grievance_days": 1,
    "appointment_min_working_days": 0,
    "appointment_reminder_minutes": 1,
    "appointment_duration_minutes": 15,
}
_PERCENT = ("sla_warning_percent", "member_visit_percent", "other_visit_percent")
_MONEY = (
    "complaint_group_gm_threshold",
    "penalty_grievance_found",
    "penalty_executive_complaint",
    "penalty_unresolved",
)
_NAMES = (
    "queues",
    "major_kinds",
    "complaint_kinds",
    "complaint_approval_roles",
    "grievance_transfer_queues",
    "appointment_kinds",
    "priority_grades",
    "major_fault_roles",
)
_ROLE_NAMES = ("major_role", "complaint_sign_role", "grievance_notify_role", "currency")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_name(value: object) -> bool:
    return isinstance(value, str) and value != "" and value.strip() == value and len(value) <= 100


def _validate(p: SupportPolicy) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, minimum in _INT_MIN.items():
        value = getattr(p, name)
        if not _is_int(value) or not minimum <= value <= 3660:
            errors[name] = f"must be an integer from {minimum} to 3660"
    for name in _PERCENT:
        value = getattr(p, name)
        if not _is_int(value) or not 0 <= value <= 100:
            errors[name] = "must be an integer percentage 0..100"
    if "sla_warning_percent" not in errors and not 1 <= p.sla_warning_percent <= 99:
        errors["sla_warning_percent"] = "must be between 1 and 99"
    for name in _MONEY:
        value = getattr(p, name)
        try:
            exponent = Decimal(value).as_tuple().exponent if isinstance(value, str) else None
            ok = isinstance(exponent, int) and exponent >= -2 and Decimal(value) >= 0
        except InvalidOperation:
            ok = False
        if not ok:
            errors[name] = "must be a non-negative decimal string with at most 2 places"
    for name in _NAMES:
        value = getattr(p, name)
        if not isinstance(value, tuple) or not all(_is_name(v) for v in value):
            errors[name] = "must be a list of non-empty names"
        elif len(set(value)) != len(value):
            errors[name] = "must not repeat a name"
    for name in _ROLE_NAMES:
        if not _is_name(getattr(p, name)):
            errors[name] = "must be a non-empty name"
    for name in ("major_kinds", "complaint_kinds", "appointment_kinds"):
        if name not in errors and not set(getattr(p, name)) <= set(KINDS):
            errors[name] = f"must name kinds of {', '.join(KINDS)}"
    if "queues" not in errors and not p.queues:
        errors["queues"] = "must not be empty"
    _validate_calendar(p, errors)
    _validate_routing(p, errors)
    _validate_sla(p, errors)
    _validate_escalation(p, errors)
    if "grievance_transfer_queues" not in errors and "queues" not in errors:
        if len(p.grievance_transfer_queues) < 2 or not set(p.grievance_transfer_queues) <= set(p.queues):
            errors["grievance_transfer_queues"] = "must name at least two of the queues"
    return errors


def _validate_calendar(p: SupportPolicy, errors: dict[str, str]) -> None:
    try:
        ZoneInfo(p.timezone) if isinstance(p.timezone, str) else ZoneInfo("")
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = f"unknown timezone {p.timezone!r}"
    times: dict[str, time] = {}
    for name in ("business_hours_start", "business_hours_end"):
        value = getattr(p, name)
        try:
            parsed = time.fromisoformat(value) if isinstance(value, str) and len(value) == 5 else None
        except ValueError:
            parsed = None
        if parsed is None:
            errors[name] = "must be a time HH:MM"
        else:
            times[name] = parsed
    if len(times) == 2 and times["business_hours_start"] >= times["business_hours_end"]:
        errors["business_hours_end"] = "must be later than business_hours_start"
    days = p.business_weekdays
    if (
        not isinstance(days, tuple)
        or not days
        or not all(_is_int(d) and 1 <= d <= 7 for d in days)
        or len(set(days)) != len(days)
    ):
        errors["business_weekdays"] = "must be a non-empty list of distinct ISO weekdays 1..7"
    if p.official_holidays not in ("", "CN"):
        errors["official_holidays"] = "must be 'CN' (China's official calendar) or '' (none)"
    for name in ("extra_holidays", "extra_workdays"):
        value = getattr(p, name)
        try:
            ok = (
                isinstance(value, tuple)
                and len(value) <= 400
                and all(isinstance(v, str) and date.fromisoformat(v).isoformat() == v for v in value)
            )
        except ValueError:
            ok = False
        if not ok:
            errors[name] = "must be a list of ISO dates (YYYY-MM-DD)"
    if "extra_holidays" not in errors and "extra_workdays" not in errors:
        if set(p.extra_holidays) & set(p.extra_workdays):
            errors["extra_workdays"] = "a date cannot be both a holiday and a working day"


def _validate_routing(p: SupportPolicy, errors: dict[str, str]) -> None:
    routing = p.routing
    if not isinstance(routing, Mapping):
        errors["routing"] = "must map each kind to a queue"
        return
    missing = sorted(set(ROUTE_KEYS) - set(routing))
    unknown = sorted(set(routing) - set(ROUTE_KEYS))
    if missing or unknown:
        errors["routing"] = (
            f"must route exactly {', '.join(ROUTE_KEYS)}"
            + (f" (missing {', '.join(missing)})" if missing else "")
            + (f" (unknown {', '.join(unknown)})" if unknown else "")
        )
    elif "queues" not in errors and not set(routing.values()) <= set(p.queues):
        errors["routing"] = "every target must be one of the queues"


def _minutes_ok(value: object) -> bool:
    return _is_int(value) and 1 <= value <= 60 * 24 * 365  # type: ignore[operator]


def _validate_sla(p: SupportPolicy, errors: dict[str, str]) -> None:
    t = p.sla_targets
    if (
        not isinstance(t, Mapping)
        or set(t) != set(PRIORITIES)
        or not all(
            isinstance(v, Mapping) and set(v) == set(METRICS) and all(_minutes_ok(m) for m in v.values())
            for v in t.values()
        )
    ):
        errors["sla_targets"] = (
            "must give first_response and resolution minutes (1..525600) "
            f"for each priority {', '.join(PRIORITIES)}"
        )
    else:
        for prio, v in t.items():
            if v["first_response"] > v["resolution"]:
                errors["sla_targets"] = f"{prio}: first_response must not exceed resolution"
    k = p.sla_kind_targets
    if (
        not isinstance(k, Mapping)
        or not set(k) <= set(KINDS)
        or not all(
            isinstance(by, Mapping)
            and set(by) <= set(PRIORITIES)
            and all(
                isinstance(v, Mapping) and set(v) <= set(METRICS) and all(_minutes_ok(m) for m in v.values())
                for v in by.values()
            )
            for by in k.values()
        )
    ):
        errors["sla_kind_targets"] = "must map kind → priority → {first_response|resolution: minutes}"


def _validate_escalation(p: SupportPolicy, errors: dict[str, str]) -> None:
    chain = p.escalation_chain
    ok = (
        isinstance(chain, tuple)
        and 1 <= len(chain) <= 10
        and all(
            isinstance(s, Mapping)
            and set(s) == {"percent", "role"}
            and _is_int(s["percent"])
            and 100 <= s["percent"] <= 10000
            and _is_name(s["role"])
            for s in chain
        )
    )
    if not ok:
        errors["escalation_chain"] = "must be 1..10 steps {percent (>= 100), role}"
        return
    percents = [s["percent"] for s in chain]
    if percents != sorted(set(percents)):
        errors["escalation_chain"] = "percents must strictly increase"
