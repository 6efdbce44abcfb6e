from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from accounts.app import create_app
from accounts.wiring import AccountsContext, build


@pytest.fixture
def accounts_ctx(db_url: str, isolated_bus: str) -> AccountsContext:
    return build(db_url, "memory://")


@pytest.fixture
def client(accounts_ctx: AccountsContext, issuer) -> FlaskClient:  # type: ignore[no-untyped-def]
    return create_app(accounts_ctx, verifier=issuer.verifier()).test_client()
