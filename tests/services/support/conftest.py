from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from support.app import create_app
from support.readmodel.models import KnownAccount
from support.wiring import SupportContext, build


@pytest.fixture
def support_ctx(db_url: str, isolated_bus: str) -> SupportContext:
    return build(db_url, "memory://")


@pytest.fixture
def client(support_ctx: SupportContext, issuer) -> FlaskClient:  # type: ignore[no-untyped-def]
    return create_app(support_ctx, verifier=issuer.verifier()).test_client()


@pytest.fixture
def known_account(support_ctx: SupportContext) -> Callable[..., str]:
    """Put an account straight into the read model (as if accounts' event had arrived)."""

    def add(account_id: str, owner_id: str = "rep1", owner_team: str | None = "east",
            code: str = "C-000001", name: str = "Ningbo Harbour Trading") -> str:
        with support_ctx.bus.session_factory() as s, s.begin():
            s.add(KnownAccount(account_id=account_id, name=name, code=code, owner_id=owner_id,
                               owner_team=owner_team, version=1, updated_at=datetime.now(UTC)))
        return account_id

    return add
