"""``crm-web``: the HTTP server of every CRM web process and of the gateway outside the embedded
mode (``make up``, Compose, Kubernetes)::

    crm-web --bind 0.0.0.0:8000 'leads.app:create_app()'

granian serves the WSGI app: HTTP parsing, keep-alive and socket I/O run in Rust, and each
worker process runs the app in a small pool of Python threads. Under gunicorn's gthread worker
the server alone cost 250-450 µs of CPU per request, about a third of a by-id read; granian
costs about a tenth of that (docs/performance.md §1.1). On top of granian this sets what every
CRM web process needs:

- metrics of every worker process add up in one scrape (prometheus-client's multiprocess
  mode): ``PROMETHEUS_MULTIPROC_DIR`` is set before any process imports prometheus_client, to a
  fresh private directory unless the environment names one (then emptied at start, since
  samples of an earlier run would be counted again); a created directory is removed on exit.
  A worker that exits keeps its counts in the totals; unlike gunicorn, granian has no hook to
  mark it dead, which only live gauges would need, and no web process keeps one;
- logs go to stderr in ``LOG_FORMAT`` (json, or text) at ``LOG_LEVEL``, granian's own lines
  included; granian's access log stays off because the app logs each request itself;
- SIGTERM stops accepting, lets in-flight requests finish for ``--graceful-timeout`` seconds,
  then kills what is left; a worker that dies is started again.

Settings come from the command line, else the environment (``WEB_CONCURRENCY``, ``WEB_THREADS``,
``WEB_GRACEFUL_TIMEOUT``, ``WEB_BIND``). Only the standard library and ``telemetry.logs`` are
imported before the metrics directory is set, on purpose.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from telemetry.logs import NOISY_LOGGERS, parse_log_format

log = logging.getLogger("crm.web")


def prepare_metrics_dir(environ: dict[str, str] | os._Environ[str] = os.environ) -> str | None:
    """Point prometheus-client at an empty directory; return it if this process created it."""
    given = environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not given:
        created = tempfile.mkdtemp(prefix="crm-metrics-")
        environ["PROMETHEUS_MULTIPROC_DIR"] = created
        return created
    directory = Path(given)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)
    return None


def logging_config(level: str, log_format: str) -> dict[str, Any]:
    """One stderr handler in the CRM's format for the app and granian alike."""
    formatter = "telemetry.logs.JsonFormatter" if log_format == "json" else "telemetry.logs.TextFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"crm": {"()": formatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "crm",
                                "stream": "ext://sys.stderr"}},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "_granian": {"level": level, "handlers": [], "propagate": True},
            "granian.access": {"level": "WARNING", "handlers": [], "propagate": False},
            **{noisy: {"level": "WARNING"} for noisy in NOISY_LOGGERS},
        },
    }


def load_app(target: str, *, factory: bool) -> Any:
    """Runs in each worker: import the app (``module:name``) and call it if it is a factory. A
    failure is one log line with its traceback, in the CRM's format, and the worker's exit
    (granian then stops: a worker that cannot start will not start on a retry either)."""
    module_name, _, name = target.partition(":")
    try:
        app: Any = importlib.import_module(module_name)
        for part in (name or "app").split("."):
            app = getattr(app, part)
        return app() if factory else app
    except Exception:
        log.exception("cannot start the app %s%s; this worker exits", target, "()" if factory else "")
        raise SystemExit(1) from None


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_args(argv: Sequence[str] | None, environ: dict[str, str] | os._Environ[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="crm-web", description=__doc__.split("\n\n")[0])
    parser.add_argument("app", help="'package.module:factory()' (called once per worker) "
                                    "or 'package.module:app'")
    parser.add_argument("--bind", default=environ.get("WEB_BIND", "127.0.0.1:8000"), help="HOST:PORT")
    parser.add_argument("--workers", type=_positive, default=environ.get("WEB_CONCURRENCY", "2"),
                        help="worker processes (WEB_CONCURRENCY, default 2)")
    parser.add_argument("--threads", type=_positive, default=environ.get("WEB_THREADS", "4"),
                        help="app threads per worker (WEB_THREADS, default 4)")
    parser.add_argument("--graceful-timeout", type=_positive,
                        default=environ.get("WEB_GRACEFUL_TIMEOUT", "20"),
                        help="seconds in-flight requests get after SIGTERM "
                             "(WEB_GRACEFUL_TIMEOUT, default 20)")
    args = parser.parse_args(argv)  # (string defaults from the environment go through ``type`` too)
    host, sep, port = args.bind.rpartition(":")
    if not sep or not port.isdigit():
        parser.error(f"--bind wants HOST:PORT, got {args.bind!r}")
    args.host, args.port = host.strip("[]") or "0.0.0.0", int(port)
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv, os.environ)
    created = prepare_metrics_dir()  # before anything below imports prometheus_client
    level = (os.environ.get("LOG_LEVEL") or "INFO").upper()
    log_format = parse_log_format(os.environ.get("LOG_FORMAT"), "json")

    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    target, factory = args.app.removesuffix("()"), args.app.endswith("()")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as gunicorn and granian do: apps in the working directory
    server = Server(
        target, address=args.host, port=args.port, interface=Interfaces.WSGI, websockets=False,
        # Requests beyond the threads wait in granian's queue, not in more Python threads.
        workers=args.workers, blocking_threads=args.threads,
        log_level=LogLevels(level.lower()) if level.lower() in LogLevels.__members__ else LogLevels.info,
        log_dictconfig=logging_config(level, log_format), log_access=False,
        respawn_failed_workers=True, workers_kill_timeout=args.graceful_timeout,
    )
    if created:
        server.on_shutdown(lambda: shutil.rmtree(created, ignore_errors=True))
    server.serve(target_loader=partial(load_app, factory=factory))


if __name__ == "__main__":
    main()
