"""HTTP API of templates: admins manage them; staff list them and preview a rendering."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint, Problem

from .. import web
from . import rules, service
from .models import Template
from .schemas import (
    PreviewResultSchema,
    PreviewSchema,
    TemplateCreateSchema,
    TemplateListSchema,
    TemplateQuerySchema,
    TemplateSchema,
    TemplateUpdateSchema,
)

blp = Blueprint(
    "notify_templates",
    __name__,
    url_prefix="/api/v1/notify/templates",
    description="Message templates per event type, channel and language (sandboxed Jinja2)",
)
EDITORS = (authn.ADMIN,)


def _load(session: Any, template_id: str) -> Template:
    t = session.get(Template, template_id)
    if t is None:
        raise web.not_found("template", template_id)
    return t


@blp.route("")
class Templates(MethodView):
    @blp.arguments(TemplateQuerySchema, location="query")
    @blp.response(200, TemplateListSchema)
    @require_roles(*authn.ROLES)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Saved templates (built-in texts apply where none is saved)."""
        stmt = select(Template).order_by(Template.event_type, Template.channel, Template.language)
        for name in ("event_type", "channel", "language"):
            if query[name] is not None:
                stmt = stmt.where(getattr(Template, name) == query[name])
        with web.ctx().bus.session_factory() as session:
            return {"items": list(session.scalars(stmt.limit(500)))}

    @blp.arguments(TemplateCreateSchema)
    @blp.response(201, TemplateSchema)
    @blp.alt_response(409, description="A template for this event type, channel and language exists")
    @require_roles(*EDITORS)
    def post(self, body: dict[str, Any]) -> Template:
        """Save a template; every variable it uses must be one the event type offers (422 names
        the missing one), so no message is ever half-rendered."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            try:
                return service.create(session, body, current_principal().sub, ctx.clock())
            except rules.TemplateRuleError as exc:
                raise web.unprocessable(exc.errors) from exc
            except service.DuplicateTemplateError as exc:
                raise Problem(409, "Conflict", str(exc)) from exc


@blp.route("/preview")
class Preview(MethodView):
    @blp.arguments(PreviewSchema)
    @blp.response(200, PreviewResultSchema)
    @require_roles(*authn.ROLES)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Render a template with the given variables (samples for the rest), nothing saved."""
        event_type = body["event_type"]
        context = {
            **rules.sample_context(event_type),
            **{k: v for k, v in body["variables"].items() if k in rules.variables(event_type)},
        }
        try:
            subject, text = rules.render(body["subject"], body["body"], context)
        except rules.TemplateRuleError as exc:
            raise web.unprocessable(exc.errors) from exc
        return {"subject": subject, "body": text, "variables": list(rules.variables(event_type))}


@blp.route("/<string:template_id>")
class OneTemplate(MethodView):
    @blp.response(200, TemplateSchema)
    @require_roles(*authn.ROLES)
    def get(self, template_id: str) -> Template:
        """One template."""
        with web.ctx().bus.session_factory() as session:
            return _load(session, template_id)

    @blp.arguments(TemplateUpdateSchema, required=False)  # no body = nothing to change
    @blp.response(200, TemplateSchema)
    @require_roles(*EDITORS)
    def patch(self, body: dict[str, Any], template_id: str) -> Template:
        """Change a template (validated like a new one); its version goes up."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            t = _load(session, template_id)
            try:
                return service.update(session, t, body, current_principal().sub, ctx.clock())
            except rules.TemplateRuleError as exc:
                raise web.unprocessable(exc.errors) from exc

    @blp.response(204)
    @require_roles(*EDITORS)
    def delete(self, template_id: str) -> None:
        """Remove a template: the built-in text applies again."""
        with web.ctx().bus.session_factory() as session, session.begin():
            session.delete(_load(session, template_id))
