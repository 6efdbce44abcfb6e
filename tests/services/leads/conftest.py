"""The leads app on a fresh database (SQLite and PostgreSQL); callers come from
tests/services/conftest.py, the user directory below names every user the tests make owners."""

from __future__ import annotations

import dataclasses

import pytest
from flask.testing import FlaskClient

from authn.directory import Directory
from leads.app import create_app
from leads.settings import Settings
from leads.wiring import LeadsContext, build
from testkit.issuer import TestIssuer

DIRECTORY = Directory.of(
    *((f"rep{n}", "sales_rep", "west" if n == 3 else "east") for n in range(1, 10)),
    ("manager", "sales_manager", "east"), ("west-manager", "sales_manager", "west"),
    ("admin", "admin", None), ("agent", "support_agent", "service"),
)


@pytest.fixture
def leads_ctx(db_url: str, isolated_bus: str) -> LeadsContext:
    settings = dataclasses.replace(Settings.from_env(), directory=DIRECTORY)
    return build(db_url, "memory://", settings=settings)


@pytest.fixture
def client(leads_ctx: LeadsContext, issuer: TestIssuer) -> FlaskClient:
    return create_app(leads_ctx, verifier=issuer.verifier()).test_client()
