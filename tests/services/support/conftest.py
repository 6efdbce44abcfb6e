"""Fixtures of the support service's API tests: the app on a fake clock, the accounts read model
filled directly, and a caller per role."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from support.app import create_app
from support.readmodel.models import KnownAccount
from support.scheduler import run_all
from support.wiring import SupportContext, build
from testkit.issuer import TestIssuer

# Monday 2 March 2026, 10:00 in Shanghai: an ordinary working day.
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> datetime:
        self.now = moment.astimezone(UTC)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def support_ctx(db_url: str, isolated_bus: str, clock: FakeClock) -> SupportContext:
    return build(db_url, "memory://", clock=clock)


@pytest.fixture
def client(support_ctx: SupportContext, issuer: TestIssuer) -> FlaskClient:
    return create_app(support_ctx, verifier=issuer.verifier()).test_client()


@pytest.fixture
def timers(support_ctx: SupportContext, clock: FakeClock) -> Callable[[], dict[str, int]]:
    """One pass of every scheduler at the fake clock's time (what the worker runs)."""

    def run() -> dict[str, int]:
        return dict(run_all(support_ctx.bus.session_factory, support_ctx.bus, clock()))

    return run


@pytest.fixture
def known_account(support_ctx: SupportContext) -> Callable[..., str]:
    """Put an account straight into the read model (as if accounts' event had arrived)."""

    def add(
        account_id: str,
        owner_id: str = "rep1",
        owner_team: str | None = "east",
        code: str = "C-000001",
        name: str = "Ningbo Harbour Trading",
        **extra: Any,
    ) -> str:
        with support_ctx.bus.session_factory() as s, s.begin():
            s.add(
                KnownAccount(
                    account_id=account_id,
                    name=name,
                    code=code,
                    owner_id=owner_id,
                    owner_team=owner_team,
                    version=1,
                    updated_at=datetime.now(UTC),
                    status="active",
                    **extra,
                )
            )
        return account_id

    return add


def _headers(issuer: TestIssuer, sub: str, role: str, team: str | None = None) -> dict[str, str]:
    return issuer.headers(sub, role, team=team)


@pytest.fixture
def agent2(issuer: TestIssuer) -> dict[str, str]:
    return _headers(issuer, "agent2", "support_agent", "service")


@pytest.fixture
def supervisor(issuer: TestIssuer) -> dict[str, str]:
    return _headers(issuer, "supervisor", "support_supervisor", "service")


@pytest.fixture
def tech(issuer: TestIssuer) -> dict[str, str]:
    return _headers(issuer, "tech", "technician", "service")


@pytest.fixture
def tech2(issuer: TestIssuer) -> dict[str, str]:
    return _headers(issuer, "tech2", "technician", "service")


@pytest.fixture
def qa(issuer: TestIssuer) -> dict[str, str]:
    return _headers(issuer, "qa", "quality_inspector", "service")


@pytest.fixture
def opsmgr(issuer: TestIssuer) -> dict[str, str]:
    return _headers(issuer, "opsmgr", "sales_ops_manager")


@pytest.fixture
def gm(issuer: TestIssuer) -> dict[str, str]:
    return _headers(issuer, "gm", "sales_gm")


@pytest.fixture
def ceo(issuer: TestIssuer) -> dict[str, str]:
    return _headers(issuer, "ceo", "group_gm")
