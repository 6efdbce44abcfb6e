"""Pure account rules: who sees or opens which account, how a record is named and audited.

No Flask, no session, no clock: callers pass what the rules need.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers

from authn import (
    ADMIN,
    ARCHIVE_CLERK,
    BRAND_DEPT,
    FINANCE,
    GROUP_GM,
    INTEGRATION,
    REVIEW_GROUP,
    SALES_GM,
    SALES_OPS_MANAGER,
    SALES_VP,
    SERVICE_CLERK,
    SUPPORT_AGENT,
    SUPPORT_SUPERVISOR,
    Principal,
)

ACTIVE = "active"
OPENED, UPDATED, LINKED = "opened", "updated", "linked"  # audit actions
DIRECT_REASON = "opened directly"  # audit reason when the opener gives none
DEFAULT_REGION = "CN"
# Roles that see every account: the archive's staff, support (what it needs to serve), the
# management chain that grades, approves and reports.
SEES_ALL = (ARCHIVE_CLERK, SERVICE_CLERK, REVIEW_GROUP, SALES_OPS_MANAGER, SALES_VP, SALES_GM,
            GROUP_GM, BRAND_DEPT, FINANCE, SUPPORT_SUPERVISOR)
# Fields whose changes the audit trail records.
AUDITED_FIELDS = ("name", "company", "phone", "email", "owner_id", "owner_team", "status")


def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """E.164 form (as leads stores it); raises ValueError for something that is not a phone."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    local, _, domain = raw.strip().rpartition("@")
    return f"{local}@{domain.lower()}"


def account_name(person: str, company: str | None) -> str:
    """A customer is filed under its company when there is one, else under the person."""
    return company.strip() if company and company.strip() else person


def conversion_reason(lead_code: str) -> str:
    return f"converted from lead {lead_code}"


def link_reason(lead_code: str) -> str:
    return f"lead {lead_code} linked to existing account"


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The audited fields that differ, as ``{field: {"before": old, "after": new}}``."""
    return {f: {"before": before.get(f), "after": after.get(f)}
            for f in AUDITED_FIELDS if before.get(f) != after.get(f)}


@dataclass(frozen=True)
class AccountAccess:
    """The facts about an account that decide who may see it."""

    owner_id: str
    owner_team: str | None


@dataclass(frozen=True)
class Scope:
    """The accounts a caller may see: all of them, or those of one owner and/or one team.

    One value answers both "may I see this one?" and "which rows does my list query?", so the
    two can never disagree.
    """

    everything: bool = False
    owner_id: str | None = None
    team: str | None = None

    def allows(self, account: AccountAccess) -> bool:
        if self.everything:
            return True
        if self.team is not None and account.owner_team == self.team:
            return True
        return self.owner_id is not None and account.owner_id == self.owner_id


def scope_for(principal: Principal) -> Scope:
    """The archive's staff, support, the management chain, admins and integrations see every
    account; managers their team's (and their own); reps the accounts they own."""
    if principal.has_any(ADMIN, SUPPORT_AGENT, INTEGRATION, *SEES_ALL):
        return Scope(everything=True)
    if principal.is_manager and principal.team:
        return Scope(owner_id=principal.sub, team=principal.team)
    return Scope(owner_id=principal.sub)


def can_assign_owner(principal: Principal, owner_team: str | None) -> bool:
    """Managers open accounts within their team; admins and integrations for anyone."""
    if principal.has_any(ADMIN, INTEGRATION):
        return True
    return principal.is_manager and principal.team is not None and owner_team == principal.team
