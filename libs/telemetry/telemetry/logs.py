"""One log line per thing that happened, as JSON (containers, log shippers) or as text (a
person at a terminal, the embedded mode).

Fields that belong to the work in hand (the request id, the event being handled, the trace) are
bound once to the current context with ``bind``/``bound`` and appear on every line logged
meanwhile, from any logger, so a request's error line carries its request id without the code
that logs it knowing about requests. ``extra={...}`` adds fields to one line.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Any

LOG_FORMATS = ("json", "text")
# Libraries that log every connection or probe at INFO drown what matters: WARNING and up only.
NOISY_LOGGERS = ("werkzeug", "httpx", "httpcore", "urllib3", "amqp", "kombu")
_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "crm_log_context", default={})  # noqa: B039 - never mutated: bind() makes a new mapping
_static: dict[str, Any] = {}  # process-wide fields (a worker's service name)
# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def parse_log_format(value: str | None, default: str = "json") -> str:
    """``LOG_FORMAT``: ``json`` or ``text``; anything else stops the process with an error."""
    if value is None or not value.strip():
        return default
    fmt = value.strip().lower()
    if fmt not in LOG_FORMATS:
        raise RuntimeError(f"LOG_FORMAT must be json or text, not {value!r}")
    return fmt


def bind(**fields: Any) -> contextvars.Token[Mapping[str, Any]]:
    """Add fields to every line logged in this context until ``unbind(token)``."""
    merged = {**_context.get(), **{k: v for k, v in fields.items() if v is not None}}
    return _context.set(merged)


def unbind(token: contextvars.Token[Mapping[str, Any]]) -> None:
    _context.reset(token)


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    token = bind(**fields)
    try:
        yield
    finally:
        unbind(token)


def log_context() -> Mapping[str, Any]:
    return _context.get()


def set_static(**fields: Any) -> None:
    """Fields on every line of this process (e.g. ``service`` in a worker)."""
    _static.update({k: v for k, v in fields.items() if v is not None})


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    out = {**_static, **_context.get()}
    out.update({k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")})
    return out


class JsonFormatter(logging.Formatter):
    """One JSON object per line; a traceback is a field, never extra lines."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update(_fields(record))
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exception"] = record.exc_text
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger message key=value …`` for people; tracebacks as usual."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = _fields(record)
        if not fields:
            return line
        head, sep, trace = line.partition("\n")
        tail = " ".join(f"{k}={v}" for k, v in fields.items())
        return f"{head} [{tail}]{sep}{trace}"


def formatter(fmt: str) -> logging.Formatter:
    return JsonFormatter() if parse_log_format(fmt) == "json" else TextFormatter()


def configure_logging(level: str = "INFO", fmt: str = "json", stream: IO[str] | None = None,
                      **static: Any) -> None:
    """Log everything at ``level`` and above to ``stream`` (stderr) in ``fmt``; replaces the
    root logger's handlers, so calling it twice does not double lines."""
    set_static(**static)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
