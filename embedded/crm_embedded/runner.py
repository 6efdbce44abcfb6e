"""Start and stop the embedded system: the same app factories and workers as the distributed
mode, served by a production WSGI server (waitress, with a deadline per request: see
``httpapi.serving``) and joined by the in-process broker."""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from httpapi.serving import RunningServer, ServerSettings, serve_in_thread

log = logging.getLogger("crm_embedded")
SERVICES = ("leads", "accounts", "support", "notify")
DEMO_PASSWORD = "crm-demo"  # noqa: S105 - the documented demo password, embedded mode only
ISSUER = "crm-embedded"  # the built-in issuer's name, which every verifier pins (AUTH_ISSUER)


@dataclass
class EmbeddedConfig:
    host: str = "127.0.0.1"
    gateway_port: int = 8080
    service_port_base: int = 8081  # leads, accounts, support, notify on base .. base+3
    data_dir: Path = Path("var/embedded")
    http: ServerSettings = field(default_factory=ServerSettings)

    @classmethod
    def from_env(cls) -> EmbeddedConfig:
        return cls(
            host=os.environ.get("CRM_HOST", "127.0.0.1"),
            gateway_port=int(os.environ.get("CRM_PORT", "8080")),
            service_port_base=int(os.environ.get("CRM_SERVICE_PORT_BASE", "8081")),
            data_dir=Path(os.environ.get("CRM_DATA_DIR", "var/embedded")),
            http=ServerSettings.from_env(os.environ),
        )

    def service_port(self, service: str) -> int:
        return self.service_port_base + SERVICES.index(service)

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.gateway_port}"

    def environment(self) -> dict[str, str]:
        """Settings every part reads; anything already set in the environment wins."""
        upstreams = ",".join(f"{s}=http://127.0.0.1:{self.service_port(s)}" for s in SERVICES)
        return {
            "CRM_DATA_DIR": str(self.data_dir),
            "EVENTS_BROKER_URL": "memory://",
            "AUTH_DEV_ISSUER": "1",
            "AUTH_DEMO_USERS": "1",
            "AUTH_ISSUER": ISSUER,
            "AUTH_ISSUER_KEY_FILE": str(self.data_dir / "issuer-key.pem"),
            "AUTH_JWKS_URL": f"http://127.0.0.1:{self.gateway_port}/.well-known/jwks.json",
            "GATEWAY_UPSTREAMS": upstreams,
            # Every event names the JSON Schema of its data, served by this gateway.
            "EVENTS_DATASCHEMA_BASE_URL": f"{self.gateway_url}/api/v1/asyncapi/schemas",
        }


@dataclass
class EmbeddedSystem:
    config: EmbeddedConfig
    stop: threading.Event = field(default_factory=threading.Event)
    servers: list[RunningServer] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for key, value in self.config.environment().items():
            os.environ.setdefault(key, value)
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        for service in SERVICES:
            wiring = importlib.import_module(f"{service}.wiring")
            app_module = importlib.import_module(f"{service}.app")
            ctx = wiring.build()
            self.threads += ctx.bus.start_worker(self.stop)
            self.threads += ctx.background(self.stop)  # e.g. leads' cadence scheduler
            self._serve(app_module.create_app(ctx), self.config.service_port(service), service)
        gateway_app = importlib.import_module("gateway.app").create_app()
        self._serve(gateway_app, self.config.gateway_port, "gateway", host=self.config.host)

    def _serve(self, app: Callable, port: int, name: str, host: str = "127.0.0.1") -> None:
        self.servers.append(serve_in_thread(app, host, port, name=name, settings=self.config.http))
        log.info("%s listening on http://%s:%d", name, host, port)

    def demo_token(self, username: str = "admin") -> str:
        resp = httpx.post(f"{self.config.gateway_url}/api/v1/auth/token",
                          json={"username": username, "password": DEMO_PASSWORD}, timeout=10)
        resp.raise_for_status()
        return resp.json()["access_token"]

    def shutdown(self) -> None:
        for server in self.servers:
            server.stop()
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)
