"""Every setting of the leads service, parsed once per process (``Settings.from_env()``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from authn.directory import Directory, directory_from_env
from httpapi import ServiceSettings
from httpapi.service import environ_or_os

SERVICE = "leads"


@dataclass(frozen=True)
class Settings(ServiceSettings):
    cadence_interval: float = 60.0  # LEADS_CADENCE_INTERVAL: seconds between reminder passes
    # AUTH_DIRECTORY_FILE / AUTH_DEMO_USERS: who may be named as a lead's owner; None = the
    # users leads' own records name (owners, registrants, rotation rosters).
    directory: Directory | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = environ_or_os(environ)
        return cls(**cls.common_from_env(SERVICE, env),
                   cadence_interval=float(env.get("LEADS_CADENCE_INTERVAL") or 60),
                   directory=directory_from_env(env))
