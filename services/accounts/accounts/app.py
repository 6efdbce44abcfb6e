"""Web app factory of the accounts service (``crm-web 'accounts.app:create_app()'``)."""

from __future__ import annotations

from flask import Flask, Response
from sqlalchemy.exc import IntegrityError

import authn
from httpapi import create_service_app, problem_response

from .api import blp
from .archive.api import blp as archive_blp
from .context import AccountsContext
from .credit.blueprints import BLUEPRINTS as CREDIT_BLUEPRINTS
from .errors import AccountsError, Invalid
from .grading.api import blp as grading_blp
from .points.api import blp as points_blp
from .policy.api import blp as policy_blp
from .summary.api import blp as summary_blp
from .wiring import build


def _problem(error: AccountsError) -> Response:
    if isinstance(error, Invalid):
        return problem_response(422, error.title,
                                "The request did not validate; see errors for each field.",
                                errors={error.location: error.errors})
    return problem_response(error.status, error.title, str(error) or None)


def _integrity(error: IntegrityError) -> Response:
    """A unique key lost a race (e.g. two live accounts claiming one tax number): 409."""
    return problem_response(409, "Conflict", "the change conflicts with another record")


def create_app(ctx: AccountsContext | None = None, verifier: authn.Verifier | None = None) -> Flask:
    ctx = ctx or build()
    app = create_service_app(
        context=ctx, title="CRM Accounts",
        blueprints=[policy_blp, summary_blp, blp, archive_blp, grading_blp, points_blp,
                    *CREDIT_BLUEPRINTS],
        verifier=verifier,
        description="Customer accounts and their archive (客户档案): audited edits and change "
                    "requests, the archive flow, A-E grading, referral points, the grade summary; "
                    "credit: ledger, limits, checks, holds, limit-change approvals.",
    )
    app.register_error_handler(AccountsError, _problem)
    app.register_error_handler(IntegrityError, _integrity)
    return app
