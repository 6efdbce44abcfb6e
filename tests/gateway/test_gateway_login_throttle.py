"""Sign-in at the built-in issuer: argon2 hashes, the same cost for unknown names, and a lockout
per account and per client address that refuses even the right password while it lasts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from argon2 import extract_parameters
from flask.testing import FlaskClient

from eventbus.testing import wait_for
from gateway import users
from gateway.config import GatewayConfig

TOKEN = "/api/v1/auth/token"


def _sign_in(client: FlaskClient, username: str, password: str, address: str = "127.0.0.1") -> Any:
    return client.post(TOKEN, json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_200_wrong_passwords_lock_the_account_and_the_right_one_is_refused_too(
        base_config: GatewayConfig, make_gateway: Callable[..., FlaskClient]) -> None:
    client = make_gateway(base_config)  # the defaults: 5 a minute, 20 an hour, 100 a day
    codes = [_sign_in(client, "rep1", f"guess-{i}").status_code for i in range(200)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    locked = _sign_in(client, "rep1", "crm-demo")
    assert locked.status_code == 429
    assert locked.content_type == "application/problem+json"
    assert 1 <= int(locked.headers["Retry-After"]) <= 60
    assert "access_token" not in locked.get_data(as_text=True)
    # The lock is the account's: the name typed differently is the same account ...
    assert _sign_in(client, " REP1 ", "crm-demo").status_code == 429
    # ... and another account is not locked.
    assert _sign_in(client, "rep2", "crm-demo").status_code == 200


def test_the_lock_ends_and_a_success_clears_the_failures(
        base_config: GatewayConfig, make_gateway: Callable[..., FlaskClient]) -> None:
    client = make_gateway(base_config, login_account_limits="3 per 2 seconds")
    assert [_sign_in(client, "rep1", "wrong").status_code for _ in range(4)] == [401, 401, 401, 429]
    wait_for(lambda: _sign_in(client, "rep1", "crm-demo").status_code == 200, 10, interval=0.3,
             message="lock over")
    # Cleared by the success: three more mistakes are allowed again before the lock.
    assert [_sign_in(client, "rep1", "wrong").status_code for _ in range(4)] == [401, 401, 401, 429]


def test_one_address_trying_many_accounts_is_locked_but_not_other_addresses(
        base_config: GatewayConfig, make_gateway: Callable[..., FlaskClient]) -> None:
    client = make_gateway(base_config, login_address_limits="4/minute")
    spray = [_sign_in(client, f"user{i}", "crm-demo", "198.51.100.7").status_code for i in range(6)]
    assert spray == [401, 401, 401, 401, 429, 429]
    assert _sign_in(client, "rep1", "crm-demo", "198.51.100.7").status_code == 429
    assert _sign_in(client, "rep1", "crm-demo", "203.0.113.9").status_code == 200


def test_unknown_names_are_counted_and_locked_like_known_ones(
        base_config: GatewayConfig, make_gateway: Callable[..., FlaskClient]) -> None:
    """Otherwise the lockout itself would tell which names exist."""
    client = make_gateway(base_config)
    for name in ("rep1", "nobody-here"):
        codes = [_sign_in(client, name, "wrong").status_code for _ in range(6)]
        assert codes == [401] * 5 + [429], name


def test_throttling_off_when_configured_so(base_config: GatewayConfig,
                                          make_gateway: Callable[..., FlaskClient]) -> None:
    client = make_gateway(base_config, login_account_limits="", login_address_limits="")
    assert {_sign_in(client, "rep1", "wrong").status_code for _ in range(8)} == {401}


def test_demo_passwords_are_argon2_hashes_and_unknown_names_cost_the_same(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert users.DEMO_PASSWORD_HASH.startswith("$argon2id$")
    assert users.DEMO_PASSWORD not in users.DEMO_PASSWORD_HASH
    assert all(u.password_hash.startswith("$argon2id$") for u in users.DEMO_USERS.values())
    assert extract_parameters(users._NOBODY_HASH) == extract_parameters(users.DEMO_PASSWORD_HASH)
    checked: list[str] = []
    real = users.HASHER

    class Spy:  # records which hash each attempt was checked against, then checks it for real
        def verify(self, hash_: str, password: str) -> bool:
            checked.append(hash_)
            return real.verify(hash_, password)

    monkeypatch.setattr(users, "HASHER", Spy())
    assert users.authenticate(users.DEMO_USERS, "rep1", "crm-demo") is not None
    assert users.authenticate(users.DEMO_USERS, "rep1", "wrong") is None
    assert users.authenticate(users.DEMO_USERS, "nobody", "crm-demo") is None
    assert checked == [users.DEMO_PASSWORD_HASH, users.DEMO_PASSWORD_HASH, users._NOBODY_HASH]
