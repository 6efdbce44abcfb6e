"""Worker entrypoint of the notify service: ``notify-worker [run|outbox|parked|replay|depths]``."""

from __future__ import annotations

import sys

from eventbus.worker import main as worker_main

from .wiring import build


def main() -> None:
    sys.exit(worker_main(lambda: build().bus))


if __name__ == "__main__":
    main()
