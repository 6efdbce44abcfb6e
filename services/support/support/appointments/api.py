"""HTTP API of appointments: book a visit for a ticket, reschedule with consent, cancel, the schedule."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint

from .. import web
from ..errors import Forbidden, Invalid, NotFound
from ..tickets import rules as ticket_rules
from ..tickets import service as tickets
from . import rules, service
from .models import Appointment
from .schemas import (
    AppointmentCreateSchema,
    AppointmentListQuerySchema,
    AppointmentListSchema,
    AppointmentSchema,
    CancelSchema,
    RescheduleSchema,
)

blp = Blueprint(
    "support_appointments",
    __name__,
    url_prefix="/api/v1/support",
    description="Installation and repair visits: ≥ 5 working days ahead, reminders, consent",
)
BOOKERS = (authn.ADMIN, authn.SUPPORT_AGENT, authn.SUPPORT_SUPERVISOR)
SCHEDULE_VIEWERS = (*BOOKERS, authn.TECHNICIAN)


def _view(session: Any, appt: Appointment) -> dict[str, Any]:
    out = {c.key: getattr(appt, c.key) for c in Appointment.__table__.columns}
    out["changes"] = service.changes(session, appt.id)
    return out


def _visible_appointment(session: Any, appointment_id: str, work: bool) -> Appointment:
    appt = session.get(Appointment, appointment_id)
    if appt is None:
        raise NotFound(f"no appointment {appointment_id}")
    principal = current_principal()
    tickets.visible(session, appt.ticket_id, principal)  # 404 unless the caller sees the ticket
    if work and not principal.has_any(*BOOKERS):
        raise Forbidden("appointments are changed by the service desk")
    return appt


@blp.route("/tickets/<string:ticket_id>/appointments")
class Book(MethodView):
    @blp.arguments(AppointmentCreateSchema)
    @blp.response(201, AppointmentSchema)
    @blp.alt_response(409, description="The technician is busy then, or the ticket is not active")
    @require_roles(*BOOKERS)
    def post(self, body: dict[str, Any], ticket_id: str) -> dict[str, Any]:
        """Book an installation or repair visit: to the hour, at least the policy's working days
        ahead (default 5, on the official calendar) unless urgent with a reason."""
        ctx = web.ctx()
        principal = current_principal()
        with ctx.bus.session_factory() as session, session.begin():
            ticket = tickets.visible(session, ticket_id, principal, work=True, lock=True)
            return _view(session, service.schedule(session, ctx.bus, ticket, principal, body, ctx.clock()))


@blp.route("/appointments")
class Schedule(MethodView):
    @blp.arguments(AppointmentListQuerySchema, location="query")
    @blp.response(200, AppointmentListSchema)
    @require_roles(*SCHEDULE_VIEWERS)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Scheduled visits in a window, in the order to serve them: urgent, then brand /
        high-grade customers, then by time. A technician sees their own."""
        principal = current_principal()
        if query["to"] <= query["from_"] or (query["to"] - query["from_"]).days > 62:
            raise Invalid({"to": "Must be after from, at most 62 days later."}, "query")
        stmt = select(Appointment).where(
            Appointment.status == "scheduled",
            Appointment.starts_at >= query["from_"],
            Appointment.starts_at < query["to"],
        )
        technician = query["technician_id"]
        if not principal.has_any(*BOOKERS):
            technician = principal.sub
        if technician:
            stmt = stmt.where(Appointment.technician_id == technician)
        with web.ctx().bus.session_factory() as session:
            rows = {a.id: a for a in session.scalars(stmt.limit(2000))}
            order = rules.scheduling_order(
                rules.Slot(a.id, a.starts_at, a.priority_customer, a.urgent) for a in rows.values()
            )
            return {"items": [_view(session, rows[s.id]) for s in order]}


@blp.route("/appointments/<string:appointment_id>")
class AppointmentById(MethodView):
    @blp.response(200, AppointmentSchema)
    @require_roles(*ticket_rules.READERS)
    def get(self, appointment_id: str) -> dict[str, Any]:
        with web.ctx().bus.session_factory() as session:
            return _view(session, _visible_appointment(session, appointment_id, work=False))


@blp.route("/appointments/<string:appointment_id>/reschedule")
class Reschedule(MethodView):
    @blp.arguments(RescheduleSchema)
    @blp.response(200, AppointmentSchema)
    @blp.alt_response(422, description="No recorded consent of the customer, or a bad time")
    @require_roles(*ticket_rules.READERS)
    def post(self, body: dict[str, Any], appointment_id: str) -> dict[str, Any]:
        """Move a visit, only with the customer's consent recorded (who agreed, how)."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            appt = _visible_appointment(session, appointment_id, work=True)
            service.reschedule(session, ctx.bus, appt, current_principal(), body, ctx.clock())
            return _view(session, appt)


@blp.route("/appointments/<string:appointment_id>/cancel")
class Cancel(MethodView):
    @blp.arguments(CancelSchema)
    @blp.response(200, AppointmentSchema)
    @require_roles(*ticket_rules.READERS)
    def post(self, body: dict[str, Any], appointment_id: str) -> dict[str, Any]:
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            appt = _visible_appointment(session, appointment_id, work=True)
            service.cancel(session, ctx.bus, appt, current_principal(), body, ctx.clock())
            return _view(session, appt)
