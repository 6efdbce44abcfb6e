"""``crm-migrate [--service NAME ...]``: bring every service's schema to this release's heads.

Each service migrates under its PostgreSQL advisory lock, so running this while the previous
release serves, or twice, is safe. Prints one JSON line per service; stops at the first
failure with exit status 1 and the reason (never a silent success: the schema is checked
after migrating). ``<service>-worker migrate`` does the same for one service.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence

from telemetry import configure_logging, parse_log_format

from . import SERVICES


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crm-migrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--service", action="append", choices=SERVICES,
                        help="only this service (repeatable); default: all four")
    args = parser.parse_args(argv)
    configure_logging(os.environ.get("LOG_LEVEL", "WARNING"),
                      parse_log_format(os.environ.get("LOG_FORMAT"), "text"))
    for service in args.service or SERVICES:
        try:
            settings = importlib.import_module(f"{service}.settings").Settings.from_env()
            ctx = importlib.import_module(f"{service}.wiring").build(settings=settings, migrate=False)
            result = ctx.migrate()
            ctx.bus.engine.dispose()
        except Exception as exc:  # noqa: BLE001 - one line, non-zero exit
            print(f"error: {service}: {exc}", file=sys.stderr)
            return 1
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
