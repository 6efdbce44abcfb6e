from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from leads.app import create_app
from leads.wiring import LeadsContext, build


@pytest.fixture
def leads_ctx(pg_url: str, isolated_bus: str) -> LeadsContext:
    return build(pg_url, "memory://")


@pytest.fixture
def client(leads_ctx: LeadsContext, issuer) -> FlaskClient:  # type: ignore[no-untyped-def]
    return create_app(leads_ctx, verifier=issuer.verifier()).test_client()


@pytest.fixture
def rep1(issuer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return issuer.headers("rep1", "sales_rep", team="east")


@pytest.fixture
def rep2(issuer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return issuer.headers("rep2", "sales_rep", team="east")


@pytest.fixture
def manager(issuer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return issuer.headers("manager", "sales_manager", team="east")


@pytest.fixture
def admin(issuer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return issuer.headers("admin", "admin")
