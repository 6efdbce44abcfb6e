"""HTTP API of preferences: each member of staff reads and changes their own."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask.views import MethodView

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint

from .. import web
from . import service
from .schemas import PreferenceSchema, PreferenceUpdateSchema

blp = Blueprint(
    "notify_preferences",
    __name__,
    url_prefix="/api/v1/notify/preferences",
    description="The caller's delivery preferences: channels, language, quiet hours",
)


@blp.route("")
class Preferences(MethodView):
    @blp.response(200, PreferenceSchema)
    @require_roles(*authn.ROLES)
    def get(self) -> dict[str, Any]:
        """The caller's preferences (defaults until changed: in-app only, zh-CN, no quiet hours)."""
        with web.ctx().bus.session_factory() as session:
            return _view(service.prefs_of(session, current_principal().sub))

    @blp.arguments(PreferenceUpdateSchema, required=False)  # no body = nothing to change
    @blp.response(200, PreferenceSchema)
    @require_roles(*authn.ROLES)
    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        """Change some of the caller's preferences; e-mail/SMS need an address to be used."""
        ctx = web.ctx()
        with ctx.bus.session_factory() as session, session.begin():
            return _view(service.set_prefs(session, current_principal().sub, body, ctx.clock()))


def _view(p: Any) -> dict[str, Any]:
    out = asdict(p)
    out["channels"] = list(p.channels)
    return out
