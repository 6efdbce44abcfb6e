"""The shipped alert rules and dashboard (deploy/monitoring) are valid and watch real series:
every rule and panel expression parses as PromQL (promql-parser, the Rust parser Prometheus'
own grammar is ported to), and every metric they name is in a scrape of a running service."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client import REGISTRY, generate_latest

from accounts.app import create_app
from accounts.wiring import build
from eventbus.worker import _watch_backlog
from testkit.issuer import TestIssuer

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "monitoring" / "prometheus-rules.yaml"
DASHBOARD = ROOT / "deploy" / "monitoring" / "grafana-dashboard.json"
OPERATIONS = ROOT / "docs" / "operations.md"


def metric_names(node: Any) -> set[str]:
    """The metric names a parsed PromQL expression selects."""
    found: set[str] = set()
    if type(node).__name__ == "VectorSelector" and getattr(node, "name", None):
        found.add(node.name)
    for attr in ("lhs", "rhs", "expr", "vector_selector", "param"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, str | int | float):
            found |= metric_names(child)
    for arg in getattr(node, "args", None) or ():
        found |= metric_names(arg)
    return found


def rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    doc = json.loads(DASHBOARD.read_text())
    return [t["expr"] for panel in doc["panels"] for t in panel.get("targets", [])]


def anchors() -> set[str]:
    """GitHub's heading ids of docs/operations.md."""
    out = set()
    for line in OPERATIONS.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            out.add(re.sub(r"[^a-z0-9 _-]", "", title).replace(" ", "-"))
    return out


def test_every_rule_parses_and_says_what_to_do() -> None:
    assert len(rules()) >= 8
    known = anchors()
    for rule in rules():
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert re.fullmatch(r"Crm[A-Za-z]+", rule["alert"])
        promql_parser.parse(rule["expr"])  # raises on anything Prometheus would refuse
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]
        runbook = rule["annotations"]["runbook"]
        assert runbook.startswith("docs/operations.md#") and runbook.split("#")[1] in known, runbook


def test_a_broken_expression_would_be_caught() -> None:
    with pytest.raises(ValueError):
        promql_parser.parse("sum(rate(crm_http_requests_total[5m])")


def test_dashboard_is_grafana_json_with_parsable_queries() -> None:
    doc = json.loads(DASHBOARD.read_text())
    assert doc["uid"] and doc["title"] and doc["panels"]
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids))
    for expr in dashboard_exprs():
        promql_parser.parse(expr)


def scraped_names(tmp_path: Path, issuer: TestIssuer) -> set[str]:
    """A scrape of a running service (web and worker series) after one request."""
    ctx = build(f"sqlite:///{tmp_path}/accounts.db", "memory://", migrate=True)
    client = create_app(ctx, verifier=issuer.verifier()).test_client()
    client.get("/ops/outbox", headers=issuer.headers("a", "admin")).close()
    _watch_backlog(ctx.bus)  # what the worker does at start
    text = generate_latest(REGISTRY).decode()
    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    return {line.split("{")[0].split(" ")[0] for line in samples}


def test_every_metric_used_exists_in_a_scrape(tmp_path: Path, issuer: TestIssuer) -> None:
    used: set[str] = set()
    for expr in [r["expr"] for r in rules()] + dashboard_exprs():
        used |= metric_names(promql_parser.parse(expr))
    assert {"crm_http_requests_total", "crm_outbox_unsent", "crm_event_handler_seconds_bucket"} <= used
    missing = used - scraped_names(tmp_path, issuer)
    assert not missing, f"rules or dashboard use series no service exposes: {sorted(missing)}"
