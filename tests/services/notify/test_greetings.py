"""Greetings (§4.2): Friday drafts for key customers per rep, China-holiday greetings, Christmas
cards, the December gift list with the demand survey; reviewed and sent one by one, signed."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from notify.greetings import rules
from notify.policy.rules import NotifyPolicy
from notify.wiring import NotifyContext
from testkit.events import envelope, publish, running_worker, wait_settled

from .conftest import FakeClock

API = "/api/v1/notify/greetings"


def _local(y: int, m: int, d: int, h: int = 10) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(y, m, d, h, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_due_occasions_follow_the_calendar() -> None:
    p = NotifyPolicy()
    kinds = lambda d: {o.kind for o in rules.due_occasions(d, p)}  # noqa: E731
    assert kinds(_local(2026, 12, 4)) == {"weekly", "new_year_gift"}  # a Friday in December
    assert kinds(_local(2026, 11, 26)) == set()  # a Thursday in November
    assert kinds(_local(2026, 12, 20)) == {"christmas", "new_year_gift"}
    assert kinds(_local(2026, 12, 25)) == {"weekly", "new_year_gift"}  # Christmas day itself: too late
    spring = {o.label for o in rules.due_occasions(_local(2026, 2, 15), p) if o.kind == "holiday"}
    assert spring == {"除夕", "春节"}  # 2026-02-16 / 02-17, within 2 days
    assert rules.china_holidays_between(date(2026, 1, 1), date(2026, 1, 5)) == [(date(2026, 1, 1), "元旦")]


@pytest.fixture
def api(ctx: NotifyContext, issuer):  # type: ignore[no-untyped-def]
    from notify.app import create_app

    return create_app(ctx, verifier=issuer.verifier()).test_client()


def _account(
    owner: str,
    key: bool,
    mobile: str | None = "+8613800138000",
    email: str | None = "c@x.cn",
    name: str = "杭州竹业",
) -> dict[str, Any]:
    aid = str(uuid.uuid4())
    snapshot = {
        "id": aid,
        "code": "C-1",
        "name": name,
        "owner_id": owner,
        "owner_team": "east",
        "status": "active",
        "grade": "A" if key else "C",
        "key_customer": key,
        "timezone": "Asia/Shanghai",
        "contact": {"name": "王五", "title": "总", "mobile": mobile, "email": email},
        "version": 3,
    }
    return {
        "account_id": aid,
        "code": "C-1",
        "name": name,
        "owner_id": owner,
        "version": 3,
        "changed": {},
        "account": snapshot,
    }


def _cards(ctx: NotifyContext, *payloads: dict[str, Any]) -> None:
    with running_worker(ctx.bus) as bus:
        for data in payloads:
            publish(
                bus,
                envelope(
                    "accounts.account.updated.v1", data, subject=data["account_id"], source="crm/accounts"
                ),
            )
        wait_settled(bus, "handled", len(payloads))


def test_friday_drafts_are_per_rep_and_sent_one_by_one_signed(
    api,
    ctx: NotifyContext,
    clock: FakeClock,  # type: ignore[no-untyped-def]
    admin,
    rep1,
    rep2,
) -> None:
    key, plain, other = _account("rep1", True), _account("rep1", False), _account("rep2", True)
    _cards(ctx, key, plain, other)
    clock.now = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai
    ran = api.post(f"{API}/run", headers=admin)
    assert ran.status_code == 200 and ran.json["drafted"] == {"weekly": 2, "new_year_gift": 3}
    assert api.post(f"{API}/run", headers=admin).json["drafted"] == {}  # once per occasion
    weekly = api.get(f"{API}?kind=weekly", headers=rep1).json["items"]
    assert [g["account_id"] for g in weekly] == [key["account"]["id"]]
    [draft] = weekly
    assert draft["body"].startswith("王总,您好!") and "有任何需求和问题,请随时来电吩咐" in draft["body"]
    assert api.post(f"{API}/{draft['id']}/send", headers=rep2).status_code == 404
    sent = api.post(f"{API}/{draft['id']}/send", headers=rep1)
    assert sent.status_code == 202, sent.json
    assert sent.json["body"].endswith("本公司rep1") and sent.json["state"] == "queued"
    assert sent.json["purpose"] == "greeting" and sent.json["recipient_id"] == key["account"]["id"]
    assert api.post(f"{API}/{draft['id']}/send", headers=rep1).status_code == 409
    gifts = api.get(f"{API}?kind=new_year_gift", headers=rep1).json["items"]
    assert {g["customer_kind"] for g in gifts} == {"new"} and len(gifts) == 2
    done = api.post(f"{API}/{gifts[0]['id']}/done", headers=rep1, json={"survey": "2027年计划采购200台"})
    assert done.json["state"] == "done" and done.json["note"] == "2027年计划采购200台"
    assert (
        api.post(f"{API}/{gifts[1]['id']}/send", headers=rep1).status_code == 409
    )  # a gift is not a message


def test_an_edited_draft_must_still_follow_the_rules(
    api,
    ctx: NotifyContext,
    clock: FakeClock,  # type: ignore[no-untyped-def]
    admin,
    rep1,
) -> None:
    _cards(ctx, _account("rep1", True))
    clock.now = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    api.post(f"{API}/run", headers=admin)
    [draft] = api.get(f"{API}?kind=weekly", headers=rep1).json["items"]
    api.patch(f"{API}/{draft['id']}", headers=rep1, json={"body": "您好,周末愉快。本公司"})
    resp = api.post(f"{API}/{draft['id']}/send", headers=rep1)
    assert resp.status_code == 422 and {"body", "key_customer_phrase"} <= set(resp.json["errors"]["json"])
    assert api.post(f"{API}/{draft['id']}/discard", headers=rep1).json["state"] == "discarded"


def test_holiday_greetings_and_christmas_cards(api, ctx: NotifyContext, clock: FakeClock, admin) -> None:  # type: ignore[no-untyped-def]
    _cards(ctx, _account("rep1", True), _account("rep1", False, email=None), _account("rep2", False))
    clock.now = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)  # Sunday 20 December
    assert api.post(f"{API}/run", headers=admin).json["drafted"] == {"christmas": 2, "new_year_gift": 3}
    clock.now = datetime(2026, 12, 30, 2, 0, tzinfo=UTC)  # 元旦 in two days
    assert api.post(f"{API}/run", headers=admin).json["drafted"] == {"holiday": 1}
    [holiday] = api.get(f"{API}?kind=holiday", headers=admin).json["items"]
    assert holiday["label"] == "元旦" and "元旦将至" in holiday["body"] and holiday["channel"] == "sms"


def test_customer_cards_keep_the_newest_snapshot_and_the_first_sighting(ctx: NotifyContext) -> None:
    """Events overtaking each other: an older version never overwrites a newer card; a
    snapshot without a version always applies; ``first_seen_at`` stays the first time."""
    from notify.greetings.models import CustomerCard
    from notify.greetings.service import upsert_card

    snap = _account("rep1", True)["account"]
    first, later = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)

    def apply(at: datetime, **changes: Any) -> CustomerCard:
        with ctx.bus.session_factory() as s, s.begin():
            upsert_card(s, {**snap, **changes}, at)
        with ctx.bus.session_factory() as s:
            card = s.get(CustomerCard, snap["id"])
            assert card is not None
            return card

    card = apply(first, version=5, name="新名")
    assert (card.name, card.version, card.key_customer, card.mobile, card.contact_title) == (
        "新名", 5, True, "+8613800138000", "总")
    assert apply(later, version=4, name="旧名").name == "新名"  # older: ignored
    card = apply(later, version=5, name="同版", owner_id="rep2")  # same version: applies
    assert (card.name, card.owner_id) == ("同版", "rep2")
    card = apply(later, version=None, name="无版本", contact=None)
    assert (card.name, card.version, card.mobile, card.first_seen_at) == ("无版本", 0, None, first)
    with ctx.bus.session_factory() as s, s.begin():  # no owner: nothing kept
        upsert_card(s, {**snap, "id": "other", "owner_id": None}, later)
    with ctx.bus.session_factory() as s:
        assert s.get(CustomerCard, "other") is None
