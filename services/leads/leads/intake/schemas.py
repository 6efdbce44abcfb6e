"""Request and response shapes of the leads API."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from httpapi import PageQuerySchema, StrictSchema
from httpapi.schemas import UtcDateTime
from leads.intake.matching import DEFAULT_THRESHOLD
from leads.intake.rules import REFERRER_TYPES, SOURCES, normalize_email, normalize_phone

_text = validate.Length(min=1, max=200)


class ContactSchema(StrictSchema):
    """Who the lead is; phone/e-mail normalized on load so every rule sees one form."""

    name = fields.String(required=True, validate=_text, metadata={"description": "Contact person"})
    company = fields.String(load_default=None, allow_none=True, validate=_text)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40),
                          metadata={"description": "Any format; stored as E.164 (default region CN)"})
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))

    @validates_schema
    def _contact(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("phone") and not data.get("email"):
            raise ValidationError("A phone or an email is required.", "phone")

    @post_load
    def _normalize(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return _normalize_contact(data)


def _normalize_contact(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("phone"):
        try:
            data["phone"] = normalize_phone(data["phone"])
        except ValueError as exc:
            raise ValidationError(str(exc).capitalize() + ".", "phone") from exc
    if data.get("email"):
        data["email"] = normalize_email(data["email"])
    return data


class LeadCreateSchema(ContactSchema):
    source = fields.String(required=True, validate=validate.OneOf(SOURCES),
                           metadata={"description": "The intake channel"})
    owner_id = fields.String(load_default=None, validate=validate.Length(min=1, max=100),
                             metadata={"description": "Managers, admins and integrations only; "
                                                      "reps own what they register"})
    owner_team = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    show_name = fields.String(load_default=None, allow_none=True, validate=_text,
                              metadata={"description": "The trade show or event the lead came from"})
    show_ended_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "trade_show / event: the show's last day; its 1- and 2-week follow-up "
                       "deadlines run from the end of that day (else from registration)"})
    referrer_type = fields.String(load_default=None, allow_none=True,
                                  validate=validate.OneOf(REFERRER_TYPES),
                                  metadata={"description": "referral only: who referred (lead | account)"})
    referrer_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=36),
                                metadata={"description": "referral only: the referring lead or account; "
                                                         "the new lead goes to its owner"})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000),
                         metadata={"description": "Kept on the visit when a walk-in/call is recorded "
                                                  "on an existing lead"})
    assign_by_rotation = fields.Boolean(
        load_default=False,
        metadata={"description": "Walk-in or call registered at reception: the caller's team's "
                                 "rotation for today picks the owner (轮流接待); a returning "
                                 "customer is recorded as a visit and takes no turn"})
    named_rep = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=100),
                              metadata={"description": "With assign_by_rotation: the rep the customer "
                                                       "asked for, served outside the rotation"})

    @validates_schema
    def _rotation(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("named_rep") and not data.get("assign_by_rotation"):
            raise ValidationError("Only with assign_by_rotation.", "named_rep")
        if data.get("assign_by_rotation"):
            if data.get("source") not in ("walk_in", "phone_call"):
                raise ValidationError("The rotation receives walk-ins and calls only.", "assign_by_rotation")
            if data.get("owner_id"):
                raise ValidationError("Either an owner or the rotation, not both.", "owner_id")

    @validates_schema
    def _show(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("show_ended_on") and data.get("source") not in SHOW_SOURCES:
            raise ValidationError("Only for a trade_show or event lead.", "show_ended_on")

    @validates_schema
    def _referral(self, data: dict[str, Any], **_: Any) -> None:
        referral = data.get("source") == "referral"
        errors: dict[str, list[str]] = {}
        for name in ("referrer_type", "referrer_id"):
            if referral and not data.get(name):
                errors[name] = ["Required for a referral."]
            if not referral and data.get(name):
                errors[name] = ["Only for source referral."]
        if referral and data.get("owner_id"):
            errors["owner_id"] = ["A referral belongs to the referrer's owner."]
        if errors:
            raise ValidationError(errors)


class ImportRowSchema(ContactSchema):
    """One row of a trade-show or event import (CSV columns or JSON keys)."""


IMPORT_SOURCES = ("trade_show", "event", "api_import")
SHOW_SOURCES = ("trade_show", "event")


class ImportOptionsSchema(StrictSchema):
    show_name = fields.String(load_default=None, validate=_text,
                              metadata={"description": "Required for trade_show and event"})
    source = fields.String(load_default="trade_show", validate=validate.OneOf(IMPORT_SOURCES))
    show_ended_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "trade_show / event: the show's last day (cadences run from its end)"})

    @validates_schema
    def _show(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("source") in SHOW_SOURCES and not data.get("show_name"):
            raise ValidationError("Required for a trade show or event import.", "show_name")
        if data.get("show_ended_on") and data.get("source") not in SHOW_SOURCES:
            raise ValidationError("Only for a trade show or event import.", "show_ended_on")


class ImportJsonSchema(ImportOptionsSchema):
    rows = fields.List(fields.Dict(), required=True, validate=validate.Length(min=1, max=5000),
                       metadata={"description": "Rows with name, company, phone, email"})


class DedupeCheckSchema(StrictSchema):
    name = fields.String(load_default=None, allow_none=True, validate=_text)
    company = fields.String(load_default=None, allow_none=True, validate=_text)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    threshold = fields.Float(load_default=DEFAULT_THRESHOLD, validate=validate.Range(min=50, max=100),
                             metadata={"description": "Fuzzy company/person similarity, 50 to 100"})

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if not any(data.get(f) for f in ("phone", "email", "company")):
            raise ValidationError("A phone, an email or a company is required.", "phone")

    @post_load
    def _normalize(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return _normalize_contact(data)


class MatchSchema(Schema):
    kind = fields.String(metadata={"description": "lead | account"})
    id = fields.String(metadata={"description": "The matched lead or account"})
    code = fields.String(allow_none=True)
    owner_id = fields.String(allow_none=True)
    rule = fields.String(metadata={"description": "phone_exact | email_exact | "
                                                  "company_person_fuzzy | company_fuzzy"})
    score = fields.Float(metadata={"description": "0 to 100; exact rules score 100"})
    fields_ = fields.List(fields.String(), data_key="fields",
                          attribute="fields", metadata={"description": "The fields that matched"})
    visible = fields.Boolean(metadata={"description": "Whether the caller may open the lead"})


class NormalizedSchema(Schema):
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    company_key = fields.String(allow_none=True)


class DedupeResultSchema(Schema):
    normalized = fields.Nested(NormalizedSchema)
    matches = fields.List(fields.Nested(MatchSchema))


class ConvertSchema(StrictSchema):
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class LeadSchema(Schema):
    id = fields.String()
    code = fields.String()
    name = fields.String()
    company = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    source = fields.String()
    owner_id = fields.String()
    owner_team = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "open | converted | lost | terminated"})
    account_id = fields.String(allow_none=True,
                               metadata={"description": "Set once accounts has opened the account"})
    registered_by = fields.String()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    converted_at = UtcDateTime(allow_none=True)
    converted_by = fields.String(allow_none=True)
    version = fields.Integer()
    show_name = fields.String(allow_none=True)
    referrer_type = fields.String(allow_none=True)
    referrer_id = fields.String(allow_none=True)
    merged_into = fields.String(allow_none=True,
                                metadata={"description": "Set when merged into that lead (a tombstone)"})
    # Pipeline (leads.api_pipeline): stage, checklist facts, A/B/C class and follow-up plan.
    stage = fields.String(metadata={"description": "An active stage of the policy, or won | lost | "
                                                   "terminated"})
    stage_entered_at = UtcDateTime(allow_none=True)
    checklist = fields.Dict(keys=fields.String(), values=fields.Boolean(),
                            metadata={"description": "Exit checklist facts recorded so far"})
    tracking_class = fields.String(allow_none=True, metadata={"description": "A | B | C"})
    next_step = fields.String(allow_none=True)
    next_follow_up_at = UtcDateTime(allow_none=True)
    lost_reason = fields.String(allow_none=True, metadata={"description": "Lost or termination reason"})
    closed_at = UtcDateTime(allow_none=True)
    show_ended_on = fields.Date(allow_none=True, metadata={"description": "The show's last day"})
    invoiced_at = UtcDateTime(allow_none=True, metadata={
        "description": "When accounts invoiced the lead's deal: tracking stops there"})
    invoice_id = fields.String(allow_none=True)


class VisitSchema(Schema):
    id = fields.String()
    lead_id = fields.String()
    channel = fields.String(metadata={"description": "walk_in | phone_call"})
    at = UtcDateTime()
    by = fields.String()
    note = fields.String(allow_none=True)


class LeadIntakeSchema(LeadSchema):
    """A registration's answer: the new lead (201), or the existing one a visit was recorded on
    (200; its details only if the caller may see it), with the dedupe matches either way."""

    visit_recorded = fields.Boolean()
    visit = fields.Nested(VisitSchema, allow_none=True)
    matches = fields.List(fields.Nested(MatchSchema))


class ImportRowResultSchema(Schema):
    row = fields.Integer(metadata={"description": "1-based data row (the CSV header is not a row)"})
    status = fields.String(metadata={"description": "created | duplicate | error"})
    lead_id = fields.String(allow_none=True)
    code = fields.String(allow_none=True)
    owner_id = fields.String(allow_none=True, metadata={
        "description": "Who owns the lead: the importer for a created row, the first "
                       "registrant's (current) owner for a duplicate"})
    errors = fields.Dict(allow_none=True, metadata={"description": "Field → messages"})
    matches = fields.List(fields.Nested(MatchSchema))


class ImportResultSchema(Schema):
    show_name = fields.String(allow_none=True)
    source = fields.String()
    created = fields.Integer()
    duplicates = fields.Integer()
    errors = fields.Integer()
    rows = fields.List(fields.Nested(ImportRowResultSchema))


class MergeSchema(StrictSchema):
    duplicate_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class UnmergeSchema(StrictSchema):
    duplicate_id = fields.String(required=True, validate=validate.Length(min=1, max=36))


class MergeResultSchema(Schema):
    merge_id = fields.String()
    survivor = fields.Nested(LeadSchema)
    merged = fields.Nested(LeadSchema)


class AuthorizedQuerySchema(StrictSchema):
    company = fields.String(required=True, validate=validate.Length(min=2, max=200))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


class AuthorizedItemSchema(Schema):
    """Deliberately no contact, no lead id: enough to know whom to ask, nothing to poach."""

    kind = fields.String(metadata={"description": "lead | account"})
    company = fields.String()
    owner_id = fields.String(allow_none=True)
    protected_until = UtcDateTime(allow_none=True,
                                  metadata={"description": "When the owner's protection ends (from "
                                                           "registration or the last qualifying "
                                                           "contact); null for an account"})
    score = fields.Float()


class AuthorizedListSchema(Schema):
    company_key = fields.String(allow_none=True)
    items = fields.List(fields.Nested(AuthorizedItemSchema))


class LeadListQuerySchema(PageQuerySchema):
    status = fields.String(load_default=None,
                           validate=validate.OneOf(("open", "converted", "lost", "terminated")))
    source = fields.String(load_default=None, validate=validate.OneOf(SOURCES))
    owner_id = fields.String(load_default=None)


class LeadPageSchema(Schema):
    items = fields.List(fields.Nested(LeadSchema))
    next_cursor = fields.String(allow_none=True)
