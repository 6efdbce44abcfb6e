"""Organization-wide lead policy: every number the lead rules use, with the documents' values as defaults.

Sources (seeds digest): §1.4A ownership validity 2 months, splits 80/20 and 50/50; §1.4B face visit
every 2 months (phone for out-of-town customers); §1.4C 3-month "service not in place" rule; §1.5 P1
the five development stages and their exit criteria; §1.6 the 1-week cadences and the trade-show
"1 week (max 2 weeks)" response.

An admin changes these through the API; the service stores ``to_dict()`` as JSON and audits the
``changes()`` between the old and the new policy. ``with_changes`` / ``from_dict`` validate every
field and raise :class:`PolicyError` naming each bad field.

Choices on ambiguities (§9):
- §9.12 "1 week" is read as 7 calendar days, measured to the exact instant (no working-day calendar).
- §9.17 only P1 stages 1-3 have exit criteria in the documents; stage 4 gets the one criterion its
  title states (a relationship with the key decision-maker) and stage 5 none (its exit is won/lost).
- Months are calendar months in the organization's timezone (default Asia/Shanghai), clamped to the
  month's last day: Jan 31 + 1 month = Feb 28/29, Jan 31 + 2 months = Mar 31.
"""

from __future__ import annotations

import calendar
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TERMINAL_STAGES = ("won", "lost", "terminated")


