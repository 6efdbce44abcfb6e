"""Every setting of the accounts service, parsed once per process (``Settings.from_env()``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from httpapi import ServiceSettings
from httpapi.service import environ_or_os

SERVICE = "accounts"


@dataclass(frozen=True)
class Settings(ServiceSettings):
    scheduler_interval: float = 300.0  # ACCOUNTS_SCHEDULER_INTERVAL: seconds between rule passes
    # ACCOUNTS_CREDIT_SCHEDULER_INTERVAL: seconds between passes of the credit timers
    credit_scheduler_interval: float = 60.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = environ_or_os(environ)
        return cls(**cls.common_from_env(SERVICE, env),
                   scheduler_interval=float(env.get("ACCOUNTS_SCHEDULER_INTERVAL") or 300),
                   credit_scheduler_interval=float(env.get("ACCOUNTS_CREDIT_SCHEDULER_INTERVAL") or 60))
