"""What every leads endpoint shares: the running service, the roles that see leads, and the
lead-by-id look-up that answers 404 for a lead the caller may not see."""

from __future__ import annotations

from typing import Any

from flask import current_app

import authn
from authn.flask import current_principal
from httpapi import Problem
from servicedb import writes

from .intake import rules
from .intake.models import Lead
from .ports import Deps

SALES = (authn.ADMIN, authn.SALES_MANAGER, authn.SALES_REP, authn.INTEGRATION)


def _ctx() -> Deps:
    """The service the app was created with (``create_service_app`` keeps it here)."""
    deps: Deps = current_app.extensions["leads"]
    return deps


def _access(lead: Lead) -> rules.LeadAccess:
    return rules.LeadAccess(owner_id=lead.owner_id, owner_team=lead.owner_team)


def _visible_lead(session: Any, lead_id: str, lock: bool = False) -> Lead:
    """The lead, or 404 — also when it exists but is not the caller's, so ids reveal nothing."""
    # Locked reads come before every change of a lead: one prebuilt statement (servicedb.writes).
    lead = writes.get_for_update(session, Lead, lead_id) if lock else session.get(Lead, lead_id)
    if lead is None or not rules.can_view(current_principal(), _access(lead)):
        raise Problem(404, "Not Found", f"no lead {lead_id}")
    return lead
