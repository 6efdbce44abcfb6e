"""What an operator sees of a CRM process: log lines, outages, request metrics, traces.

Importing the package is cheap and never imports prometheus_client, so the web server
(``telemetry.webserver``, ``crm-web``) can set ``PROMETHEUS_MULTIPROC_DIR`` before any metric exists.
HTTP metrics live in ``telemetry.http``, tracing in ``telemetry.tracing``.
"""

from .logs import (
    LOG_FORMATS,
    JsonFormatter,
    TextFormatter,
    bind,
    bound,
    configure_logging,
    log_context,
    parse_log_format,
    set_static,
    unbind,
)
from .outage import Outage, is_database_outage, outage

__all__ = [
    "LOG_FORMATS", "JsonFormatter", "Outage", "TextFormatter", "bind", "bound", "configure_logging",
    "is_database_outage", "log_context", "outage", "parse_log_format", "set_static", "unbind",
]
