"""Notify API against a real PostgreSQL database: everyone sees only their own notifications."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration
URL = "/api/v1/notify/notifications"


def _ids(client, headers, query: str = "") -> list[str]:  # type: ignore[no-untyped-def]
    resp = client.get(URL + query, headers=headers)
    assert resp.status_code == 200, resp.json
    return [n["id"] for n in resp.json["items"]]


def test_lists_only_own_notifications_newest_first(client, rep1, rep2, notification):  # type: ignore[no-untyped-def]
    first, second = notification("rep1"), notification("rep1")
    theirs = notification("rep2")
    assert _ids(client, rep1) == [second, first]
    assert _ids(client, rep2) == [theirs]
    item = client.get(URL, headers=rep1).json["items"][0]
    assert set(item) == {"id", "recipient_id", "kind", "title", "body", "subject_type",
                         "subject_id", "created_at", "read_at"}


def test_only_admin_may_name_a_recipient(client, rep1, rep2, admin, manager, notification):  # type: ignore[no-untyped-def]
    mine = notification("rep1")
    assert _ids(client, admin, "?recipient_id=rep1") == [mine]
    assert _ids(client, admin) == []
    assert _ids(client, rep1, "?recipient_id=rep1") == [mine]
    for headers in (rep2, manager):
        resp = client.get(f"{URL}?recipient_id=rep1", headers=headers)
        assert resp.status_code == 403 and resp.content_type == "application/problem+json"


def test_unread_filter(client, rep1, notification):  # type: ignore[no-untyped-def]
    unread, read = notification("rep1"), notification("rep1", read=True)
    assert _ids(client, rep1, "?unread=true") == [unread]
    assert _ids(client, rep1, "?unread=false") == [read]
    assert set(_ids(client, rep1)) == {unread, read}


def test_mark_read_is_own_only_and_idempotent(client, rep1, rep2, admin, notification):  # type: ignore[no-untyped-def]
    note = notification("rep1")
    for headers in (rep2, admin):
        resp = client.post(f"{URL}/{note}/read", headers=headers)
        assert resp.status_code == 404 and "rep1" not in resp.get_data(as_text=True)
    assert client.post(f"{URL}/{uuid.uuid4()}/read", headers=rep1).status_code == 404
    first = client.post(f"{URL}/{note}/read", headers=rep1)
    assert first.status_code == 200 and first.json["read_at"] is not None
    again = client.post(f"{URL}/{note}/read", headers=rep1)
    assert again.status_code == 200 and again.json["read_at"] == first.json["read_at"]
    assert _ids(client, rep1, "?unread=true") == []


def test_validation_is_problem_json_with_fields(client, rep1):  # type: ignore[no-untyped-def]
    resp = client.get(f"{URL}?unread=maybe&limit=0&colour=red", headers=rep1)
    assert resp.status_code == 422 and resp.content_type == "application/problem+json"
    assert set(resp.json["errors"]["query"]) == {"unread", "limit", "colour"}
    assert client.get(f"{URL}?cursor=garbage", headers=rep1).status_code == 422


def test_unauthenticated_is_401(client, notification):  # type: ignore[no-untyped-def]
    note = notification("rep1")
    resp = client.get(URL)
    assert resp.status_code == 401 and resp.content_type == "application/problem+json"
    assert client.post(f"{URL}/{note}/read").status_code == 401


def test_no_crm_role_is_403(client, nobody, notification):  # type: ignore[no-untyped-def]
    note = notification("guest")
    assert client.get(URL, headers=nobody).status_code == 403
    assert client.post(f"{URL}/{note}/read", headers=nobody).status_code == 403


def test_keyset_pagination_walks_every_notification_once(client, rep1, notification):  # type: ignore[no-untyped-def]
    made = [notification("rep1", title=f"n{i}") for i in range(7)]
    notification("rep2")
    seen, cursor = [], None
    while True:
        body = client.get(f"{URL}?limit=3" + (f"&cursor={cursor}" if cursor else ""), headers=rep1).json
        seen += [n["id"] for n in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(made))
