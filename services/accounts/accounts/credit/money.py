"""Money: ``Decimal`` with exactly two places and a stored currency, never float.

The API field refuses (422) what a quantizing field would silently round: a third decimal
place, a non-numeric string, NaN/Infinity, a negative or zero amount.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, fields

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("1000000000000.00")  # 10^12: the Numeric(16, 2) columns' room
# The document's pattern covers what the field reads AND writes: the same field describes request
# amounts (positive, checked on load with a field error) and figures in responses (an available
# amount can be zero or negative), so it states the shape, not the sign.
SIGNED = r"^-?\d{1,13}(\.\d{1,2})?$"
MONEY_DOC = {"type": "string", "pattern": SIGNED,
             "description": "Decimal amount, at most two places, as a string (\"1234.50\"); "
                            "amounts sent must be positive (zero where stated)"}


def q(value: Decimal | int | str) -> Decimal:
    """Two places, half up (computed figures such as the formula's limit)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(value: Decimal | None) -> str | None:
    return None if value is None else str(q(value))


def parse_amount(raw: Any, *, allow_zero: bool = False) -> Decimal:
    """A positive amount with at most two decimals; ValueError says what is wrong."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
        raise ValueError("Not a valid amount: give a decimal string such as \"1234.50\".")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise ValueError("Not a valid amount: give a decimal string such as \"1234.50\".") from exc
    if not value.is_finite():
        raise ValueError("Not a valid amount.")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError("At most two decimal places.")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError("Must be greater than zero." if not allow_zero else "Must not be negative.")
    if value > MAX_AMOUNT:
        raise ValueError("Too large.")
    return q(value)


class Money(fields.Field):
    """A request/response amount: parsed strictly on load, two-place string on dump."""

    def __init__(self, *, allow_zero: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {})
        kwargs["metadata"] = {**MONEY_DOC, **kwargs["metadata"]}
        super().__init__(**kwargs)
        self.allow_zero = allow_zero

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return fmt(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        try:
            return parse_amount(value, allow_zero=self.allow_zero)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
