"""Pure notify rules: which facts become whose notifications, and who may read them.

No Flask, no session, no clock: callers pass what the rules need.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from authn import Principal

LEAD_CONVERTED = "lead_converted"
LEAD_LINKED = "lead_linked"
ACCOUNT = "account"


class NotAllowedError(ValueError):
    """The caller asked for something that is not theirs (answered 403)."""


@dataclass(frozen=True)
class Draft:
    """A notification to create, before it has an id or a time."""

    recipient_id: str
    kind: str
    title: str
    body: str
    subject_type: str
    subject_id: str


def for_account_opened(account: Mapping[str, Any]) -> Draft | None:
    """The owner hears that their lead became an account; accounts opened directly need no
    announcement (whoever opened them knows)."""
    if not account.get("source_lead_id"):
        return None
    lead_name = account.get("source_lead_name") or "?"
    lead_code = account.get("source_lead_code") or account["source_lead_id"]
    return Draft(
        recipient_id=account["owner_id"],
        kind=LEAD_CONVERTED,
        title="Lead converted",
        body=f"Lead {lead_name} ({lead_code}) became account {account['name']} ({account['code']})",
        subject_type=ACCOUNT,
        subject_id=account["account_id"],
    )


def for_account_linked(link: Mapping[str, Any]) -> Draft:
    """The lead's owner hears that their converted lead joined an existing account (whose
    owner may be someone else), so they know where the customer is now."""
    lead_name = link.get("source_lead_name") or "?"
    lead_code = link.get("source_lead_code") or link["source_lead_id"]
    return Draft(
        recipient_id=link["lead_owner_id"],
        kind=LEAD_LINKED,
        title="Lead linked to existing account",
        body=f"Lead {lead_name} ({lead_code}) linked to existing account {link['name']} "
             f"({link['code']})",
        subject_type=ACCOUNT,
        subject_id=link["account_id"],
    )


def listing_recipient(principal: Principal, requested: str | None) -> str:
    """Whose notifications a caller lists: their own; only an admin may name someone else."""
    if requested is None or requested == principal.sub:
        return principal.sub
    if principal.is_admin:
        return requested
    raise NotAllowedError("you may only list your own notifications")


def can_mark_read(principal: Principal, recipient_id: str) -> bool:
    """Reading is personal: nobody, not even an admin, marks another person's notification."""
    return principal.sub == recipient_id
