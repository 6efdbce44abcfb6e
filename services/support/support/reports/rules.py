"""Report periods, rates and the safe tabular output (CSV with BOM, streamed XLSX), pure.

Every report is also a flat table of (section, metric, value) rows with Chinese headers, so the
CSV and the XLSX are the same figures as the JSON. A text cell that a spreadsheet would run as a
formula (= + - @, tab, CR) is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

HEADERS = ("类别 section", "指标 metric", "数值 value")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def month_window(month: str, tz: tzinfo) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of ``YYYY-MM`` in ``tz``, as UTC."""
    try:
        year, mon = (int(p) for p in month.split("-"))
        first = date(year, mon, 1)
    except ValueError as exc:
        raise ValueError("month must be YYYY-MM") from exc
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    return _utc(first, tz), _utc(nxt, tz)


def week_window(day: date, tz: tzinfo) -> tuple[date, datetime, datetime]:
    """The week that ends on the Friday on or after ``day`` (Saturday to Friday): the Friday
    afternoon meeting reports it (§3.8 「每周五下午部门例会」)."""
    friday = day + timedelta(days=(4 - day.weekday()) % 7)
    saturday = friday - timedelta(days=6)
    return friday, _utc(saturday, tz), _utc(friday + timedelta(days=1), tz)


def day_window(first: date, last: date, tz: tzinfo) -> tuple[datetime, datetime]:
    if last < first:
        raise ValueError("to must not be before from")
    return _utc(first, tz), _utc(last + timedelta(days=1), tz)


def _utc(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def rate(numerator: int, denominator: int) -> float | None:
    """A share 0..1 with 4 places; None when there is nothing to divide by."""
    return round(numerator / denominator, 4) if denominator else None


def hours_summary(values: Sequence[float]) -> dict[str, float | int | None]:
    if not values:
        return {"count": 0, "mean": None, "median": None, "max": None}
    return {
        "count": len(values),
        "mean": round(statistics.fmean(values), 2),
        "median": round(statistics.median(values), 2),
        "max": round(max(values), 2),
    }


def flatten(report: Mapping[str, Any], skip: Iterable[str] = ()) -> list[tuple[str, str, Any]]:
    """(section, metric, value) rows of a nested report: dicts nest into dotted metric names,
    lists of dicts are numbered."""
    rows: list[tuple[str, str, Any]] = []
    skipped = set(skip)

    def walk(section: str, prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(section, f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, list):
            for i, v in enumerate(value, start=1):
                walk(section, f"{prefix}[{i}]", v)
        else:
            rows.append((section, prefix, value))

    for section, value in report.items():
        if section in skipped:
            continue
        if isinstance(value, Mapping | list):
            walk(section, "", value)
        else:
            rows.append(("", section, value))
    return rows


def safe_cell(value: Any) -> Any:
    """Numbers stay numbers; text that would start a formula is neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = value.isoformat() if isinstance(value, datetime | date) else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(rows: Iterable[Sequence[Any]], headers: Sequence[str] = HEADERS) -> bytes:
    """UTF-8 with a BOM and CRLF line ends, so Excel opens the Chinese headers correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(title: str, rows: Iterable[Sequence[Any]], headers: Sequence[str] = HEADERS) -> bytes:
    """One streamed (write-only) sheet with the same rows as the CSV."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(list(headers))
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
