"""The credit policy: every number of the credit rules, an audited organisation setting.

Defaults come from the documents (seeds digest §2.2, §2.3, §2.7) where they give one: the
four-level approval chain (销售管理部经理 → 销售副总 → 销售总经理 → 集团总经理), default liability
after two months overdue (违约期超过两个月), cash before delivery without a limit. The windows,
terms and reservation lifetime are not in the documents: they are this service's defaults.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import JSON, Integer, ScalarSelect, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

import authn
from servicedb import UtcDateTime

from ..db import Base
from .money import parse_amount

APPROVER_ROLES = (authn.SALES_OPS_MANAGER, authn.SALES_VP, authn.SALES_GM, authn.GROUP_GM)


class PolicyError(ValueError):
    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in sorted(self.errors.items())))


@dataclass(frozen=True)
class CreditPolicy:
    default_currency: str = "CNY"
    currencies: tuple[str, ...] = ("CNY", "USD", "EUR", "HKD")
    sales_window_months: int = 12          # monthly average sales over the last N months
    performance_period_months: int = 3     # "last period" for the on-time rate: a quarter
    no_history_rate: str = "1.00"          # on-time rate when nothing fell due last period
    payment_terms_days: int = 30           # due date when a charge names none
    default_liability_months: int = 2      # overdue beyond this → hold + violation (§2.7)
    reservation_hours: int = 72            # an unconverted reservation expires after this
    limit_chain: tuple[str, ...] = APPROVER_ROLES          # §2.3, all four levels
    # [{"up_to": "50000.00", "levels": 2}, ...]: increases up to an amount need fewer levels
    limit_thresholds: tuple[Mapping[str, Any], ...] = ()
    exception_chain: tuple[str, ...] = APPROVER_ROLES[:2]  # one-order exceptions

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CreditPolicy:
        known = {f.name for f in dataclasses.fields(cls)}
        errors: dict[str, str] = {k: "Unknown field." for k in data if k not in known}
        values: dict[str, Any] = {}
        for key, raw in data.items():
            if key not in known:
                continue
            try:
                values[key] = _check(key, raw)
            except (ValueError, TypeError) as exc:
                errors[key] = str(exc) or "Invalid value."
        if errors:
            raise PolicyError(errors)
        if values.get("default_currency", cls.default_currency) not in values.get(
                "currencies", cls.currencies):  # the default is always accepted
            values["currencies"] = (*values.get("currencies", cls.currencies),
                                    values.get("default_currency", cls.default_currency))
        policy = cls(**values)
        if 12 % policy.performance_period_months:
            raise PolicyError({"performance_period_months": "Must divide 12 (1, 2, 3, 4, 6 or 12)."})
        return policy

    def chain_for(self, kind: str, increase: Decimal) -> tuple[str, ...]:
        """The approvers of a request: exceptions by their chain; limit changes by the first
        threshold the increase fits in, else the whole chain."""
        if kind == "order_exception":
            return self.exception_chain
        for band in sorted(self.limit_thresholds, key=lambda b: Decimal(b["up_to"])):
            if increase <= Decimal(band["up_to"]):
                return self.limit_chain[: int(band["levels"])]
        return self.limit_chain


def _positive_int(raw: Any, upper: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= upper:
        raise ValueError(f"An integer from 1 to {upper}.")
    return raw


def _chain(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list | tuple) or not raw or any(r not in authn.ROLES for r in raw):
        raise ValueError("A non-empty list of role names.")
    if len(set(raw)) != len(raw):
        raise ValueError("A role may appear once.")
    return tuple(raw)


def _check(key: str, raw: Any) -> Any:
    if key in ("sales_window_months", "performance_period_months", "default_liability_months"):
        return _positive_int(raw, 36)
    if key in ("payment_terms_days", "reservation_hours"):
        return _positive_int(raw, 3650)
    if key == "no_history_rate":
        value = Decimal(str(raw))
        if not Decimal(0) <= value <= Decimal(1):
            raise ValueError("A rate from 0 to 1.")
        return str(value)
    if key == "currencies":
        if not isinstance(raw, list) or not raw or any(
                not isinstance(c, str) or len(c) != 3 or not c.isupper() for c in raw):
            raise ValueError("A list of ISO 4217 codes.")
        return tuple(raw)
    if key == "default_currency":
        if not isinstance(raw, str) or len(raw) != 3:
            raise ValueError("An ISO 4217 code.")
        return raw
    if key in ("limit_chain", "exception_chain"):
        return _chain(raw)
    if key == "limit_thresholds":
        if not isinstance(raw, list):
            raise ValueError("A list of {up_to, levels}.")
        bands = []
        for band in raw:
            if not isinstance(band, dict) or set(band) != {"up_to", "levels"}:
                raise ValueError("Each band is {up_to, levels}.")
            bands.append({"up_to": str(parse_amount(str(band["up_to"]))),
                          "levels": _positive_int(band["levels"], 4)})
        return tuple(bands)
    raise ValueError("Unknown field.")


class CreditPolicyRow(Base):
    """The one organisation-wide credit policy (id 1): changed fields only; {} = defaults."""

    __tablename__ = "credit_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_by: Mapped[str | None] = mapped_column(String(100))


class CreditPolicyChange(Base):
    """Append-only audit of a policy change: who, when, why, field → [old, new]."""

    __tablename__ = "credit_policy_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[int]
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)


def current(session: Session) -> CreditPolicy:
    row = session.get(CreditPolicyRow, 1)
    return CreditPolicy.from_dict(row.data if row else {})


_DEFAULTS = CreditPolicy()
_CACHE_KEY = "accounts.credit_policy"


def version_column() -> ScalarSelect[int]:
    """The stored policy's version as a scalar subquery, for a statement that reads it along
    with other rows (NULL: no stored policy, the defaults)."""
    return select(CreditPolicyRow.version).where(CreditPolicyRow.id == 1).scalar_subquery()


def cached_or_defaults(session: Session) -> CreditPolicy:
    """The policy this database connection read last (the defaults if none): a guess that
    ``cached`` confirms once the caller has read the stored version."""
    hit = session.connection().info.get(_CACHE_KEY)
    return cast(CreditPolicy, hit[1]) if hit is not None else _DEFAULTS


def cached(session: Session, version: int | None) -> CreditPolicy:
    """The policy of stored ``version`` (read in the caller's statement) without a round trip
    when this database connection has already read that version.

    Every change goes through ``change``, which raises the version, so (connection, version)
    names one policy; the cache lives in the pooled connection's ``info`` and dies with it.
    """
    if version is None:
        return _DEFAULTS
    info = session.connection().info
    hit = info.get(_CACHE_KEY)
    if hit is not None and hit[0] == version:
        return cast(CreditPolicy, hit[1])
    row = session.get(CreditPolicyRow, 1)
    policy = CreditPolicy.from_dict(row.data if row else {})
    if row is not None:
        info[_CACHE_KEY] = (row.version, policy)
    return policy


def change(session: Session, actor: str, at: datetime, updates: Mapping[str, Any],
           reason: str) -> tuple[CreditPolicyRow, CreditPolicy]:
    """Apply ``updates`` (validated as a whole) and audit the fields that changed."""
    row = session.get(CreditPolicyRow, 1, with_for_update=True)
    if row is None:
        row = CreditPolicyRow(id=1, data={}, version=0)
        session.add(row)
    before = CreditPolicy.from_dict(row.data).to_dict()
    merged = {**row.data, **updates}
    after = CreditPolicy.from_dict(merged)
    after_dict = after.to_dict()
    changes = {k: [before[k], after_dict[k]] for k in updates if before[k] != after_dict[k]}
    row.data = {k: after_dict[k] for k in merged}
    row.version += 1
    row.updated_at, row.updated_by = at, actor
    session.add(CreditPolicyChange(version=row.version, at=at, actor=actor, reason=reason,
                                   changes=changes))
    session.flush()
    return row, after
