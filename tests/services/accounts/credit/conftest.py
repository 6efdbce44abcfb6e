"""Credit tests: the accounts service on an injected clock, with helpers to open an account,
approve its archive and post ledger rows through the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from accounts.app import create_app
from accounts.limits.service import on_archive_approved
from accounts.models import Account
from accounts.wiring import AccountsContext, build

START = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)  # 10:00 in China, Monday 15 June 2026


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def credit_ctx(db_url: str, isolated_bus: str, clock: Clock) -> AccountsContext:
    return build(db_url, "memory://", clock=clock)


@pytest.fixture
def api(credit_ctx: AccountsContext, issuer) -> FlaskClient:  # type: ignore[no-untyped-def]
    return create_app(credit_ctx, verifier=issuer.verifier()).test_client()


@pytest.fixture
def hdr(issuer) -> Callable[..., dict[str, str]]:  # type: ignore[no-untyped-def]
    def make(sub: str, *roles: str, team: str | None = None) -> dict[str, str]:
        return issuer.headers(sub, *(roles or (sub,)), team=team)
    return make


@pytest.fixture
def finance(hdr) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return hdr("finance", "finance")


@pytest.fixture
def open_account(api: FlaskClient, admin: dict[str, str]) -> Callable[..., str]:
    def make(name: str = "Ningbo Harbour Trading", owner_id: str = "rep1",
             owner_team: str = "east") -> str:
        resp = api.post("/api/v1/accounts", headers=admin, json={
            "name": name, "company": name, "owner_id": owner_id, "owner_team": owner_team})
        assert resp.status_code == 201, resp.json
        return str(resp.json["id"])
    return make


@pytest.fixture
def approve_archive(credit_ctx: AccountsContext) -> Callable[[str], None]:
    """What the archive's approval event does (the consumer test drives the real event)."""
    def approve(account_id: str) -> None:
        with credit_ctx.bus.session_factory() as session, session.begin():
            account = session.get(Account, account_id)
            assert account is not None
            on_archive_approved(session, credit_ctx.bus.emit, account, now=credit_ctx.clock(),
                                actor="ceo")
    return approve


@pytest.fixture
def post(api: FlaskClient) -> Callable[..., Any]:
    def call(url: str, headers: dict[str, str], body: dict[str, Any] | None = None,
             status: int | tuple[int, ...] = 201) -> Any:
        resp = api.post(url, headers=headers, json=body if body is not None else {})
        expected = status if isinstance(status, tuple) else (status,)
        assert resp.status_code in expected, (resp.status_code, resp.json)
        return resp.json
    return call


@pytest.fixture
def set_grade(credit_ctx: AccountsContext) -> Callable[[str, str], None]:
    """The archive's grade as the review group would leave it (grading is issue 8's)."""
    def grade(account_id: str, value: str) -> None:
        with credit_ctx.bus.session_factory() as session, session.begin():
            account = session.get(Account, account_id)
            assert account is not None
            account.grade = value
    return grade
