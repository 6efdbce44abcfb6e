"""Pure preference rules: defaults, the quiet window and the channels a staff member gets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from ..messages.rules import EMAIL, INAPP, SMS, Quiet

LANGUAGES = ("zh-CN", "en")


@dataclass(frozen=True)
class Prefs:
    user_id: str
    channels: tuple[str, ...] = ()
    language: str = "zh-CN"
    timezone: str | None = None
    quiet_start: str | None = None
    quiet_end: str | None = None
    email: str | None = None
    mobile: str | None = None

    @property
    def quiet(self) -> Quiet | None:
        if not self.quiet_start or not self.quiet_end:
            return None
        return Quiet(_t(self.quiet_start), _t(self.quiet_end))

    def routes(self) -> list[tuple[str, str]]:
        """(channel, address) pairs: in-app always, e-mail / SMS when chosen and an address given."""
        out = [(INAPP, self.user_id)]
        if EMAIL in self.channels and self.email:
            out.append((EMAIL, self.email))
        if SMS in self.channels and self.mobile:
            out.append((SMS, self.mobile))
        return out


def _t(value: str) -> time:
    hh, mm = value.split(":")
    return time(int(hh), int(mm))
