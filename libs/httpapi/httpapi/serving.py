"""A production WSGI server for the processes that are not run by crm-web: the embedded mode's
gateway and services, and ``crm-gateway`` started by hand.

waitress reads each request (headers and body) on its event loop and hands it to a worker thread
only when complete, so slow clients cost a socket, not a thread. On top of waitress this adds:

- a deadline for receiving one whole request (``request_timeout``): a client that trickles a short
  body — one byte every few seconds keeps waitress' idle timeout at bay — is cut off when the
  deadline passes, instead of holding the connection for minutes;
- waitress' own refusals (a header block over the limit: 431, a body over the limit: 413, a
  malformed request: 400) written as RFC 9457 problem documents, like every other error;
- no ``Server`` header, so the server and its version are not advertised.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask

from .problems import PROBLEM_JSON, problem_document

log = logging.getLogger("httpapi.serving")
WSGIApp = Callable[..., Any]


@dataclass(frozen=True)
class ServerSettings:
    """How long and how much a client may take. Defaults fit the embedded mode."""

    threads: int = 8
    request_timeout: float = 30.0  # the whole request (headers and body) must arrive within this
    idle_timeout: float = 30.0  # a keep-alive connection with nothing to do is closed after this
    max_header_bytes: int = 64 * 1024  # the request line and headers together (431 beyond)
    max_body_bytes: int = 8 * 1024 * 1024  # waitress' cap; the apps refuse above 1 MiB themselves
    connection_limit: int = 200

    @classmethod
    def from_env(cls, environ: Mapping[str, str], prefix: str = "CRM_HTTP_") -> ServerSettings:
        """``CRM_HTTP_THREADS``, ``CRM_HTTP_REQUEST_TIMEOUT``, ``CRM_HTTP_IDLE_TIMEOUT``."""
        def number(name: str, default: float) -> float:
            raw = environ.get(prefix + name, "").strip()
            if not raw:
                return default
            value = float(raw)
            if value <= 0:
                raise ValueError(f"{prefix}{name} must be positive")
            return value

        return cls(threads=int(number("THREADS", cls.threads)),
                   request_timeout=number("REQUEST_TIMEOUT", cls.request_timeout),
                   idle_timeout=number("IDLE_TIMEOUT", cls.idle_timeout))


class _ProblemErrorTask(ErrorTask):
    """waitress' refusal of a request it could not read, as a problem document."""

    def execute(self) -> None:
        error = self.request.error
        body = json.dumps(problem_document(error.code, error.reason, str(error.body))).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", PROBLEM_JSON))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    error_task_class = _ProblemErrorTask
    request_started: float | None = None

    def received(self, data: bytes) -> bool:
        if self.request is None and data:
            self.request_started = time.monotonic()  # the first bytes of a new request
        result: bool = super().received(data)
        if self.request is None:  # nothing half-read any more
            self.request_started = None
        return result


class _Server(TcpWSGIServer):
    channel_class = _Channel
    request_timeout = 30.0

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # idle connections
        cutoff = time.monotonic() - self.request_timeout
        for channel in list(self.active_channels.values()):
            started = getattr(channel, "request_started", None)
            if channel.request is not None and started is not None and started < cutoff:
                log.info("closing a connection that took over %.0f s to send one request",
                         self.request_timeout)
                channel.will_close = True


@dataclass
class RunningServer:
    """A server serving on its own thread; ``stop()`` closes it and its connections."""

    name: str
    server: _Server
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    def stop(self, timeout: float = 5.0) -> None:
        self.server.close()
        for channel in list(self.server.active_channels.values()):
            channel.will_close = True
        self.server.task_dispatcher.shutdown(timeout=timeout)
        self.thread.join(timeout=timeout)


def serve_in_thread(app: WSGIApp, host: str, port: int, *, name: str = "http",
                    settings: ServerSettings | None = None) -> RunningServer:
    """Serve ``app`` on ``host:port`` (0: any free port) from a daemon thread."""
    settings = settings or ServerSettings()
    adj = Adjustments(
        host=host, port=port, threads=settings.threads, ident="",
        channel_timeout=settings.idle_timeout,
        # How often idle and overdue connections are looked for: the deadline's granularity.
        cleanup_interval=max(0.5, min(5.0, settings.request_timeout / 4)),
        max_request_header_size=settings.max_header_bytes,
        max_request_body_size=settings.max_body_bytes,
        connection_limit=settings.connection_limit,
        asyncore_use_poll=True, expose_tracebacks=False,
    )
    server = _Server(app, map={}, adj=adj)
    server.request_timeout = settings.request_timeout
    thread = threading.Thread(target=server.run, name=f"http-{name}", daemon=True)
    thread.start()
    return RunningServer(name, server, thread)


__all__ = ["RunningServer", "ServerSettings", "serve_in_thread"]
