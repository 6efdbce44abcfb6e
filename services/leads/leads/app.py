"""Web app factory of the leads service (``gunicorn 'leads.app:create_app()'``)."""

from __future__ import annotations

from flask import Flask

import authn
from httpapi import create_service_app

from .api import blp
from .intake_api import blp as intake_blp
from .wiring import LeadsContext, build


def create_app(ctx: LeadsContext | None = None, verifier: authn.Verifier | None = None) -> Flask:
    ctx = ctx or build()
    app = create_service_app(
        name="leads", title="CRM Leads", bus=ctx.bus, blueprints=[intake_blp, blp], verifier=verifier,
        description="Sales leads: intake by channel, explainable dedupe, merges, ownership, "
                    "conversion into customer accounts.",
    )
    app.extensions["leads"] = ctx
    return app
