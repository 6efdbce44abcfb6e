"""Contract of ``accounts.account.linked.v1``: leads and notify parse what accounts builds."""

from __future__ import annotations

import importlib
import uuid
from datetime import UTC, datetime

import pytest

from testkit.catalogue import catalogue_text

# The module holding a consumer's schemas of accounts' events.
EVENTS_MODULE = {"leads": "leads.intake.events"}


NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _linked_payload() -> dict:
    from accounts.events import linked_payload
    from accounts.models import Account, LeadLink

    account = Account(id=str(uuid.uuid4()), code="C-000001", name="Bamboo Co.", company="Bamboo Co.",
                      owner_id="rep2", owner_team="east", status="active", created_at=NOW,
                      updated_at=NOW, version=1)
    link = LeadLink(lead_id=str(uuid.uuid4()), account_id=account.id, lead_code="L-000007",
                    linked_at=NOW, linked_by="rep1")
    return linked_payload(account, link, source_lead_name="Wang Wu", lead_owner_id="rep1")


@pytest.mark.parametrize("consumer", ["leads", "notify"])
def test_consumers_read_what_accounts_publishes(consumer: str) -> None:
    payload = _linked_payload()
    events = importlib.import_module(EVENTS_MODULE.get(consumer, f"{consumer}.events"))
    data = events.AccountLinkedIn().load(payload)
    assert data["account_id"] == payload["account_id"]
    assert data["source_lead_id"] == payload["source_lead_id"]
    assert set(data) <= set(payload)


def test_linked_is_in_the_catalogue() -> None:
    from accounts.events import ACCOUNT_LINKED

    catalogue = catalogue_text()
    assert f"`{ACCOUNT_LINKED}`" in catalogue
