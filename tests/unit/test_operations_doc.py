"""docs/operations.md stays honest: every command in its Commands table exists and accepts
every option the table names (its ``--help`` lists them), and every ``make`` target it tells
an operator to run exists."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "docs" / "operations.md"
BIN = Path(sys.executable).parent


def commands_table() -> list[list[str]]:
    """The backticked command parts of each row of the "## Commands" table."""
    text = OPERATIONS.read_text()
    section = text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) >= 10, "the Commands table lost its rows"
    return [re.findall(r"`([^`]+)`", row.split(" | ")[0]) for row in rows]


ROWS = commands_table()


@pytest.mark.parametrize("parts", ROWS, ids=[parts[0] for parts in ROWS])
def test_each_documented_command_exists_with_its_options(parts: list[str], tmp_path: Path) -> None:
    words = parts[0].replace("<svc>", "leads").split()
    exe = words[0]
    env = {**os.environ, "LEADS_DATABASE_URL": f"sqlite:///{tmp_path}/leads.db", "EVENTS_BROKER_URL": "memory://"}
    if exe == "crm-healthcheck":  # installed only in the image: the script itself, harmlessly
        done = subprocess.run([sys.executable, str(ROOT / "deploy/docker/healthcheck.py"),
                               "http://127.0.0.1:1/readyz", "1"], capture_output=True, text=True, timeout=30)
        assert done.returncode == 1 and "unhealthy" in done.stderr
        return
    sub = [w for w in words[1:2] if re.fullmatch(r"[a-z]+", w)]
    if exe == "crm-events":
        sub = ["--service", "leads"]
    elif exe == "crm-broker-users":
        sub = []  # its commands are one positional choice, listed in --help
    done = subprocess.run([str(BIN / exe), *sub, "--help"], capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    assert done.returncode == 0, f"{exe} {' '.join(sub)} --help failed:\n{done.stderr}"
    documented = {opt for part in parts for opt in re.findall(r"--[a-z][a-z-]*", part)}
    documented |= {w for part in parts if exe == "crm-broker-users"
                   for w in re.findall(r"\b(definitions|apply|show|delete)\b", part)}
    if exe == "crm-events":
        documented.discard("--service")  # consumed by crm-events itself, before the tools' parser
    missing = {opt for opt in documented if opt not in done.stdout}
    assert not missing, f"docs/operations.md names {sorted(missing)} for {exe}, which its --help lacks"


def test_every_make_target_the_docs_name_exists() -> None:
    docs = OPERATIONS.read_text() + (ROOT / "README.md").read_text()
    named = set(re.findall(r"`(?:[A-Z_]+=\S+ )*make ([a-z][a-z-]*)", docs))
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    assert {"up", "down", "migrate", "backup"} <= named
    assert named <= targets, f"documented make targets missing from the Makefile: {sorted(named - targets)}"
