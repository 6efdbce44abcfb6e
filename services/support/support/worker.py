"""Worker entrypoint of the support service: ``support-worker [run|outbox|parked|replay|depths]``."""

from __future__ import annotations

import os
import sys

from eventbus.worker import main as worker_main

from .wiring import build


def main() -> None:
    sys.exit(worker_main(lambda: build(migrate=os.environ.get("MIGRATE_ON_START", "1") == "1").bus))


if __name__ == "__main__":
    main()
