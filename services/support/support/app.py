"""Web app factory of the support service (``crm-web 'support.app:create_app()'``)."""

from __future__ import annotations

from flask import Flask, Response

import authn
from httpapi import create_service_app, problem_response

from .appointments.api import blp as appointments_blp
from .complaints.api import blp as complaints_blp
from .context import SupportContext
from .errors import Invalid, SupportError
from .faults.api import blp as faults_blp
from .policy.api import blp as policy_blp
from .reports.api import blp as reports_blp
from .tickets.api import blp as tickets_blp
from .tickets.rules import IllegalTransition
from .visits.api import blp as visits_blp
from .wiring import build


def _problem(error: SupportError) -> Response:
    if isinstance(error, Invalid):
        return problem_response(
            422,
            error.title,
            "The request did not validate; see errors for each field.",
            errors={error.location: error.errors},
        )
    return problem_response(error.status, error.title, str(error) or None)


def _illegal(error: IllegalTransition) -> Response:
    return problem_response(409, "Conflict", str(error), action=error.action, status_now=error.status)


def create_app(ctx: SupportContext | None = None, verifier: authn.Verifier | None = None) -> Flask:
    ctx = ctx or build()
    app = create_service_app(
        context=ctx,
        title="CRM Support",
        blueprints=[
            tickets_blp,
            complaints_blp,
            appointments_blp,
            visits_blp,
            faults_blp,
            reports_blp,
            policy_blp,
        ],
        verifier=verifier,
        description="Support desk: tickets with first-responder ownership and SLAs on the China "
        "business calendar, the nine-step complaint flow, appointments, return visits, "
        "major faults, reports.",
    )
    app.register_error_handler(SupportError, _problem)
    app.register_error_handler(IllegalTransition, _illegal)
    return app
