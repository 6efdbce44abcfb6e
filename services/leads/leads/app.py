"""Web app factory of the leads service (``crm-web 'leads.app:create_app()'``)."""

from __future__ import annotations

from flask import Flask

import authn
from authn.flask import allow_public
from httpapi import create_service_app
from leads.context import LeadsContext
from leads.intake.api import blp as intake_blp
from leads.intake.leads_api import blp
from leads.ownership.api import blp as ownership_blp
from leads.pipeline.api import blp as pipeline_blp
from leads.stats.api import blp as stats_blp
from leads.webforms.api import blp as webform_blp
from leads.webforms.api import is_public_submission
from leads.wiring import build


def create_app(ctx: LeadsContext | None = None, verifier: authn.Verifier | None = None) -> Flask:
    ctx = ctx or build()
    app = create_service_app(
        context=ctx, title="CRM Leads", verifier=verifier,
        blueprints=[intake_blp, blp, pipeline_blp, stats_blp, ownership_blp, webform_blp],
        description="Sales leads: intake by channel, explainable dedupe, merges, ownership, "
                    "conversion into customer accounts.",
    )
    allow_public(app, is_public_submission)  # web-form submissions carry X-Form-Key, no token
    return app
