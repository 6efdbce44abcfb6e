"""One outage is one warning and one "recovered" line, even when work in flight finishes late."""

from __future__ import annotations

import logging
import time

import pytest

from telemetry.outage import Outage


def test_work_already_under_way_does_not_end_the_outage(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="t")
    tracker = Outage("database", logging.getLogger("t"))
    before = time.monotonic()  # a transaction that started before the cut...
    assert tracker.failed("connection lost", "relay") is True
    tracker.ok(before)  # ...and finished after the first failure: proves nothing
    assert tracker.down
    assert tracker.failed("still lost") is False  # the same outage: no second warning
    tracker.ok(time.monotonic())  # work begun after the outage began
    assert not tracker.down
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and "unavailable (relay)" in warnings[0]
    assert warnings[1].startswith("database recovered after") and warnings[1].endswith("(2 failures)")
    tracker.ok()  # up already: nothing more
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2


def test_a_success_without_a_start_time_ends_it() -> None:
    tracker = Outage("broker", logging.getLogger("t3"))
    tracker.failed("down")
    tracker.ok()
    assert not tracker.down


def test_reset_forgets_without_a_line(caplog: pytest.LogCaptureFixture) -> None:
    tracker = Outage("broker", logging.getLogger("t2"))
    tracker.failed("down")
    caplog.clear()
    tracker.reset()
    assert not tracker.down and not caplog.records


def test_a_late_failure_of_work_begun_during_the_outage_opens_no_new_one(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="t4")
    tracker = Outage("database", logging.getLogger("t4"))
    tracker.failed("cut", "relay")
    during = time.monotonic()  # a pass that began while it was down...
    tracker.ok(time.monotonic())
    assert tracker.failed("broken connection", "timers", during) is False  # ...failing late
    assert not tracker.down
    assert tracker.failed("down again", "timers", time.monotonic()) is True  # a new outage
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3 and "down again" in warnings[2]
