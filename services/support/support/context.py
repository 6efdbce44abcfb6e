"""The running support service as its web app, worker and tests see it (built by ``wiring.build``)."""

from __future__ import annotations

from dataclasses import dataclass

from httpapi import ServiceContext

from .settings import Settings


@dataclass
class SupportContext(ServiceContext):
    settings: Settings
