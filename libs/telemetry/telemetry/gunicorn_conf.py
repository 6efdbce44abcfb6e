"""gunicorn settings every CRM web process and the gateway use:
``gunicorn -c python:telemetry.gunicorn_conf --bind … 'leads.app:create_app()'``.

- Metrics from every gunicorn process add up in one scrape (prometheus-client's multiprocess
  mode): ``PROMETHEUS_MULTIPROC_DIR`` is set here, before any process imports
  prometheus_client, to a fresh private directory unless the environment names one (which is
  then emptied at start: samples of an earlier run would be counted again). A process that
  exits is marked dead, so its live gauges go; its counters stay in the totals, as counters must.
- Logs go to stderr in ``LOG_FORMAT`` (json, or text) at ``LOG_LEVEL``, gunicorn's own lines
  included; the access log is the app's (``telemetry.http``), so gunicorn's is off.

Only the standard library and ``telemetry.logs`` are imported at module level, on purpose.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from telemetry.logs import parse_log_format

_created_dir: str | None = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _created_dir = tempfile.mkdtemp(prefix="crm-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _created_dir

_level = (os.environ.get("LOG_LEVEL") or "INFO").upper()
_format = parse_log_format(os.environ.get("LOG_FORMAT"), "json")
_formatter = "telemetry.logs.JsonFormatter" if _format == "json" else "telemetry.logs.TextFormatter"

accesslog = None  # the app logs each request itself, with route, principal and request id


def _quiet_logger_class() -> type:
    from gunicorn.glogging import Logger

    class AppAccessLogger(Logger):
        """gunicorn's access line is off, but with ``logconfig_dict`` set gunicorn still works
        out every request's atoms before the logger drops the line (about 5 % of a by-id
        read's CPU, docs/performance.md §1); this skips that work."""

        def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
            return None

    return AppAccessLogger


logger_class = _quiet_logger_class()
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"crm": {"()": _formatter}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "crm",
                            "stream": "ext://sys.stderr"}},
    "root": {"level": _level, "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": _level, "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        "werkzeug": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}


def on_starting(server: Any) -> None:
    """Empty the metrics directory: files of an earlier run would add to this one's totals."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    if _created_dir:
        shutil.rmtree(_created_dir, ignore_errors=True)
