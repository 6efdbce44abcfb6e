"""Public web forms: admins and managers manage forms; a web site posts submissions with the
form's own key (``X-Form-Key``), never a user token.

A submission goes through the normal intake (same validation, same dedupe) with source
``web_form``: an exact duplicate (same phone or e-mail as a live lead) creates nothing, anything
else becomes a lead owned by the form's owner. The public answer is the same in every case
(202), so the form reveals neither who is already a lead nor that a honeypot caught a bot.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import Request, request
from flask.views import MethodView
from marshmallow import fields, validate
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import authn
from authn import Principal
from authn.flask import current_principal, require_roles
from httpapi import Blueprint, Problem, StrictSchema, problem_response
from httpapi.schemas import UtcDateTime
from leads.intake import dedupe
from leads.intake import service as intake
from leads.intake.schemas import ContactSchema
from leads.ports import Deps
from leads.web import _ctx
from leads.webforms.models import WebForm, WebFormSubmission

blp = Blueprint("web_forms", __name__, url_prefix="/api/v1/leads/web-forms",
                description="Public web forms: keys, rate limits, submissions")
MANAGERS = (authn.ADMIN, authn.SALES_MANAGER)
KEY_HEADER = "X-Form-Key"
KEY_PREFIX = "wf_"
SOURCE = "web_form"
CREATED, DUPLICATE, SPAM = "created", "duplicate", "spam"
WINDOW = timedelta(minutes=1)
# The one public route of this blueprint; authn lets exactly this through without a token.
SUBMISSION_PATH = re.compile(r"^/api/v1/leads/web-forms/[^/]{1,36}/submissions$")


def is_public_submission(req: Request) -> bool:
    """Predicate for ``authn.flask.allow_public``: POST of a submission, nothing else."""
    return req.method == "POST" and SUBMISSION_PATH.match(req.path) is not None


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_matches(key: str | None, stored_hash: str) -> bool:
    return key is not None and hmac.compare_digest(hash_key(key), stored_hash)


def retry_after(oldest_in_window: datetime, now: datetime) -> int:
    """Whole seconds until the oldest counted submission leaves the one-minute window (≥ 1)."""
    return max(1, math.ceil((oldest_in_window + WINDOW - now).total_seconds()))


# -- shapes ---------------------------------------------------------------------------------


class WebFormCreateSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    owner_team = fields.String(load_default=None, allow_none=True,
                               validate=validate.Length(min=1, max=100),
                               metadata={"description": "admins: required; managers: their team"})
    owner_id = fields.String(load_default=None, validate=validate.Length(min=1, max=100),
                             metadata={"description": "who gets the leads; default: the manager "
                                                      "creating the form (admins must name one)"})
    rate_limit_per_minute = fields.Integer(load_default=10, validate=validate.Range(min=1, max=600))


class WebFormSchema(StrictSchema):
    id = fields.String()
    name = fields.String()
    key_prefix = fields.String(metadata={"description": "the key's first characters, to tell keys apart"})
    owner_team = fields.String(allow_none=True)
    owner_id = fields.String()
    rate_limit_per_minute = fields.Integer()
    active = fields.Boolean()
    created_at = UtcDateTime()
    created_by = fields.String()
    key_rotated_at = UtcDateTime()


class WebFormWithKeySchema(WebFormSchema):
    key = fields.String(metadata={"description": "shown only now; store it in the web site"})


class WebFormListSchema(StrictSchema):
    items = fields.List(fields.Nested(WebFormSchema))


class SubmissionSchema(ContactSchema):
    """The normal intake's contact fields, a message, and the honeypot."""

    message = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    website = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500),
                            metadata={"description": "honeypot: hidden in the page, left empty by "
                                                     "people; anything in it marks a bot"})


class SubmissionAcceptedSchema(StrictSchema):
    submission_id = fields.String()
    status = fields.String(metadata={"description": "always 'received'"})


# -- management -----------------------------------------------------------------------------


def _form_in_scope(session: Session, principal: Principal, form_id: str, lock: bool = False) -> WebForm:
    form = session.get(WebForm, form_id, with_for_update=lock)
    if form is None or not (principal.is_admin or form.owner_team == principal.team):
        raise Problem(404, "Not Found", f"no web form {form_id}")
    return form


def _with_key(form: WebForm, key: str) -> dict[str, Any]:
    return {**{name: getattr(form, name) for name in WebFormSchema._declared_fields}, "key": key}


