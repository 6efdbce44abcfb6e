"""Web app factory of the notify service (``gunicorn 'notify.app:create_app()'``)."""

from __future__ import annotations

from flask import Flask

import authn
from httpapi import create_service_app

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
    return app
