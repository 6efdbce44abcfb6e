"""Pure statistics of leads: period bounds in the organization's timezone, bucketing, medians.

No Flask, no session, no clock: the API loads plain rows and passes "now" and the timezone, so
month and timezone boundaries are tested here without a database. Days, ISO weeks (Monday to
Sunday) and months are the organization's local calendar: a lead registered 2026-01-31 23:30
Asia/Shanghai (15:30 UTC) counts in January, whatever the server's or the caller's zone.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

WEEK, MONTH = "week", "month"
PERIODS = (WEEK, MONTH)
BY_SOURCE, BY_REP, BY_TEAM = "source", "rep", "team"
GROUPINGS = (BY_SOURCE, BY_REP, BY_TEAM)
WALK_IN, PHONE_CALL = "walk_in", "phone_call"
OPEN, CONVERTED, LOST, TERMINATED = "open", "converted", "lost", "terminated"
MAX_DAYS = 366  # the widest daily report one request may ask for


@dataclass(frozen=True)
class Period:
    """A half-open local-calendar interval ``[start, end)`` as aware datetimes in the org's zone."""

    kind: str
    label: str
    first_day: date
    last_day: date
    start: datetime
    end: datetime


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The start of ``day`` in ``tz`` (an aware datetime; compare it with UTC values freely)."""
    return datetime.combine(day, time.min, tzinfo=tz)


def local_day(moment: datetime, tz: tzinfo) -> date:
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(tz).date()


def period_of(kind: str, day: date, tz: tzinfo) -> Period:
    """The ISO week (Monday to Sunday) or calendar month that contains ``day``."""
    if kind == WEEK:
        first = day - timedelta(days=day.isoweekday() - 1)
        last = first + timedelta(days=6)
        iso = first.isocalendar()
        label = f"{iso.year}-W{iso.week:02d}"
    elif kind == MONTH:
        first = day.replace(day=1)
        last = (first.replace(year=first.year + 1, month=1) if first.month == 12
                else first.replace(month=first.month + 1)) - timedelta(days=1)
        label = f"{first.year}-{first.month:02d}"
    else:
        raise ValueError(f"unknown period {kind!r}")
    return Period(kind, label, first, last, local_midnight(first, tz),
                  local_midnight(last + timedelta(days=1), tz))


def day_range(first: date, last: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """``[start of first, start of the day after last)`` in ``tz``; refuses backwards or huge ranges."""
    if last < first:
        raise ValueError("'to' is before 'from'")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValueError(f"at most {MAX_DAYS} days per report")
    return local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)


def median(values: Iterable[float]) -> float | None:
    data = list(values)
    return statistics.median(data) if data else None


def rate(part: int, whole: int) -> float | None:
    """A share rounded to 4 places; None (not 0) when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None


# -- daily reception (来人来电统计表) ---------------------------------------------------------


@dataclass(frozen=True)
class Touch:
    """A walk-in or call: a new lead registered from that channel, or a visit on a known lead.

    ``owner_id``/``owner_team`` are the lead's: the report counts customers per responsible rep.
    """

    at: datetime
    channel: str
    owner_id: str
    owner_team: str | None
    new_lead: bool


def daily_reception(touches: Iterable[Touch], tz: tzinfo) -> list[dict[str, Any]]:
    """Per local day and rep: walk-ins and calls, each split into new leads and repeat visits.

    Only days and reps with at least one touch get a row; rows by day, then team, then rep.
    """
    rows: dict[tuple[date, str, str | None], Counter[str]] = defaultdict(Counter)
    for t in touches:
        if t.channel not in (WALK_IN, PHONE_CALL):
            continue
        counter = rows[(local_day(t.at, tz), t.owner_id, t.owner_team)]
        kind = "walk_ins" if t.channel == WALK_IN else "calls"
        counter[kind] += 1
        counter[f"new_{kind}" if t.new_lead else f"repeat_{kind}"] += 1
    out = []
    for (day, owner_id, team), c in sorted(rows.items(),
                                          key=lambda kv: (kv[0][0], kv[0][2] or "", kv[0][1])):
        out.append({
            "date": day.isoformat(), "owner_id": owner_id, "owner_team": team,
            "walk_ins": c["walk_ins"], "new_walk_ins": c["new_walk_ins"],
            "repeat_walk_ins": c["repeat_walk_ins"], "calls": c["calls"],
            "new_calls": c["new_calls"], "repeat_calls": c["repeat_calls"],
            "total": c["walk_ins"] + c["calls"],
        })
    return out


