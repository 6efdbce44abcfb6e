"""A service's database settings, parsed once per process from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


def parse_flag(name: str, value: str | None, default: bool) -> bool:
    """An on/off setting: 1/true/yes/on or 0/false/no/off; anything else is refused."""
    if value is None or not value.strip():
        return default
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise RuntimeError(f"{name} must be 1/true/yes/on or 0/false/no/off, not {value!r}")


def env_flag(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return parse_flag(name, env.get(name), default)


@dataclass(frozen=True)
class DatabaseSettings:
    """``<SERVICE>_DATABASE_URL`` (or ``DATABASE_URL``), ``DB_POOL_SIZE``, ``MIGRATE_ON_START``."""

    url: str  # empty when nothing is configured: ``require_url`` refuses to start then
    pool_size: int = 10
    migrate_on_start: bool = True

    @classmethod
    def from_env(cls, service: str, environ: Mapping[str, str] | None = None) -> DatabaseSettings:
        """The URL comes from ``<SERVICE>_DATABASE_URL`` or ``DATABASE_URL``; else, only where
        ``CRM_DATA_DIR`` says this is the embedded mode, a SQLite file there. A distributed
        process with no database setting refuses to start rather than quietly writing to a
        local file (``require_url``)."""
        env = os.environ if environ is None else environ
        url = env.get(f"{service.upper()}_DATABASE_URL") or env.get("DATABASE_URL")
        if not url and env.get("CRM_DATA_DIR"):
            url = f"sqlite:///{env['CRM_DATA_DIR']}/{service}.db"
        return cls(url=url or "", pool_size=int(env.get("DB_POOL_SIZE") or 10),
                   migrate_on_start=parse_flag("MIGRATE_ON_START", env.get("MIGRATE_ON_START"), True))

    def require_url(self, service: str) -> str:
        if not self.url:
            raise RuntimeError(f"no database configured: set {service.upper()}_DATABASE_URL "
                               "(or CRM_DATA_DIR for the embedded SQLite mode)")
        return self.url
