"""Pure webhook rules: which endpoint gets which event, the retry schedule, auto-disable."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from eventbus.topology import topic_matches

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
# Event types outside systems may subscribe to (their producers' catalogues); patterns allowed.
SUBSCRIBABLE_PREFIXES = ("leads.", "accounts.", "support.", "notify.")


def wants(patterns: Sequence[str], event_type: str) -> bool:
    return any(p == event_type or topic_matches(p, event_type) for p in patterns)


def valid_pattern(pattern: str) -> bool:
    return pattern in ("#", "*.#") or (
        pattern.startswith(SUBSCRIBABLE_PREFIXES)
        and all(w and (w in ("*", "#") or w.replace("_", "").isalnum()) for w in pattern.split("."))
    )


def next_delay(failed_attempts: int, schedule: Sequence[int]) -> timedelta | None:
    """After ``failed_attempts`` failures, the wait before the next try (Svix-like schedule:
    schedule[0] is the first, immediate attempt); None when the schedule is used up."""
    if failed_attempts >= len(schedule):
        return None
    return timedelta(seconds=schedule[failed_attempts])


def succeeded(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def should_disable(failing_since: datetime | None, now: datetime, days: int) -> bool:
    return failing_since is not None and now - failing_since >= timedelta(days=days)
