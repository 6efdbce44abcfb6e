"""Web app factory of the support service (``gunicorn 'support.app:create_app()'``)."""

from __future__ import annotations

from flask import Flask

import authn
from httpapi import create_service_app

from .api import blp
from .context import SupportContext
from .wiring import build


def create_app(ctx: SupportContext | None = None, verifier: authn.Verifier | None = None) -> Flask:
    ctx = ctx or build()
    app = create_service_app(
        context=ctx, title="CRM Support", blueprints=[blp], verifier=verifier,
        description="Support tickets (inquiries, complaints, repairs, installations) for known accounts.",
    )
    return app
