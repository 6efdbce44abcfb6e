"""``crm-embedded``: run the whole CRM in this process until Ctrl-C / SIGTERM."""

from __future__ import annotations

import os
import signal
import threading

from telemetry import configure_logging, parse_log_format

from .runner import EmbeddedConfig, EmbeddedSystem


def main() -> None:
    # For a person at a terminal: text lines by default (LOG_FORMAT=json for a log shipper).
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"),
                      parse_log_format(os.environ.get("LOG_FORMAT"), "text"))
    system = EmbeddedSystem(EmbeddedConfig.from_env())
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    system.start()
    url = system.config.gateway_url
    print(
        "\nCRM is running (embedded mode: SQLite per service, in-process broker)\n"
        f"  gateway   {url}\n"
        f"  API docs  {url}/docs\n"
        f"  OpenAPI   {url}/api/v1/openapi.json\n"
        f"  data      {system.config.data_dir}/\n"
        "  demo users admin, manager, rep1, rep2, agent (password: crm-demo)\n"
        f"  admin token (1 h):\n{system.demo_token()}\n\n"
        f"  try: curl -H 'Authorization: Bearer <token>' {url}/api/v1/leads\n"
        "Press Ctrl-C to stop.",
        flush=True,
    )
    done.wait()
    print("stopping…", flush=True)
    system.shutdown()


if __name__ == "__main__":
    main()
