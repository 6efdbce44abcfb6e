"""Web app factory of the notify service (``gunicorn 'notify.app:create_app()'``)."""

from __future__ import annotations

from flask import Flask

import authn
from httpapi import create_service_app

from .api import blp
from .context import NotifyContext
from .wiring import build


def create_app(ctx: NotifyContext | None = None, verifier: authn.Verifier | None = None) -> Flask:
    ctx = ctx or build()
    app = create_service_app(
        context=ctx, title="CRM Notify", blueprints=[blp], verifier=verifier,
        description="In-app notifications to staff, announced as events for outside systems.",
    )
    return app
