"""Small helpers of the support API tests."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

URL = "/api/v1/support/tickets"


def body(account_id: str, **overrides: Any) -> dict[str, Any]:
    return {"account_id": account_id, "kind": "repair", "subject": "Line 3 compressor is noisy", **overrides}


def open_ticket(
    client: FlaskClient, headers: dict[str, str], account_id: str, **overrides: Any
) -> dict[str, Any]:
    resp = client.post(URL, json=body(account_id, **overrides), headers=headers)
    assert resp.status_code == 201, resp.json
    return resp.json


def act(
    client: FlaskClient,
    headers: dict[str, str],
    ticket_id: str,
    action: str,
    note: str | None = "done",
    **extra: Any,
) -> Any:
    return client.post(
        f"{URL}/{ticket_id}/transitions", json={"action": action, "note": note, **extra}, headers=headers
    )
