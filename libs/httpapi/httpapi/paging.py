"""Opaque keyset cursors: a page's last sort key, base64-encoded, so clients cannot craft
offsets and deep pages cost the same as the first."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, tuple_

from .problems import Problem


def encode_cursor(created_at: datetime, item_id: str) -> str:
    raw = json.dumps([as_utc(created_at).isoformat(), item_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, item_id = json.loads(raw)
        return datetime.fromisoformat(created), str(item_id)
    except (ValueError, TypeError) as exc:
        raise Problem(422, "Unprocessable Content", "invalid cursor",
                      errors={"query": {"cursor": ["Not a cursor from a previous page."]}}) from exc


def newest_first(stmt: Select[Any], at: Any, id_: Any, query: dict[str, Any]) -> Select[Any]:
    """Order by ``(at, id)`` newest first, continue after ``query["cursor"]``, and fetch one
    row more than ``query["limit"]`` so ``page`` can tell whether another page follows."""
    if query.get("cursor"):
        cursor_at, cursor_id = decode_cursor(query["cursor"])
        stmt = stmt.where(tuple_(at, id_) < tuple_(cursor_at, cursor_id))
    return stmt.order_by(at.desc(), id_.desc()).limit(query["limit"] + 1)


def as_utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; everything stored is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def page(items: list[Any], limit: int, key: Any) -> dict[str, Any]:
    """``items`` fetched with ``limit + 1`` rows: the extra row only says a next page exists."""
    has_more = len(items) > limit
    items = items[:limit]
    last = items[-1] if items and has_more else None
    return {"items": items, "next_cursor": encode_cursor(*key(last)) if last is not None else None}
