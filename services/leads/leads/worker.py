"""Worker entrypoint of the leads service: ``leads-worker [run|outbox|parked|replay|depths]``.

``run`` (the default) runs the event bus worker (relay and consumer) and, next to it, the cadence
scheduler every ``LEADS_CADENCE_INTERVAL`` seconds (default 60) with the context's clock; both stop
on the same signal.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

from eventbus.worker import main as worker_main
from eventbus.worker import run as worker_run

from .wiring import build, start_background


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args in ([], ["run"]):
        logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                            format="%(asctime)s %(levelname)s %(name)s %(message)s")
        ctx = build()
        stop = threading.Event()
        start_background(ctx, stop)
        sys.exit(worker_run(ctx.bus, stop))
    sys.exit(worker_main(lambda: build().bus, args))


if __name__ == "__main__":
    main()
