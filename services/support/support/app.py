"""Web app factory of the support service (``gunicorn 'support.app:create_app()'``)."""

from __future__ import annotations

from flask import Flask

import authn
from httpapi import create_service_app

from .api import blp
from .wiring import SupportContext, build


def create_app(ctx: SupportContext | None = None, verifier: authn.Verifier | None = None) -> Flask:
    ctx = ctx or build()
    app = create_service_app(
        name="support", title="CRM Support", bus=ctx.bus, blueprints=[blp], verifier=verifier,
        description="Support tickets (inquiries, complaints, repairs, installations) for known accounts.",
    )
    app.extensions["support"] = ctx
    return app
