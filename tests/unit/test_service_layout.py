"""Capability layout rules of each service: no module imports another capability's ``api``
(only the app wires them), and ``rules`` modules stay pure (no web, database or bus). Import
cycles are tests/unit/test_import_cycles.py's job, for every service and library."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "services"
IMPURE = {"flask", "sqlalchemy", "eventbus", "httpapi"}
# notify's rules may use eventbus.topology's pure pattern matching.
ALLOWED = {"notify": {"eventbus"}}


def _modules(root: Path) -> dict[str, Path]:
    out = {}
    for path in root.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(root.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found |= {c for c in [target, *(f"{target}.{a.name}" for a in node.names)] if c in known}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found - {name}


def _roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = {a.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for a in node.names}
    return roots | {node.module.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module and not node.level}


@pytest.mark.parametrize("service", ["support", "notify"])
def test_capabilities_never_import_an_api_and_rules_are_pure(service: str) -> None:
    modules = _modules(SERVICES / service / service)
    assert len(modules) > 40
    forbidden = IMPURE - ALLOWED.get(service, set())
    for name, path in modules.items():
        if not name.endswith(".app"):
            apis = {m for m in _imports(name, path, set(modules)) if m.endswith(".api")}
            assert not apis, f"{name} imports {apis}"
        if name.endswith(".rules"):
            assert not _roots(path) & forbidden, f"{name} imports {_roots(path) & forbidden}"
