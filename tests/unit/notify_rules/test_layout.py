"""The notify service's layout rules: no import cycles between its modules (function-level
imports included), capabilities never import another capability's ``api``, rules stay pure."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3] / "services" / "notify" / "notify"
PURE_FORBIDDEN = {"flask", "sqlalchemy", "httpapi"}  # eventbus.topology (pure) is allowed


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
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


def test_no_import_cycles() -> None:
    modules = _modules()
    graph = {m: _imports(m, p, set(modules)) & set(modules) for m, p in modules.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif not state.get(nxt):
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if not state.get(module):
            visit(module, [])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)
    assert len(graph) > 50


def test_capabilities_never_import_an_api_and_rules_are_pure() -> None:
    modules = _modules()
    for name, path in modules.items():
        imported = _imports(name, path, set(modules))
        if not name.endswith((".app", "notify.app")):
            apis = {m for m in imported if m.endswith(".api")}
            assert not apis, f"{name} imports {apis}"
        if name.endswith(".rules"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            roots = {
                a.name.split(".")[0]
                for node in ast.walk(tree)
                if isinstance(node, ast.Import)
                for a in node.names
            }
            roots |= {
                node.module.split(".")[0]
                for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module and not node.level
            }
            assert not roots & PURE_FORBIDDEN, f"{name} imports {roots & PURE_FORBIDDEN}"
