"""``crm-gateway`` / ``python -m gateway``: the gateway on a threaded development server.
Production runs it under gunicorn: ``gunicorn -k gthread --threads 8 'gateway.app:create_app()'``."""

from __future__ import annotations

import argparse
import logging

from werkzeug.serving import run_simple

from .app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_simple(args.host, args.port, create_app(), threaded=True)


if __name__ == "__main__":
    main()
