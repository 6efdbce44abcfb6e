"""Opaque keyset cursors: a page's last sort key, base64url-encoded, so deep pages cost the
same as the first.

The format is declared in the OpenAPI document (``CURSOR_PATTERN``: 11 to 256 base64url
characters) and every string of that shape is a position: 8 bytes of microseconds since the
epoch (big-endian, clamped to the calendar) then the id in UTF-8. A hand-made cursor therefore
yields some page of what the caller may see anyway, never an error and never more rows.
"""

from __future__ import annotations

import base64
import re
import struct
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, tuple_

from .problems import Problem

CURSOR_MIN = 11  # the 8-byte time alone takes 11 base64 characters
CURSOR_MAX = 256
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{11,256}$"
_CURSOR = re.compile(CURSOR_PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_MICROS = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_MAX_MICROS = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)


def encode_cursor(created_at: datetime, item_id: str) -> str:
    micros = (as_utc(created_at) - _EPOCH) // timedelta(microseconds=1)
    raw = struct.pack(">q", micros) + item_id.encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The ``(time, id)`` position a cursor names. Anything matching the declared pattern decodes
    (the last character of a length that base64 cannot have is ignored)."""
    if not _CURSOR.match(cursor):
        raise Problem(422, "Unprocessable Content", "invalid cursor",
                      errors={"query": {"cursor": ["Not a cursor from a previous page."]}})
    if len(cursor) % 4 == 1:
        cursor = cursor[:-1]
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    micros = struct.unpack(">q", raw[:8].ljust(8, b"\0"))[0]
    micros = min(max(micros, _MIN_MICROS), _MAX_MICROS)
    # NUL cannot be stored or compared in PostgreSQL text; no real id holds one.
    item_id = raw[8:].decode("utf-8", "replace").replace("\0", "")
    return _EPOCH + timedelta(microseconds=micros), item_id


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
