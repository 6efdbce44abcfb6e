"""Web app factory of the leads service (``gunicorn 'leads.app:create_app()'``)."""

from __future__ import annotations

from flask import Flask

import authn
from authn.flask import allow_public
from httpapi import create_service_app

from .api import blp
from .api_ownership import blp as ownership_blp
from .api_pipeline import blp as pipeline_blp
from .api_stats import blp as stats_blp
from .api_webform import blp as webform_blp
from .api_webform import is_public_submission
from .context import LeadsContext
from .intake_api import blp as intake_blp
from .wiring import build


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
