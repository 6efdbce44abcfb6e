"""The support policy through the API: read, change with a reason (admin only), audit trail."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

pytestmark = pytest.mark.integration
H = dict[str, str]
URL = "/api/v1/support/policy"


def test_defaults_change_and_audit(client: FlaskClient, admin: H, agent: H, supervisor: H) -> None:
    policy = client.get(URL, headers=agent).json
    assert policy["version"] == 0 and policy["policy"]["sla_warning_percent"] == 80
    assert policy["policy"]["business_hours_start"] == "09:00"
    assert policy["policy"]["penalty_unresolved"] == "500.00"
    r = client.put(
        URL,
        headers=admin,
        json={
            "sla_warning_percent": 75,
            "extra_holidays": ["2027-02-08"],
            "reason": "Warn earlier; office closed",
        },
    )
    assert r.status_code == 200 and r.json["version"] == 1 and r.json["updated_by"] == "admin"
    changes = client.get(f"{URL}/changes", headers=supervisor).json["items"]
    assert changes[0]["reason"] == "Warn earlier; office closed"
    assert changes[0]["changes"] == {"sla_warning_percent": [80, 75], "extra_holidays": [[], ["2027-02-08"]]}
    same = client.put(URL, headers=admin, json={"sla_warning_percent": 75, "reason": "again"})
    assert same.json["version"] == 1  # nothing changed, nothing audited
    assert len(client.get(f"{URL}/changes", headers=admin).json["items"]) == 1


def test_bad_changes(client: FlaskClient, admin: H, supervisor: H, agent: H) -> None:
    r = client.put(
        URL, headers=admin, json={"sla_warning_percent": 120, "business_hours_end": "8:00", "reason": "typo"}
    )
    assert r.status_code == 422 and set(r.json["errors"]["json"]) == {
        "sla_warning_percent",
        "business_hours_end",
    }
    assert client.put(URL, headers=admin, json={"sla_warning_percent": 70}).status_code == 422  # reason
    assert client.put(URL, headers=admin, json={"reason": "nothing"}).status_code == 422
    assert client.put(URL, headers=admin, json={"warp": 9, "reason": "x"}).status_code == 422
    assert (
        client.put(URL, headers=supervisor, json={"sla_warning_percent": 70, "reason": "x"}).status_code
        == 403
    )
    assert client.get(f"{URL}/changes", headers=agent).status_code == 403
