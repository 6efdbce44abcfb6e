"""Notify policy: every number of the message rules, with the documents' values as defaults.

Sources (seeds digest §4): §4.3 no disturbing customers while they rest (the documents give no
window: 21:00–08:00 in the recipient's zone is this service's documented default), marketing
e-mail Tuesday–Thursday; §4.4 key-customer SMS rules (opening, signature, the 「有任何需求和问题,
请随时来电吩咐」 phrase); §4.2 Friday-evening greetings. Retry schedules are this service's
defaults (webhooks: Svix's published schedule).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

KEY_CUSTOMER_PHRASE = "有任何需求和问题,请随时来电吩咐"


class PolicyError(ValueError):
    """Invalid policy values; ``errors`` maps each bad field name to what is wrong with it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(
            "invalid notify policy: " + "; ".join(f"{k}: {v}" for k, v in sorted(self.errors.items()))
        )


@dataclass(frozen=True)
class NotifyPolicy:
    default_timezone: str = "Asia/Shanghai"
    quiet_start: time = time(21, 0)  # customers are not disturbed from here ...
    quiet_end: time = time(8, 0)  # ... until here, in their own zone (§4.3; our default)
    marketing_email_weekdays: tuple[int, ...] = (1, 2, 3)  # Tue, Wed, Thu (Monday = 0; §4.3)
    message_retry_seconds: tuple[int, ...] = (30, 300, 1800)  # bounded: after these, failed
    webhook_retry_seconds: tuple[int, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
    webhook_disable_after_days: int = 5
    webhook_timeout_seconds: float = 5.0
    webhook_max_response_bytes: int = 4096
    webhook_secret_overlap_hours: int = 24
    company_name: str = "本公司"
    key_customer_phrase: str = KEY_CUSTOMER_PHRASE
    greeting_weekday: int = 4  # Friday (§4.2)
    greeting_hour: int = 18  # evening
    christmas_card_days_before: int = 10
    holiday_greeting_days_before: int = 2  # drafts this many days before a China holiday

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        try:
            ZoneInfo(self.default_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            errors["default_timezone"] = "unknown IANA time zone"
        if not self.marketing_email_weekdays or any(not 0 <= d <= 6 for d in self.marketing_email_weekdays):
            errors["marketing_email_weekdays"] = "weekdays 0 (Monday) to 6 (Sunday), at least one"
        for name in ("message_retry_seconds", "webhook_retry_seconds"):
            value = getattr(self, name)
            if not value or len(value) > 20 or any(s < 0 for s in value):
                errors[name] = "1 to 20 non-negative delays in seconds"
        if not 1 <= self.webhook_disable_after_days <= 60:
            errors["webhook_disable_after_days"] = "1 to 60"
        if not 0.1 <= self.webhook_timeout_seconds <= 60:
            errors["webhook_timeout_seconds"] = "0.1 to 60"
        if not 256 <= self.webhook_max_response_bytes <= 1_000_000:
            errors["webhook_max_response_bytes"] = "256 to 1000000"
        if not 0 <= self.webhook_secret_overlap_hours <= 24 * 14:
            errors["webhook_secret_overlap_hours"] = "0 to 336"  # noqa: S105 - not a secret
        if not 0 <= self.greeting_weekday <= 6:
            errors["greeting_weekday"] = "0 (Monday) to 6 (Sunday)"
        if not 0 <= self.greeting_hour <= 23:
            errors["greeting_hour"] = "0 to 23"
        if not 0 <= self.holiday_greeting_days_before <= 14:
            errors["holiday_greeting_days_before"] = "0 to 14"
        if not 1 <= self.christmas_card_days_before <= 60:
            errors["christmas_card_days_before"] = "1 to 60"
        if not self.company_name.strip():
            errors["company_name"] = "required"
        if errors:
            raise PolicyError(errors)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, time):
                value = value.strftime("%H:%M")
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NotifyPolicy:
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = set(data) - set(known)
        if unknown:
            raise PolicyError({k: "unknown policy field" for k in unknown})
        kwargs: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name, value in data.items():
            default = known[name].default
            try:
                if isinstance(default, time):
                    hh, mm = str(value).split(":")
                    kwargs[name] = time(int(hh), int(mm))
                elif isinstance(default, tuple):
                    kwargs[name] = tuple(int(v) for v in value)
                elif isinstance(default, str):
                    if not isinstance(value, type(default)):
                        raise TypeError
                    kwargs[name] = value
                elif isinstance(default, int):
                    if isinstance(value, bool) or not isinstance(value, int):
                        raise TypeError
                    kwargs[name] = value
                else:
                    if isinstance(value, bool) or not isinstance(value, int | float):
                        raise TypeError
                    kwargs[name] = float(value)
            except (TypeError, ValueError):
                errors[name] = f"invalid value for {name}"
        if errors:
            raise PolicyError(errors)
        return cls(**kwargs)

    def with_changes(self, **changes: Any) -> NotifyPolicy:
        return NotifyPolicy.from_dict({**self.to_dict(), **changes})

    def changes(self, other: NotifyPolicy) -> dict[str, tuple[Any, Any]]:
        mine, theirs = self.to_dict(), other.to_dict()
        return {k: (mine[k], theirs[k]) for k in mine if mine[k] != theirs[k]}
