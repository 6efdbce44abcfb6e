"""The notify API: preferences, templates (strict, sandboxed, preview), messages (individual,
signed, weekend rules), role-addressed notifications and the audited policy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from notify.models import Notification
from notify.wiring import NotifyContext

from .conftest import FakeClock

pytestmark = pytest.mark.integration
API = "/api/v1/notify"


@pytest.fixture
def api(ctx: NotifyContext, issuer):  # type: ignore[no-untyped-def]
    from notify.app import create_app

    return create_app(ctx, verifier=issuer.verifier()).test_client()


def _fields(resp: Any) -> set[str]:
    assert resp.status_code == 422 and resp.content_type == "application/problem+json", resp.json
    return set(resp.json["errors"]["json"])


def test_preferences_are_personal_and_validated(api, rep1, rep2) -> None:  # type: ignore[no-untyped-def]
    assert api.get(f"{API}/preferences", headers=rep1).json == {
        "user_id": "rep1",
        "channels": [],
        "language": "zh-CN",
        "timezone": None,
        "quiet_start": None,
        "quiet_end": None,
        "email": None,
        "mobile": None,
    }
    resp = api.put(
        f"{API}/preferences",
        headers=rep1,
        json={
            "channels": ["email"],
            "email": "rep1@example.cn",
            "language": "en",
            "quiet_start": "22:00",
            "quiet_end": "07:30",
            "timezone": "Asia/Shanghai",
        },
    )
    assert resp.status_code == 200 and resp.json["channels"] == ["email"]
    assert api.get(f"{API}/preferences", headers=rep2).json["channels"] == []
    bad = api.put(
        f"{API}/preferences",
        headers=rep1,
        json={"channels": ["fax"], "language": "fr", "quiet_start": "25:00", "colour": "red"},
    )
    assert {"channels", "language", "quiet_start", "colour"} <= _fields(bad)
    assert "timezone" in _fields(api.put(f"{API}/preferences", headers=rep1, json={"timezone": "Mars/Base"}))


def test_templates_refuse_a_missing_variable_at_save_time(api, admin, rep1) -> None:  # type: ignore[no-untyped-def]
    body = {
        "event_type": "leads.followup.due.v1",
        "channel": "inapp",
        "language": "en",
        "subject": "Due {{ code }}",
        "body": "Call {{ customer_name }} about {{ code }}",
    }
    resp = api.post(f"{API}/templates", headers=admin, json=body)
    assert _fields(resp) == {"body"} and "customer_name" in resp.json["errors"]["json"]["body"][0]
    assert api.post(f"{API}/templates", headers=rep1, json=body).status_code == 403
    body["body"] = "Call about {{ code }} ({{ kind }}) by {{ due_at }}"
    created = api.post(f"{API}/templates", headers=admin, json=body)
    assert created.status_code == 201 and created.json["version"] == 1
    assert api.post(f"{API}/templates", headers=admin, json=body).status_code == 409
    changed = api.patch(
        f"{API}/templates/{created.json['id']}", headers=admin, json={"subject": "Due: {{ code }}"}
    )
    assert changed.json["version"] == 2
    assert "subject" in _fields(
        api.patch(f"{API}/templates/{created.json['id']}", headers=admin, json={"subject": "{{ nope }}"})
    )
    listed = api.get(f"{API}/templates?event_type=leads.followup.due.v1", headers=rep1).json["items"]
    assert [t["id"] for t in listed] == [created.json["id"]]


def test_templates_are_sandboxed_and_preview_renders(api, admin) -> None:  # type: ignore[no-untyped-def]
    evil = {
        "event_type": "leads.followup.due.v1",
        "channel": "inapp",
        "language": "zh-CN",
        "subject": "x",
        "body": "{{ code.__class__.__mro__[1].__subclasses__() }}",
    }
    assert _fields(api.post(f"{API}/templates", headers=admin, json=evil)) == {"body"}
    for bomb in ("{{ 1/0 }}", "{{ 'a' * 100000000 }}", "{{ 9 ** 999999 }}", "{{ range(100000000)|list }}"):
        assert _fields(api.post(f"{API}/templates", headers=admin, json={**evil, "body": bomb})) == {"body"}
    resp = api.post(
        f"{API}/templates/preview",
        headers=admin,
        json={
            "event_type": "leads.followup.due.v1",
            "subject": "跟进 {{ code }}",
            "body": "{{ kind }} / {{ due_at }}",
            "variables": {"code": "L-000001"},
        },
    )
    assert resp.status_code == 200
    assert resp.json["subject"] == "跟进 L-000001" and resp.json["body"] == "<kind> / <due_at>"
    assert "owner_id" in resp.json["variables"]
    assert _fields(
        api.post(
            f"{API}/templates/preview",
            headers=admin,
            json={"event_type": "leads.followup.due.v1", "subject": "{% if %}", "body": "x"},
        )
    ) == {"subject"}


SMS = {
    "channel": "sms",
    "body": "王总,您好!新品到货,欢迎垂询。本公司rep1",
    "recipients": [{"account_id": "acc-1", "address": "+8613800138000", "salutation": "王总"}],
}


def test_bulk_customer_sms_is_refused(api, rep1) -> None:  # type: ignore[no-untyped-def]
    two = {**SMS, "recipients": [*SMS["recipients"], {**SMS["recipients"][0], "account_id": "acc-2"}]}
    resp = api.post(f"{API}/messages", headers=rep1, json=two)
    assert _fields(resp) == {"recipients"} and "bulk" in resp.json["errors"]["json"]["recipients"][0]


def test_an_individual_signed_sms_is_queued_once_per_key(api, rep1, rep2, admin) -> None:  # type: ignore[no-untyped-def]
    resp = api.post(f"{API}/messages", headers=rep1, json={**SMS, "idempotency_key": "k1"})
    assert resp.status_code == 202 and resp.json["state"] == "queued" and resp.json["created_by"] == "rep1"
    again = api.post(f"{API}/messages", headers=rep1, json={**SMS, "idempotency_key": "k1"})
    assert again.json["id"] == resp.json["id"]
    assert [m["id"] for m in api.get(f"{API}/messages", headers=rep1).json["items"]] == [resp.json["id"]]
    assert api.get(f"{API}/messages", headers=rep2).json["items"] == []
    assert api.get(f"{API}/messages/{resp.json['id']}", headers=rep2).status_code == 404
    assert api.get(f"{API}/messages/{resp.json['id']}", headers=admin).status_code == 200


def test_unsigned_or_untitled_sms_is_refused(api, rep1) -> None:  # type: ignore[no-untyped-def]
    resp = api.post(f"{API}/messages", headers=rep1, json={**SMS, "body": "新品到货,欢迎垂询。"})
    assert _fields(resp) == {"body", "signature"}


def test_weekend_product_sms_is_refused(api, rep1, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    clock.now = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)  # Saturday 11:00 in Shanghai
    resp = api.post(f"{API}/messages", headers=rep1, json={**SMS, "product_content": True})
    assert _fields(resp) == {"product_content"}
    ok = api.post(
        f"{API}/messages",
        headers=rep1,
        json={**SMS, "body": "王总,您好!周末愉快,有任何需求和问题,请随时来电吩咐。本公司rep1"},
    )
    assert ok.status_code == 202


def test_a_role_addressed_notification_reaches_every_holder(
    api,
    ctx: NotifyContext,
    manager,  # type: ignore[no-untyped-def]
    west_manager,
    rep1,
) -> None:
    note = Notification(
        id=str(uuid.uuid4()),
        recipient_id="role:sales_manager@east",
        kind="followup.overdue",
        title="t",
        body="b",
        subject_type="lead",
        subject_id=str(uuid.uuid4()),
        source_event_id=str(uuid.uuid4()),
        created_at=ctx.clock(),
        read_at=None,
    )
    with ctx.bus.session_factory() as s, s.begin():
        s.add(note)
    url = f"{API}/notifications"
    assert [n["id"] for n in api.get(url, headers=manager).json["items"]] == [note.id]
    assert api.get(url, headers=west_manager).json["items"] == []
    assert api.get(url, headers=rep1).json["items"] == []
    assert api.post(f"{url}/{note.id}/read", headers=rep1).status_code == 404
    assert api.post(f"{url}/{note.id}/read", headers=manager).status_code == 200


def test_policy_changes_are_admin_only_and_audited(api, admin, rep1) -> None:  # type: ignore[no-untyped-def]
    assert api.get(f"{API}/policy", headers=rep1).json["policy"]["quiet_start"] == "21:00"
    body = {"reason": "customers sleep early", "quiet_start": "20:30"}
    assert api.put(f"{API}/policy", headers=rep1, json=body).status_code == 403
    resp = api.put(f"{API}/policy", headers=admin, json=body)
    assert (
        resp.status_code == 200
        and resp.json["version"] == 1
        and resp.json["policy"]["quiet_start"] == "20:30"
    )
    [change] = api.get(f"{API}/policy/changes", headers=admin).json["items"]
    assert change["changes"] == {"quiet_start": ["21:00", "20:30"]} and change["actor"] == "admin"
    assert "default_timezone" in _fields(
        api.put(f"{API}/policy", headers=admin, json={"reason": "x y z", "default_timezone": "Mars/Base"})
    )


def test_nul_characters_are_refused_not_a_500(api, rep1, admin) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL text cannot hold NUL: refused up front on every database."""
    resp = api.post(f"{API}/messages", headers=rep1, json={**SMS, "body": "王总,您好!\x00本公司rep1"})
    assert resp.status_code == 422 and resp.content_type == "application/problem+json"
    assert api.get(f"{API}/messages?state=\x00", headers=rep1).status_code == 422
    nested = {"event_type": "leads.followup.due.v1", "subject": "x", "body": "y", "variables": {"a\x00": "b"}}
    assert api.post(f"{API}/templates/preview", headers=admin, json=nested).status_code == 422
