"""Every setting of the accounts service, parsed once per process (``Settings.from_env()``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from httpapi import ServiceSettings

SERVICE = "accounts"


@dataclass(frozen=True)
class Settings(ServiceSettings):
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        return cls(**cls.common_from_env(SERVICE, environ))
