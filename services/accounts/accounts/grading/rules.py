"""Pure grading rules (§2.1): a score 0-100 from the assessment form, the grade from the bands."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from ..policy.rules import GRADES, AccountsPolicy

TWO = Decimal("0.01")


def score(policy: AccountsPolicy, points: Mapping[str, int | Decimal]) -> Decimal:
    """Σ weight x points / maximum over the policy's criteria (0..100, 2 places).

    A criterion left out scores 0. Raises GradingError naming each criterion that is unknown
    or out of range.
    """
    criteria = {c["name"]: c for c in policy.grade_criteria}
    errors: dict[str, str] = {}
    for name in sorted(set(points) - set(criteria)):
        errors[name] = "not a criterion of the grade-assessment form"
    for name, c in criteria.items():
        if name in points and not 0 <= Decimal(points[name]) <= c["maximum"]:
            errors[name] = f"must be from 0 to {c['maximum']}"
    if errors:
        raise GradingError(errors)
    total = sum((Decimal(c["weight"]) * Decimal(points.get(n, 0)) / Decimal(c["maximum"])
                 for n, c in criteria.items()), Decimal(0))
    return total.quantize(TWO, rounding=ROUND_HALF_UP)


def grade_for(policy: AccountsPolicy, value: Decimal) -> str:
    """The highest grade whose lower bound ``value`` reaches; below every band: E."""
    for grade in GRADES:
        if value >= policy.grade_bands[grade]:
            return grade
    return GRADES[-1]


class GradingError(ValueError):
    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))
