"""Web app factory of the accounts service (``gunicorn 'accounts.app:create_app()'``)."""

from __future__ import annotations

from flask import Flask

import authn
from httpapi import create_service_app

from .api import blp
from .context import AccountsContext
from .credit.blueprints import BLUEPRINTS as CREDIT_BLUEPRINTS
from .wiring import build


def create_app(ctx: AccountsContext | None = None, verifier: authn.Verifier | None = None) -> Flask:
    ctx = ctx or build()
    app = create_service_app(
        context=ctx, title="CRM Accounts", blueprints=[blp, *CREDIT_BLUEPRINTS], verifier=verifier,
        description="Customer accounts: opened from converted leads or directly, with an audit trail.",
    )
    return app