@blp.route("")
class WebForms(MethodView):
    @blp.arguments(WebFormCreateSchema)
    @blp.response(201, WebFormWithKeySchema)
    @require_roles(*MANAGERS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a form; the response carries its key, which is never shown again."""
        principal = current_principal()
        team, owner = body["owner_team"], body["owner_id"]
        if not principal.is_admin:
            if team not in (None, principal.team):
                raise Problem(403, "Forbidden", "managers create forms for their own team")
            team, owner = principal.team, owner or principal.sub
        errors = {}
        if team is None:
            errors["owner_team"] = ["Required."]
        if owner is None:
            errors["owner_id"] = ["Required: who receives the form's leads."]
        if errors:
            raise Problem(422, "Unprocessable Content", "The request did not validate.",
                          errors={"json": errors})
        ctx = _ctx()
        key, now = new_key(), ctx.clock()
        form = WebForm(id=str(uuid.uuid4()), name=body["name"], key_hash=hash_key(key),
                       key_prefix=key[:8], owner_team=team, owner_id=owner,
                       rate_limit_per_minute=body["rate_limit_per_minute"], active=True,
                       created_at=now, created_by=principal.sub, key_rotated_at=now)
        with ctx.bus.session_factory() as session, session.begin():
            session.add(form)
        return _with_key(form, key)

    @blp.response(200, WebFormListSchema)
    @require_roles(*MANAGERS)
    def get(self) -> dict[str, Any]:
        """The forms of the caller's team (admins: all), newest first; keys are never listed."""
        principal = current_principal()
        stmt = select(WebForm).order_by(WebForm.created_at.desc(), WebForm.id)
        if not principal.is_admin:
            stmt = stmt.where(WebForm.owner_team == principal.team)
        with _ctx().bus.session_factory() as session:
            return {"items": list(session.scalars(stmt))}


@blp.route("/<string:form_id>")
class WebFormById(MethodView):
    @blp.response(204)
    @require_roles(*MANAGERS)
    def delete(self, form_id: str) -> None:
        """Deactivate the form: its key stops working at once; submissions are kept."""
        with _ctx().bus.session_factory() as session, session.begin():
            _form_in_scope(session, current_principal(), form_id, lock=True).active = False


@blp.route("/<string:form_id>/rotate-key")
class RotateKey(MethodView):
    @blp.response(200, WebFormWithKeySchema)
    @require_roles(*MANAGERS)
    def post(self, form_id: str) -> dict[str, Any]:
        """Replace the key (the old one stops working now); the new key is shown once."""
        ctx = _ctx()
        key = new_key()
        with ctx.bus.session_factory() as session, session.begin():
            form = _form_in_scope(session, current_principal(), form_id, lock=True)
            if not form.active:
                raise Problem(409, "Conflict", "the form is deactivated")
            form.key_hash, form.key_prefix, form.key_rotated_at = hash_key(key), key[:8], ctx.clock()
            return _with_key(form, key)


# -- the public submission ------------------------------------------------------------------


def _form_principal(form: WebForm) -> Principal:
    """The form as the intake's actor: ``registered_by`` and owner history name the form."""
    return Principal(sub=f"web-form:{form.id}", username=form.name, team=form.owner_team,
                     kind="webform")


@blp.route("/<string:form_id>/submissions")
class Submissions(MethodView):
    @blp.arguments(SubmissionSchema)
    @blp.response(202, SubmissionAcceptedSchema)
    @blp.alt_response(429, description="the form's per-minute limit; see Retry-After")
    @blp.doc(security=[], parameters=[{
        "in": "header", "name": KEY_HEADER, "required": True, "schema": {"type": "string"}}])
    def post(self, body: dict[str, Any], form_id: str) -> Any:
        """Public: register a lead from a web form, authenticated by the form's ``X-Form-Key``."""
        ctx = _ctx()
        with ctx.bus.session_factory() as session, session.begin():
            # The lock serializes this form's submissions so the count below is exact.
            form = session.get(WebForm, form_id, with_for_update=True)
            if form is None or not form.active or not key_matches(
                    request.headers.get(KEY_HEADER), form.key_hash):
                # One answer for unknown, inactive and wrong key: nothing to probe.
                raise Problem(401, "Unauthorized", "unknown form or wrong X-Form-Key")
            now = ctx.clock()
            recent = session.execute(
                select(func.count(), func.min(WebFormSubmission.at)).where(
                    WebFormSubmission.form_id == form.id,
                    WebFormSubmission.at > now - WINDOW)).one()
            if recent[0] >= form.rate_limit_per_minute:
                wait = retry_after(recent[1], now)
                return problem_response(
                    429, "Too Many Requests",
                    f"this form accepts {form.rate_limit_per_minute} submissions a minute",
                    headers={"Retry-After": str(wait)})
            outcome, lead_id = _submit(ctx, session, form, body)
            submission = WebFormSubmission(id=str(uuid.uuid4()), form_id=form.id, at=now,
                                           outcome=outcome, lead_id=lead_id,
                                           client_ip=(request.remote_addr or "")[:64] or None,
                                           message=None if outcome == SPAM else body["message"])
            session.add(submission)
        return {"submission_id": submission.id, "status": "received"}


def _submit(ctx: Deps, session: Session, form: WebForm,
            body: dict[str, Any]) -> tuple[str, str | None]:
    """Spam is dropped, an exact duplicate creates nothing (as in imports), else a new lead."""
    if body.get("website"):
        return SPAM, None
    lead_body = {"name": body["name"], "company": body["company"], "phone": body["phone"],
                 "email": body["email"], "source": SOURCE}
    existing = intake.exact_duplicate(dedupe.check(session, intake.candidate(lead_body)))
    if existing is not None:
        return DUPLICATE, existing.id
    lead = intake.create_lead(ctx, session, _form_principal(form), lead_body,
                              (form.owner_id, form.owner_team))
    return CREATED, lead.id
