"""Services talk only through events: no service's code imports another service's package.

Parsed with ``ast`` (nothing is imported), so a forbidden import anywhere — a handler, a
migration, code behind ``if TYPE_CHECKING`` — fails here before it can couple deployments.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES_DIR = ROOT / "services"
# Top-level packages owned by one deployable part each.
OWNED = {"leads", "accounts", "support", "notify", "gateway", "crm_embedded"}
SERVICES = sorted(p.name for p in SERVICES_DIR.iterdir() if (p / "pyproject.toml").exists())


def imported_packages(source: str, filename: str) -> set[str]:
    """Top-level names a module imports absolutely (relative imports stay in the package)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names.add(node.args[0].value.split(".")[0])
    return names


def test_services_are_found() -> None:
    assert {"leads", "accounts", "support", "notify"} <= set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_service_imports_no_other_service(service: str) -> None:
    files = [p for p in (SERVICES_DIR / service).rglob("*.py")
             if not any(part.endswith(".egg-info") or part == "build" for part in p.parts)]
    assert files, f"no Python files under services/{service}"
    forbidden = OWNED - {service}
    offenders = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in imported_packages(path.read_text(encoding="utf-8"), str(path)) & forbidden
    }
    assert not offenders, "services must talk through events, not imports:\n" + "\n".join(sorted(offenders))


def test_the_check_catches_imports() -> None:
    source = "import leads.models\nfrom accounts import events\nfrom . import domain\n" \
             "importlib.import_module('notify.app')\n"
    assert imported_packages(source, "x.py") == {"leads", "accounts", "notify"}
