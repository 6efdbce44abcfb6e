"""The operator endpoint's choice of parked messages (``POST /ops/parked/discard``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from eventbus.broker import ParkedFilter

FIELDS = {"id", "type", "older_than", "all", "confirm"}


def parked_filter(body: dict[str, Any]) -> ParkedFilter:
    """``{"id": …}`` alone, or ``type`` / ``older_than`` (seconds) / ``all`` with
    ``"confirm": true``, so that a typo can never empty the parking queue."""
    unknown = set(body) - FIELDS
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
    message_id, event_type, older, every = (body.get("id"), body.get("type"), body.get("older_than"),
                                            body.get("all"))
    if message_id is not None:
        if not isinstance(message_id, str) or not message_id or len(message_id) > 200:
            raise ValueError("id must be a parked message's id")
        if event_type is not None or older is not None or every:
            raise ValueError("id selects one message: send it alone")
        return ParkedFilter(message_id=message_id)
    if event_type is not None and (not isinstance(event_type, str) or not 0 < len(event_type) <= 200):
        raise ValueError("type must be an event type")
    if older is not None and (isinstance(older, bool) or not isinstance(older, int | float) or older < 0):
        raise ValueError("older_than must be a number of seconds")
    if every is not None and not isinstance(every, bool):
        raise ValueError("all must be true or false")
    if event_type is None and older is None and not every:
        raise ValueError('send {"id": "<event id>"}, or a filter (type, older_than, all) '
                         'with "confirm": true')
    if body.get("confirm") is not True:
        raise ValueError('a filter can discard many messages: add "confirm": true')
    return ParkedFilter(event_type=event_type,
                        older_than=timedelta(seconds=older) if older is not None else None)
