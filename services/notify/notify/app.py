"""Web app factory of the notify service (``crm-web 'notify.app:create_app()'``)."""

from __future__ import annotations

from typing import Any

from flask import Flask, request

import authn
from httpapi import Problem, create_service_app

from .api import blp
from .context import NotifyContext
from .greetings.api import blp as greetings_blp
from .messages.api import blp as messages_blp
from .policy.api import blp as policy_blp
from .preferences.api import blp as preferences_blp
from .templates.api import blp as templates_blp
from .webhooks.api import blp as webhooks_blp
from .wiring import build


def create_app(ctx: NotifyContext | None = None, verifier: authn.Verifier | None = None) -> Flask:
    ctx = ctx or build()
    app = create_service_app(
        context=ctx, title="CRM Notify", verifier=verifier,
        blueprints=[blp, preferences_blp, templates_blp, messages_blp, webhooks_blp, policy_blp,
                    greetings_blp],
        description="Reminders to staff and customers by in-app, e-mail and SMS under the message "
                    "rules (quiet hours, individual signed SMS), templates, and Standard Webhooks.",
    )
    _refuse_nul(app)
    return app


def _refuse_nul(app: Flask) -> None:
    """A NUL character cannot be stored in PostgreSQL text (nor does a message ever hold one):
    any JSON string or query value carrying it is a 422, before a database error could be a 500."""

    def carries(value: Any) -> bool:
        if isinstance(value, str):
            return "\x00" in value
        if isinstance(value, dict):
            return any(carries(k) or carries(v) for k, v in value.items())
        if isinstance(value, list):
            return any(carries(v) for v in value)
        return False

    @app.before_request
    def _nul() -> None:
        body = request.get_json(silent=True) if request.is_json else None
        if carries(body) or any(carries(v) for v in request.args.values()):
            raise Problem(422, "Unprocessable Content", "text may not contain NUL characters",
                          errors={"json": {"_schema": ["NUL characters are not allowed."]}})
