"""The hold state machine, pure: none → on_hold → released → on_hold …

Reasons: ``over_limit`` and ``overdue_default`` (default liability, overdue beyond the policy's
months) lift themselves when a payment cures them; ``account_lost`` when the account is active
again; ``manual`` only by a person with a reason.
"""

from __future__ import annotations

NONE, ON_HOLD, RELEASED = "none", "on_hold", "released"
OVER_LIMIT, OVERDUE_DEFAULT, MANUAL, ACCOUNT_LOST = "over_limit", "overdue_default", "manual", "account_lost"
REASONS = (OVER_LIMIT, OVERDUE_DEFAULT, MANUAL, ACCOUNT_LOST)
AUTOMATIC = (OVER_LIMIT, OVERDUE_DEFAULT, ACCOUNT_LOST)


class HoldTransitionError(ValueError):
    pass


def place(state: str, current: list[str], reasons: list[str]) -> list[str]:
    """The reasons after placing ``reasons``; raises when nothing would change."""
    merged = list(current) if state == ON_HOLD else []
    added = [r for r in reasons if r not in merged]
    if not added:
        raise HoldTransitionError("already on hold for " + ", ".join(reasons))
    return merged + added


def release(state: str) -> None:
    if state != ON_HOLD:
        raise HoldTransitionError(f"the account is not on hold (state {state})")


def cured(current: list[str], still_true: set[str]) -> list[str]:
    """Reasons that remain when automatic ones no longer apply (manual ones always stay)."""
    return [r for r in current if r not in AUTOMATIC or r in still_true]
