"""Accounts policy: every number of the archive, grading, status and points rules, with the
documents' values as defaults (seeds digest §2.1, §2.8, §1.4C).

Documented choices where the documents are silent (§9):
- Grade bands: D = 60-70 and E = 50-60 are the documents'; A ≥ 90, B 80-90, C 70-80 are ours.
  A score below the E band's floor is still E (to be dropped).
- Coefficients (等级系数, a credit-formula input): A 1.20, B 1.00, C 0.80, D 0.50, E 0.00;
  an ungraded account has 0.00 (no credit before the review group grades it).
- Criteria of the grade-assessment form (客户等级评估表单) are not in the text: five defaults
  whose weights add to 100, each scored 0..maximum; score = Σ weight x points / maximum.
- Status: inactive after 90 days without a purchase (the 3-month rule of §1.4C), lost after
  365; re-approval by the group GM every 365 days.
- Points: 100 per referred customer who attends, 100 per 1,000 yuan they buy (§2.8).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

GRADES = ("A", "B", "C", "D", "E")
DEFAULT_CRITERIA: tuple[Mapping[str, Any], ...] = (
    {"name": "financial_strength", "label": "资金实力", "weight": 25, "maximum": 10},
    {"name": "credit_record", "label": "信用记录", "weight": 25, "maximum": 10},
    {"name": "sales_volume", "label": "销售规模", "weight": 20, "maximum": 10},
    {"name": "cooperation", "label": "合作程度", "weight": 15, "maximum": 10},
    {"name": "growth_potential", "label": "发展潜力", "weight": 15, "maximum": 10},
)
DEFAULT_BANDS = {"A": 90, "B": 80, "C": 70, "D": 60, "E": 50}  # lower bound, inclusive
DEFAULT_COEFFICIENTS = {"A": "1.20", "B": "1.00", "C": "0.80", "D": "0.50", "E": "0.00"}
DEFAULT_CLASSES = {
    "A": "VIP customer rules and VIP policy (参照VIP客户管理办法)",
    "B": "VIP customer rules without the VIP policy (不执行VIP政策)",
    "C": "normal handling; the brand department plans monthly upgrades of chosen C customers",
    "D": "watch customer (关注客户)",
    "E": "customer to be dropped (淘汰客户)",
}


class PolicyError(ValueError):
    """Invalid policy values; ``errors`` maps each bad field name to what is wrong with it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("invalid accounts policy: " + "; ".join(
            f"{k}: {v}" for k, v in sorted(self.errors.items())))


@dataclass(frozen=True)
class AccountsPolicy:
    grade_criteria: tuple[Mapping[str, Any], ...] = DEFAULT_CRITERIA
    grade_bands: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_BANDS))
    grade_coefficients: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_COEFFICIENTS))
    ungraded_coefficient: str = "0.00"
    grade_classes: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_CLASSES))
    inactive_after_days: int = 90
    lost_after_days: int = 365
    review_interval_days: int = 365
    referral_points: int = 100
    purchase_points: int = 100
    purchase_points_per: str = "1000.00"

    def __post_init__(self) -> None:
        errors = _validate(self)
        if errors:
            raise PolicyError(errors)

    def with_changes(self, **changes: Any) -> AccountsPolicy:
        known = {f.name for f in dataclasses.fields(self) if f.init}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise PolicyError({name: "unknown policy field" for name in unknown})
        current = {name: getattr(self, name) for name in known}
        for name, value in changes.items():
            current[name] = tuple(value) if isinstance(value, list) else value
        return AccountsPolicy(**current)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self) if f.init}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AccountsPolicy:
        known = {f.name for f in dataclasses.fields(cls) if f.init}
        return cls().with_changes(**{k: v for k, v in data.items() if k in known})

    def changes(self, new: AccountsPolicy) -> dict[str, tuple[Any, Any]]:
        old_d, new_d = self.to_dict(), new.to_dict()
        return {k: (old_d[k], new_d[k]) for k in old_d if old_d[k] != new_d[k]}

    # --- derived values ---------------------------------------------------------------------
    def coefficient(self, grade: str | None) -> Decimal:
        if grade is None:
            return Decimal(self.ungraded_coefficient)
        return Decimal(self.grade_coefficients[grade])


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _is_int(value: object, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _is_decimal(value: object, lo: Decimal, hi: Decimal) -> bool:
    if not isinstance(value, str):
        return False
    try:
        d = Decimal(value)
    except InvalidOperation:
        return False
    exponent = d.as_tuple().exponent
    return d.is_finite() and isinstance(exponent, int) and exponent >= -3 and lo <= d <= hi


def _validate(p: AccountsPolicy) -> dict[str, str]:
    errors: dict[str, str] = {}
    crit = p.grade_criteria
    names: list[str] = []
    ok = isinstance(crit, tuple) and 0 < len(crit) <= 30
    for c in crit if ok else ():
        if not (isinstance(c, Mapping) and set(c) <= {"name", "label", "weight", "maximum"}
                and isinstance(c.get("name"), str) and 0 < len(c["name"]) <= 60
                and isinstance(c.get("label", ""), str)
                and _is_int(c.get("weight"), 0, 100) and _is_int(c.get("maximum"), 1, 1000)):
            ok = False
            break
        names.append(c["name"])
    if not ok or len(set(names)) != len(names):
        errors["grade_criteria"] = ("must be a list of distinct {name, label, weight 0..100, "
                                    "maximum 1..1000}")
    elif sum(c["weight"] for c in crit) != 100:
        errors["grade_criteria"] = "weights must add up to 100"
    bands = p.grade_bands
    if not (isinstance(bands, Mapping) and set(bands) == set(GRADES)
            and all(_is_int(v, 0, 100) for v in bands.values())):
        errors["grade_bands"] = "must give a lower bound 0..100 for each of A, B, C, D, E"
    elif not all(bands[a] > bands[b] for a, b in pairwise(GRADES)):
        errors["grade_bands"] = "lower bounds must fall strictly from A to E"
    coeffs = p.grade_coefficients
    if not (isinstance(coeffs, Mapping) and set(coeffs) == set(GRADES)
            and all(_is_decimal(v, Decimal(0), Decimal(100)) for v in coeffs.values())):
        errors["grade_coefficients"] = "must give a decimal string 0..100 for each of A..E"
    if not _is_decimal(p.ungraded_coefficient, Decimal(0), Decimal(100)):
        errors["ungraded_coefficient"] = "must be a decimal string 0..100"
    classes = p.grade_classes
    if not (isinstance(classes, Mapping) and set(classes) == set(GRADES)
            and all(isinstance(v, str) and len(v) <= 500 for v in classes.values())):
        errors["grade_classes"] = "must give a text for each of A..E"
    for name in ("inactive_after_days", "lost_after_days", "review_interval_days"):
        if not _is_int(getattr(p, name), 1, 3660):
            errors[name] = "must be an integer from 1 to 3660"
    if not errors.get("lost_after_days") and not errors.get("inactive_after_days") \
            and p.lost_after_days <= p.inactive_after_days:
        errors["lost_after_days"] = "must be more than inactive_after_days"
    for name in ("referral_points", "purchase_points"):
        if not _is_int(getattr(p, name), 0, 1_000_000):
            errors[name] = "must be an integer from 0 to 1000000"
    if not _is_decimal(p.purchase_points_per, Decimal("0.01"), Decimal("100000000")):
        errors["purchase_points_per"] = "must be a positive decimal string"
    return errors
