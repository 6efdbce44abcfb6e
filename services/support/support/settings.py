"""Every setting of the support service, parsed once per process (``Settings.from_env()``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from httpapi import ServiceSettings
from httpapi.service import environ_or_os

SERVICE = "support"


@dataclass(frozen=True)
class Settings(ServiceSettings):
    scheduler_interval: float = 30.0  # SUPPORT_SCHEDULER_INTERVAL: seconds between timer passes

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = environ_or_os(environ)
        return cls(
            **cls.common_from_env(SERVICE, env),
            scheduler_interval=float(env.get("SUPPORT_SCHEDULER_INTERVAL") or 30),
        )