DAILY_COLUMNS = ("date", "owner_id", "owner_team", "walk_ins", "new_walk_ins", "repeat_walk_ins",
                 "calls", "new_calls", "repeat_calls", "total")


def daily_totals(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return {k: sum(r[k] for r in rows) for k in DAILY_COLUMNS[3:]}


# -- funnel ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelLead:
    """What the funnel reads of a lead registered in the period. ``stage`` and ``lost_reason``
    are None where the pipeline columns do not exist (yet)."""

    source: str
    owner_id: str
    owner_team: str | None
    status: str
    created_at: datetime
    converted_at: datetime | None = None
    stage: str | None = None
    lost_reason: str | None = None

    @property
    def outcome(self) -> str:
        """open | converted | lost | terminated: status first, then the pipeline's outcome stage."""
        if self.status == CONVERTED:
            return CONVERTED
        if self.status in (LOST, TERMINATED):
            return self.status
        if self.stage in (LOST, TERMINATED):
            return self.stage
        return OPEN


_GROUP_KEY: dict[str, Callable[[FunnelLead], str | None]] = {
    BY_SOURCE: lambda lead: lead.source,
    BY_REP: lambda lead: lead.owner_id,
    BY_TEAM: lambda lead: lead.owner_team,
}


@dataclass
class _Group:
    registered: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    stages: Counter[str] = field(default_factory=Counter)
    lost_reasons: Counter[str] = field(default_factory=Counter)
    hours_to_convert: list[float] = field(default_factory=list)


def funnel(leads: Iterable[FunnelLead], group_by: str, *, with_stages: bool) -> list[dict[str, Any]]:
    """The cohort funnel: leads registered in the period, by group, and where they are now.

    ``conversion_rate`` = converted / registered; the median time to convert (hours) is over the
    cohort's converted leads. ``stages`` and ``lost_reasons`` are None when ``with_stages`` is
    false (no pipeline data), so a client can tell "not tracked" from "none".
    """
    key_of = _GROUP_KEY[group_by]
    groups: dict[str | None, _Group] = defaultdict(_Group)
    for lead in leads:
        g = groups[key_of(lead)]
        g.registered += 1
        outcome = lead.outcome
        g.outcomes[outcome] += 1
        if with_stages and lead.stage:
            g.stages[lead.stage] += 1
        if outcome == LOST and lead.lost_reason:
            g.lost_reasons[lead.lost_reason] += 1
        if outcome == CONVERTED and lead.converted_at is not None:
            g.hours_to_convert.append((lead.converted_at - lead.created_at).total_seconds() / 3600)
    out = []
    for key in sorted(groups, key=lambda k: (k is None, k or "")):
        g = groups[key]
        hours = median(g.hours_to_convert)
        out.append({
            "group": key, "registered": g.registered, "open": g.outcomes[OPEN],
            "converted": g.outcomes[CONVERTED],
            "lost": g.outcomes[LOST] if with_stages else None,
            "terminated": g.outcomes[TERMINATED] if with_stages else None,
            "conversion_rate": rate(g.outcomes[CONVERTED], g.registered),
            "median_hours_to_convert": round(hours, 2) if hours is not None else None,
            "lost_reasons": dict(sorted(g.lost_reasons.items())) if with_stages else None,
            "stages": dict(sorted(g.stages.items())) if with_stages else None,
        })
    return out


FUNNEL_COLUMNS = ("group", "registered", "open", "converted", "lost", "terminated",
                  "conversion_rate", "median_hours_to_convert", "lost_reasons", "stages")


# -- leads without follow-up -----------------------------------------------------------------


def stale_since(now: datetime, days: int) -> datetime:
    """Leads last touched before this moment have had no follow-up for ``days`` days."""
    return now - timedelta(days=days)


def days_since(now: datetime, moment: datetime) -> int:
    return int((now - moment).total_seconds() // 86400)


WITHOUT_FOLLOW_UP_COLUMNS = ("lead_id", "code", "name", "company", "source", "owner_id",
                             "owner_team", "registered_at", "last_touch_at", "days_without_touch")


# -- CSV --------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping):  # counts per stage / reason: "a=1; b=2"
        return "; ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def to_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> bytes:
    """UTF-8 with a BOM, CRLF line ends: Excel then opens Chinese names correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
