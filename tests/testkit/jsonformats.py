"""A JSON Schema format checker for the formats the CRM's schemas use, strict where jsonschema
needs optional packages: ``date-time`` must be RFC 3339 with an offset, ``uuid`` a UUID."""

from __future__ import annotations

import uuid
from datetime import datetime

import jsonschema

FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # the type keyword judges non-strings
    if "T" not in value.upper():
        raise ValueError("not a date-time")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("a date-time without an offset")
    return True


@FORMATS.checks("uuid", raises=ValueError)
def _uuid(value: object) -> bool:
    if isinstance(value, str):
        uuid.UUID(value)
    return True
