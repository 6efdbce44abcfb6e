"""The web commands Compose and Kubernetes run (there is no container engine here to start
them): each one is a ``crm-web`` invocation its own parser accepts, bound where the manifests'
ports and probes expect, naming an app factory that exists."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from telemetry.webserver import parse_args

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
WEB_ROLES = {"leads", "accounts", "support", "notify", "gateway"}


def _commands(node: Any) -> Iterator[list[str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "command" and isinstance(value, list) and value and value[0] == "crm-web":
                yield value
            else:
                yield from _commands(value)
    elif isinstance(node, list):
        for item in node:
            yield from _commands(item)


def _web_commands() -> list[tuple[str, list[str]]]:
    found = []
    for path in [DEPLOY / "compose" / "compose.yaml", *sorted((DEPLOY / "k8s").glob("*.yaml"))]:
        for document in yaml.safe_load_all(path.read_text()):
            found += [(f"{path.parent.name}/{path.name}", command) for command in _commands(document)]
    return found


def test_every_web_role_is_run_by_crm_web_in_both_deployments() -> None:
    roles = {(where.split("/")[0], parse_args(command[1:], {}).app.split(".")[0])
             for where, command in _web_commands()}
    assert roles == {(kind, role) for kind in ("compose", "k8s") for role in WEB_ROLES}


@pytest.mark.parametrize(("where", "command"), _web_commands(), ids=lambda x: x if isinstance(x, str) else "")
def test_a_deployed_web_command_parses_and_names_a_real_factory(where: str, command: list[str]) -> None:
    args = parse_args(command[1:], {})
    assert args.host == "0.0.0.0"  # reachable from other containers and the kubelet's probes
    assert args.port == (8080 if args.app.startswith("gateway.") else 8000)
    assert args.app.endswith("()"), "a factory: each worker builds its own app"
    module, _, name = args.app.removesuffix("()").partition(":")
    assert callable(getattr(importlib.import_module(module), name))
