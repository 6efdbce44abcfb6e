"""Callers every service's API tests use: two reps and a manager of team east, a manager of
team west, an admin, a support agent, an integration and someone with no CRM role."""

from __future__ import annotations

import pytest


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
def west_manager(issuer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return issuer.headers("west-manager", "sales_manager", team="west")


@pytest.fixture
def admin(issuer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return issuer.headers("admin", "admin")


@pytest.fixture
def agent(issuer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return issuer.headers("agent", "support_agent")


@pytest.fixture
def integration(issuer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return issuer.headers("erp", "integration")


@pytest.fixture
def nobody(issuer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return issuer.headers("guest", "guest")
