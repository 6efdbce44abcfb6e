"""One embedded system (``crm-embedded`` in a subprocess, as ``make run`` starts it) for the whole
contract tier, and its numbers (operations, requests, failures) printed after the run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from testkit.embedded import Embedded, embedded_system

REQUEST_TIMEOUT = 4.0  # CRM_HTTP_REQUEST_TIMEOUT for this system (30 s by default)


@pytest.fixture(scope="package")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedded]:
    # Rate limits and login throttling stay on, as in `make run`, with room for one fuzzer.
    with embedded_system(tmp_path_factory.mktemp("contract") / "data",
                         GATEWAY_RATE_LIMIT="1000/s,burst=2000",
                         CRM_HTTP_REQUEST_TIMEOUT=str(REQUEST_TIMEOUT)) as system:
        yield system


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from contract.test_schemathesis import summary_lines

    lines = summary_lines()
    if lines:
        terminalreporter.section("contract (schemathesis)")
        for line in lines:
            terminalreporter.write_line(line)
