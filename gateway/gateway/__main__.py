"""``crm-gateway`` / ``python -m gateway``: the gateway on waitress (``httpapi.serving``: a
deadline per request, problem documents for the server's own refusals, no Server header).
Distributed deployments run it under crm-web:
``crm-web --threads 8 'gateway.app:create_app()'``."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading

from httpapi.serving import ServerSettings, serve_in_thread

from .app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = serve_in_thread(create_app(), args.host, args.port, name="gateway",
                             settings=ServerSettings.from_env(os.environ))
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    server.stop()


if __name__ == "__main__":
    main()
