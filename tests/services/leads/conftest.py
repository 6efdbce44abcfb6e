"""The leads app on a fresh PostgreSQL database; callers come from tests/services/conftest.py."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from leads.app import create_app
from leads.wiring import LeadsContext, build


@pytest.fixture
def leads_ctx(db_url: str, isolated_bus: str) -> LeadsContext:
    return build(db_url, "memory://")


@pytest.fixture
def client(leads_ctx: LeadsContext, issuer) -> FlaskClient:  # type: ignore[no-untyped-def]
    return create_app(leads_ctx, verifier=issuer.verifier()).test_client()