class PolicyError(ValueError):
    """Invalid policy values; ``errors`` maps each bad field name to what is wrong with it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(
            "invalid lead policy: " + "; ".join(f"{k}: {v}" for k, v in sorted(self.errors.items()))
        )


@dataclass(frozen=True)
class StageSpec:
    """One pipeline stage and the checklist items that must hold before a lead leaves it."""

    key: str
    label: str
    exit_checklist: tuple[str, ...] = ()


DEFAULT_STAGES: tuple[StageSpec, ...] = (
    # §1.5 P1 stage 1: "判断成交机会的有无 … 有则进入下一阶段,无则终止"; check operating time, scale, state.
    StageSpec("identify", "Identify target", ("opportunity_confirmed", "company_profile_known")),
    # §1.5 P1 stage 2: "内线确定;信息充分;需求明确".
    StageSpec(
        "information", "Information & samples", ("inside_contact", "information_sufficient", "need_clear")
    ),
    # §1.5 P1 stage 3: "合作可能性;合作障碍;开发程序".
    StageSpec(
        "value_assessment",
        "Value assessment",
        ("cooperation_possibility_assessed", "obstacles_identified", "development_plan_defined"),
    ),
    # §1.5 P1 stage 4: "与关键决策人建立良好关系" (no further detail survives, §9.17).
    StageSpec("relationship", "Relationship", ("decision_maker_relationship",)),
    # §1.5 P1 stage 5: leaves only as won / lost / terminated.
    StageSpec("closing", "Closing", ()),
)

DEFAULT_LOST_REASONS: tuple[str, ...] = (
    "no_opportunity",  # §1.5 P1 stage 1 "无则终止" when the reason is the lack of a need, not a risk
    "no_need",
    "price",
    "chose_competitor",
    "no_budget",
    "no_response",
    "not_decision_maker",
    "duplicate",
    "other",
)

# §1.3 / §1.5: development stops for customers with credit, business or financial problems.
DEFAULT_TERMINATION_REASONS: tuple[str, ...] = ("credit_risk", "business_risk", "financial_risk")

_INT_FIELDS_MIN = {
    "protection_months": 1,
    "claimable_after_months": 1,
    "protection_warning_days": 0,
    "first_contact_days": 1,
    "trade_show_escalation_days": 1,
    "trade_show_breach_days": 1,
    "key_lead_contact_days": 1,
}
_PERCENT_FIELDS = ("split_chosen_rep_percent", "split_owner_with_assistant_percent", "split_shared_percent")
_TUPLE_OF_STR_FIELDS = (
    "lost_reasons",
    "termination_reasons",
    "tracking_classes",
    "plan_required_classes",
    "key_lead_classes",
)


@dataclass(frozen=True)
class LeadPolicy:
    """Every number of the lead rules. Defaults are the documents' values (see module docstring)."""

    # Ownership protection (§1.4A 「客户建档有效期为2个月」, §1.4B, §1.4C 「对三个月内顾客服务不到位」)
    protection_months: int = 2
    claimable_after_months: int = 3
    protection_warning_days: int = 7
    # Cadences (§1.6)
    first_contact_days: int = 7
    trade_show_escalation_days: int = 7
    trade_show_breach_days: int = 14
    key_lead_contact_days: int = 7
    # Commission / credit splits (§1.4A rules 2, 3, 7, 8). Percent of the first-named party.
    split_chosen_rep_percent: int = 80  # rule 2: chosen rep 80, protected owner 20
    split_owner_with_assistant_percent: int = 80  # rule 3: absent owner 80, assisting colleague 20
    split_shared_percent: int = 50  # rules 7 and 8: 50/50
    # Calendar
    timezone: str = "Asia/Shanghai"
    # Pipeline (§1.5 P1) and outcomes
    stages: tuple[StageSpec, ...] = DEFAULT_STAGES
    lost_reasons: tuple[str, ...] = DEFAULT_LOST_REASONS
    termination_reasons: tuple[str, ...] = DEFAULT_TERMINATION_REASONS
    # Tracking classes (§1.3 「A、B类客户,要填写《客户追踪表》」)
    tracking_classes: tuple[str, ...] = ("A", "B", "C")
    plan_required_classes: tuple[str, ...] = ("A", "B")
    key_lead_classes: tuple[str, ...] = ("A",)
    # Protection renewal: a phone visit counts for out-of-town leads (§1.4B 「外地客户至少进行一次电访」)
    phone_visit_renews_out_of_town: bool = True

    _tz_cache: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        errors = _validate(self)
        if errors:
            raise PolicyError(errors)
        object.__setattr__(self, "_tz_cache", ZoneInfo(self.timezone))

    @property
    def tz(self) -> tzinfo:
        return self._tz_cache

    @property
    def stage_keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.stages)

    def stage(self, key: str) -> StageSpec:
        for spec in self.stages:
            if spec.key == key:
                return spec
        raise ValueError(f"unknown stage {key!r}")

    def add_months(self, moment: datetime, months: int) -> datetime:
        return add_months(moment, months, self.tz)

    def with_changes(self, **changes: Any) -> LeadPolicy:
        """A new policy with ``changes`` applied; PolicyError names every unknown or invalid field."""
        known = {f.name for f in dataclasses.fields(self) if f.init}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise PolicyError({name: "unknown policy field" for name in unknown})
        current = {name: getattr(self, name) for name in known}
        current.update(_coerce(changes))
        return LeadPolicy(**current)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (lists and plain dicts only)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if not f.init:
                continue
            value = getattr(self, f.name)
            if f.name == "stages":
                value = [
                    {"key": s.key, "label": s.label, "exit_checklist": list(s.exit_checklist)} for s in value
                ]
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LeadPolicy:
        """Inverse of ``to_dict``; missing fields take the defaults (so old stored JSON stays readable)."""
        return cls().with_changes(**dict(data))

    def changes(self, new: LeadPolicy) -> dict[str, tuple[Any, Any]]:
        """Field → (old, new) for every field that differs, in to_dict form, for the audit record."""
        old_d, new_d = self.to_dict(), new.to_dict()
        return {k: (old_d[k], new_d[k]) for k in old_d if old_d[k] != new_d[k]}


