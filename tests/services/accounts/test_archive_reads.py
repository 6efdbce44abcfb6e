"""Reads of the archive: the card and the list take a fixed number of SQL statements whatever the
account holds (guards against N+1 queries), the card read path answers what the write path
answers, and the card's credit limit is the limit in force."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, update

from accounts.credit.hooks import credit_columns
from accounts.credit.models import CreditAccount
from accounts.models import Account
from accounts.wiring import AccountsContext

pytestmark = pytest.mark.integration
URL = "/api/v1/accounts"


@pytest.fixture
def clerk(issuer):  # type: ignore[no-untyped-def]
    return issuer.headers("clerk", "archive_clerk")


@contextmanager
def statements(ctx: AccountsContext) -> Iterator[list[str]]:
    """The SQL statements the service sends while the block runs (transaction control aside:
    SQLite's explicit ``BEGIN IMMEDIATE``)."""
    engine = ctx.bus.session_factory.kw["bind"]
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if not sql.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            sent.append(sql)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _open(client, headers, n: int, owner: str = "rep1", team: str = "east") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    body = {"name": f"Harbour {n}", "company": f"Harbour {n}", "phone": f"0574 8765 {n:04d}",
            "owner_id": owner, "owner_team": team}
    resp = client.post(URL, json=body, headers=headers)
    assert resp.status_code == 201, resp.json
    return resp.json  # type: ignore[no-any-return]


def _fill(client, headers, account_id: str, contacts: int, history: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    url = f"{URL}/{account_id}"
    edited = client.patch(url, json={"reason": "r", "bank_account": "6222020200112233445", "contacts": [
        {"category": "primary" if i == 0 else "secondary", "name": f"P{i}",
         "mobile": f"1391234{i:04d}"} for i in range(contacts)]}, headers=headers)
    assert edited.status_code == 200, edited.json
    for i in range(history):
        assert client.post(f"{url}/violations", json={
            "occurred_on": f"2026-10-{i + 1:02d}", "kind": "late", "description": f"v{i}"},
            headers=headers).status_code == 201
        assert client.post(f"{url}/evaluations", json={"evaluator": "GM", "text": f"e{i}"},
                           headers=headers).status_code == 201
    return edited.json  # type: ignore[no-any-return]


def test_card_is_two_statements_whatever_it_holds(client, clerk, issuer, accounts_ctx):  # type: ignore[no-untyped-def]
    small = _open(client, clerk, 1)
    big = _open(client, clerk, 2)
    _fill(client, clerk, small["id"], contacts=1, history=0)
    _fill(client, clerk, big["id"], contacts=6, history=4)
    rep = issuer.headers("rep1", "sales_rep", team="east")
    for account, headers, contacts in ((small, clerk, 1), (big, clerk, 6), (big, rep, 6)):
        with statements(accounts_ctx) as sent:
            card = client.get(f"{URL}/{account['id']}", headers=headers)
        assert card.status_code == 200
        assert len(card.json["contacts"]) == contacts
        assert len(sent) == 2, sent
    outsider = issuer.headers("rep9", "sales_rep", team="west")
    with statements(accounts_ctx) as sent:
        assert client.get(f"{URL}/{big['id']}", headers=outsider).status_code == 404
    assert len(sent) == 1  # refused on the account row, before its history is read


def test_list_is_one_statement_whatever_the_page_holds(client, clerk, issuer, accounts_ctx):  # type: ignore[no-untyped-def]
    manager = issuer.headers("mgr", "sales_manager", team="east")
    rep = issuer.headers("rep1", "sales_rep", team="east")
    first = _open(client, clerk, 1)
    _fill(client, clerk, first["id"], contacts=3, history=1)
    for n in range(2, 6):
        _open(client, clerk, n, owner="rep1" if n % 2 else "rep2")
    cursor = client.get(f"{URL}?limit=2", headers=clerk).json["next_cursor"]
    for headers, query, count in ((clerk, "", 5), (manager, "", 5), (rep, "", 3),
                                  (clerk, "q=harbour", 5), (clerk, "q=13912340001", 1),
                                  (clerk, "limit=2", 2), (clerk, f"limit=2&cursor={cursor}", 2)):
        with statements(accounts_ctx) as sent:
            page = client.get(f"{URL}?{query}", headers=headers)
        assert page.status_code == 200
        assert len(page.json["items"]) == count, (query, page.json)
        assert len(sent) == 1, sent


def test_card_read_answers_what_the_write_answers(client, clerk, issuer):  # type: ignore[no-untyped-def]
    account = _open(client, clerk, 1)
    client.post(f"{URL}/{account['id']}/violations", json={
        "occurred_on": "2026-10-01", "kind": "late", "description": "v"}, headers=clerk)
    written = _fill(client, clerk, account["id"], contacts=3, history=0)
    read = client.get(f"{URL}/{account['id']}", headers=clerk).json
    assert read == written
    assert [c["name"] for c in read["contacts"]] == ["P0", "P1", "P2"]  # in their order
    assert read["bank_account"] == "6222020200112233445"
    masked = client.get(f"{URL}/{account['id']}", headers=issuer.headers("rep1", "sales_rep")).json
    assert masked["bank_account"] == "***************3445"
    assert {k: v for k, v in masked.items() if k != "bank_account"} == \
        {k: v for k, v in read.items() if k != "bank_account"}
    empty = _open(client, clerk, 2)
    card = client.get(f"{URL}/{empty['id']}", headers=clerk).json
    assert card == empty and card["contacts"] == [] and card["violations"] == []
    assert client.get(f"{URL}/{'x' * 37}", headers=clerk).status_code == 404
    assert client.get(f"{URL}/no-such-account", headers=clerk).status_code == 404


@pytest.mark.parametrize(("effective", "temporary", "shown"), [
    (Decimal("100000.00"), Decimal("20000.50"), "120000.50"),
    (Decimal("720.00"), Decimal("0.00"), "720.00"),
    (None, Decimal("5000.00"), None),  # no limit in force: cash before delivery
])
def test_card_credit_limit_is_the_limit_in_force(client, clerk, accounts_ctx, effective, temporary,  # type: ignore[no-untyped-def]
                                                 shown):
    account = _open(client, clerk, 1)
    assert client.get(f"{URL}/{account['id']}", headers=clerk).json["credit_limit"] is None
    with accounts_ctx.bus.session_factory() as session, session.begin():
        session.add(CreditAccount(account_id=account["id"], currency="CNY", effective_limit=effective,
                                  temporary_increase=temporary, inputs={}))
    assert client.get(f"{URL}/{account['id']}", headers=clerk).json["credit_limit"] == shown
    with accounts_ctx.bus.session_factory() as session:
        limit = credit_columns(session, [account["id"]])[account["id"]].credit_limit
    assert (f"{limit:.2f}" if limit is not None else None) == shown


def test_reads_leave_pooled_connections_transactional(client, clerk, accounts_ctx):  # type: ignore[no-untyped-def]
    """The card and the list read without a transaction on PostgreSQL; the connection they
    return to the pool must be transactional again for the next writer."""
    account = _open(client, clerk, 1)
    for _ in range(3):
        assert client.get(f"{URL}/{account['id']}", headers=clerk).status_code == 200
        assert client.get(URL, headers=clerk).status_code == 200
    with accounts_ctx.bus.session_factory() as session:
        session.execute(update(Account).where(Account.id == account["id"]).values(name="Rolled back"))
        session.rollback()
    assert client.get(f"{URL}/{account['id']}", headers=clerk).json["name"] == "Harbour 1"
