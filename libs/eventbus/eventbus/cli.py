"""``crm-events``: the operator tools for any service, without that service's code installed.

``crm-events --service leads parked`` works from an operator's shell with only the event bus
library: the tools need the service's name (queue names), its database (the outbox) and the
broker, all from the environment (``<SERVICE>_DATABASE_URL`` or ``DATABASE_URL``,
``EVENTS_BROKER_URL``). The console script was declared before this module existed, so
installing the library used to produce a ``crm-events`` that failed on import.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from sqlalchemy import MetaData, create_engine

from telemetry import parse_log_format

from .runtime import ServiceBus
from .settings import BusSettings
from .worker import BusOnly, configure_logging
from .worker import main as worker_main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="crm-events", add_help=False,
        description="Event-bus operator tools: outbox, parked, replay, depths (see --service NAME -h)",
    )
    parser.add_argument("--service", required=True, help="service name, e.g. leads")
    parser.add_argument("--database-url", help="default: <SERVICE>_DATABASE_URL or DATABASE_URL")
    args, rest = parser.parse_known_args(argv)
    # This entrypoint is its own process: the environment is parsed here, once.
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"),
                      parse_log_format(os.environ.get("LOG_FORMAT"), "json"), service=args.service)
    settings = BusSettings.from_env()
    url = (args.database_url or os.environ.get(f"{args.service.upper()}_DATABASE_URL")
           or os.environ.get("DATABASE_URL"))
    if not url:
        parser.error(f"no database: pass --database-url or set {args.service.upper()}_DATABASE_URL")

    def make_context() -> BusOnly:
        # No subscriptions: the tools only need queue names, and ``run`` is then a relay alone.
        return BusOnly(ServiceBus(service=args.service, engine=create_engine(url), metadata=MetaData(),
                                  settings=settings))

    return worker_main(make_context, rest or ["-h"])


if __name__ == "__main__":
    sys.exit(main())
