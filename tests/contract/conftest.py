"""Prints the contract tier's numbers (operations, test cases, failures) after the run."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from contract.test_schemathesis import summary_lines

    lines = summary_lines()
    if lines:
        terminalreporter.section("contract (schemathesis)")
        for line in lines:
            terminalreporter.write_line(line)
