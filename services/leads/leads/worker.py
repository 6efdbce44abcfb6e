"""Worker entrypoint of the leads service: ``leads-worker [COMMAND]`` (run, migrate, operator tools).

``run`` (the default) runs the event bus worker (relay and consumer) and the service's
background jobs (its context's ``background``); all stop on the same signal.
"""

from __future__ import annotations

import sys

from eventbus.worker import configure_logging
from eventbus.worker import main as worker_main
from leads.settings import Settings
from leads.wiring import build


def main(argv: list[str] | None = None) -> None:
    settings = Settings.from_env()  # the one parse of this process's environment
    configure_logging(settings.log_level, settings.log_format, service=settings.service)
    # Built without migrating: ``run`` and ``migrate`` migrate explicitly, the tools never do.
    sys.exit(worker_main(lambda: build(settings=settings, migrate=False),
                         sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