def _coerce(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Lists (from JSON) to tuples, stage dicts to StageSpec; anything malformed is left for _validate."""
    out = dict(changes)
    for name in _TUPLE_OF_STR_FIELDS:
        if isinstance(out.get(name), list):
            out[name] = tuple(out[name])
    stages = out.get("stages")
    if isinstance(stages, list | tuple):
        converted: list[Any] = []
        for item in stages:
            if isinstance(item, Mapping) and not isinstance(item.get("exit_checklist"), str):
                try:
                    converted.append(
                        StageSpec(
                            key=item["key"],
                            label=item.get("label", item["key"]),
                            exit_checklist=tuple(item.get("exit_checklist", ())),
                        )
                    )
                except (KeyError, TypeError):
                    converted.append(item)
            else:
                converted.append(item)
        out["stages"] = tuple(converted)
    return out


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_name(value: object) -> bool:
    return isinstance(value, str) and value.strip() == value and value != ""


def _validate(p: LeadPolicy) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, minimum in _INT_FIELDS_MIN.items():
        value = getattr(p, name)
        if not _is_int(value) or value < minimum:
            errors[name] = f"must be an integer >= {minimum}"
    for name in _PERCENT_FIELDS:
        value = getattr(p, name)
        if not _is_int(value) or not 0 <= value <= 100:
            errors[name] = "must be an integer percentage 0..100"
    if "protection_months" not in errors and "claimable_after_months" not in errors:
        if p.claimable_after_months < p.protection_months:
            errors["claimable_after_months"] = "must not be shorter than protection_months"
    if "protection_warning_days" not in errors and "protection_months" not in errors:
        if p.protection_warning_days >= 28 * p.protection_months:
            errors["protection_warning_days"] = "must be shorter than the protection period"
    if "trade_show_escalation_days" not in errors and "trade_show_breach_days" not in errors:
        if p.trade_show_breach_days <= p.trade_show_escalation_days:
            errors["trade_show_breach_days"] = "must be later than trade_show_escalation_days"
    if not isinstance(p.timezone, str):
        errors["timezone"] = "must be an IANA timezone name"
    else:
        try:
            ZoneInfo(p.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            errors["timezone"] = f"unknown timezone {p.timezone!r}"
    for name in _TUPLE_OF_STR_FIELDS:
        value = getattr(p, name)
        if not isinstance(value, tuple) or not all(_is_name(v) for v in value):
            errors[name] = "must be a list of non-empty names"
        elif len(set(value)) != len(value):
            errors[name] = "must not repeat a name"
        elif name in ("lost_reasons", "termination_reasons", "tracking_classes") and not value:
            errors[name] = "must not be empty"
    if "tracking_classes" not in errors:
        for name in ("plan_required_classes", "key_lead_classes"):
            if name not in errors and not set(getattr(p, name)) <= set(p.tracking_classes):
                errors[name] = "must be a subset of tracking_classes"
    if not isinstance(p.phone_visit_renews_out_of_town, bool):
        errors["phone_visit_renews_out_of_town"] = "must be true or false"
    stage_error = _stage_error(p.stages)
    if stage_error:
        errors["stages"] = stage_error
    return errors


def _stage_error(stages: object) -> str | None:
    if not isinstance(stages, tuple) or not stages:
        return "must be a non-empty list of stages"
    if not all(isinstance(s, StageSpec) for s in stages):
        return "each stage needs a key, a label and an exit_checklist list"
    keys = [s.key for s in stages]
    if not all(_is_name(k) for k in keys):
        return "stage keys must be non-empty names"
    if len(set(keys)) != len(keys):
        return "stage keys must be unique"
    if set(keys) & set(TERMINAL_STAGES):
        return f"{', '.join(TERMINAL_STAGES)} are outcomes, not configurable stages"
    for s in stages:
        if not isinstance(s.label, str) or not isinstance(s.exit_checklist, tuple):
            return f"stage {s.key!r}: label must be text and exit_checklist a list"
        if not all(_is_name(i) for i in s.exit_checklist) or len(set(s.exit_checklist)) != len(
            s.exit_checklist
        ):
            return f"stage {s.key!r}: checklist items must be unique non-empty names"
    return None


def require_aware(moment: datetime, what: str = "datetime") -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return moment


def add_months(moment: datetime, months: int, tz: tzinfo) -> datetime:
    """Same wall-clock time ``months`` calendar months later in ``tz``, clamped to the month's last day.

    Returned in ``tz``. Jan 31 + 1 = Feb 28 (29 in a leap year); Jan 31 + 2 = Mar 31; Mar 31 - 1 = Feb 28.
    """
    require_aware(moment)
    local = moment.astimezone(tz)
    index = local.year * 12 + (local.month - 1) + months
    year, month0 = divmod(index, 12)
    day = min(local.day, calendar.monthrange(year, month0 + 1)[1])
    # Rebuild through the zone so the UTC offset is the one valid on the target date.
    return datetime(
        year, month0 + 1, day, local.hour, local.minute, local.second, local.microsecond, tzinfo=tz
    )
