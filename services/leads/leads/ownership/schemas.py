"""Request and response shapes of the ownership API (policy, protection, owners, splits, rotation)."""

from __future__ import annotations

import dataclasses
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from httpapi import StrictSchema
from httpapi.schemas import UtcDateTime, any_but_null
from leads.ownership.rules import ConflictRule, ContactKind
from leads.policy.rules import LeadPolicy

_name = validate.Length(min=1, max=100)
_reason = validate.Length(min=1, max=2000)


# --- policy ----------------------------------------------------------------------------------

class PolicySchema(Schema):
    version = fields.Integer(metadata={"description": "0 while the documents' defaults apply"})
    updated_at = UtcDateTime(allow_none=True)
    updated_by = fields.String(allow_none=True)
    policy = fields.Dict(metadata={"description": "Every policy field with its value"})


def _policy_update_schema() -> type[Schema]:
    """Every policy field optional (values are checked by LeadPolicy, which names each bad field),
    plus the required reason; unknown fields are refused by StrictSchema."""
    attrs: dict[str, Any] = {
        f.name: any_but_null() for f in dataclasses.fields(LeadPolicy) if f.init}
    attrs["reason"] = fields.String(required=True, validate=_reason,
                                    metadata={"description": "Why (kept in the audit)"})
    return type("PolicyUpdateSchema", (StrictSchema,), attrs)


PolicyUpdateSchema = _policy_update_schema()


class PolicyChangeSchema(Schema):
    version = fields.Integer()
    at = UtcDateTime()
    actor = fields.String()
    reason = fields.String()
    changes = fields.Dict(metadata={"description": "field → [old, new]"})


class PolicyChangeListSchema(Schema):
    items = fields.List(fields.Nested(PolicyChangeSchema))


# --- protection -----------------------------------------------------------------------------

class LeadContactCreateSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in ContactKind]))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class LeadContactSchema(Schema):
    id = fields.String()
    lead_id = fields.String()
    at = UtcDateTime()
    kind = fields.String()
    by = fields.String()
    out_of_town = fields.Boolean(metadata={"description": "The lead was out of town at the time"})
    note = fields.String(allow_none=True)


class RenewalSchema(Schema):
    at = UtcDateTime()
    kind = fields.String()
    by = fields.String()


class ProtectionSchema(Schema):
    lead_id = fields.String()
    owner = fields.String()
    status = fields.String(metadata={"description": "protected | expiring | expired | claimable"})
    out_of_town = fields.Boolean()
    anchor_at = UtcDateTime(metadata={"description": "Owner's start or last qualifying contact"})
    protected_until = UtcDateTime()
    expiring_from = UtcDateTime()
    claimable_at = UtcDateTime()
    renewed_by = fields.Nested(RenewalSchema, allow_none=True)


class LeadContactResultSchema(Schema):
    contact = fields.Nested(LeadContactSchema)
    qualifying = fields.Boolean(metadata={"description": "Whether it renewed the owner's protection"})
    protection = fields.Nested(ProtectionSchema)


class LeadContactListSchema(Schema):
    items = fields.List(fields.Nested(LeadContactSchema))


class OutOfTownSchema(StrictSchema):
    out_of_town = fields.Boolean(required=True)


# --- owners ---------------------------------------------------------------------------------

REASON_REQUIRED = (ConflictRule.MANAGER_DECISION.value, ConflictRule.CLAIM_AFTER_INACTIVITY.value,
                   ConflictRule.REDISTRIBUTION.value)


class ReassignSchema(StrictSchema):
    to_owner = fields.String(required=True, validate=_name)
    to_team = fields.String(load_default=None, allow_none=True, validate=_name,
                            metadata={"description": "Default: the lead's team"})
    rule = fields.String(required=True, validate=validate.OneOf([r.value for r in ConflictRule]))
    reason = fields.String(load_default=None, allow_none=True, validate=_reason,
                           metadata={"description": "Required for " + ", ".join(REASON_REQUIRED)})

    @validates_schema
    def _reason(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("rule") in REASON_REQUIRED and not (data.get("reason") or "").strip():
            raise ValidationError(f"A written reason is required for {data['rule']}.", "reason")


class OwnerChangeSchema(Schema):
    at = UtcDateTime()
    from_owner = fields.String(allow_none=True)
    from_team = fields.String(allow_none=True)
    to_owner = fields.String()
    to_team = fields.String(allow_none=True)
    actor = fields.String()
    rule = fields.String()
    reason = fields.String()


class HistorySchema(Schema):
    items = fields.List(fields.Nested(OwnerChangeSchema))


class ShareSchema(Schema):
    rep = fields.String()
    percent = fields.Decimal(as_string=True, places=2, metadata={
        "type": "string", "format": "decimal", "example": "80.00",
        "description": "two places; the shares sum to 100"})


class SplitSchema(Schema):
    split_id = fields.String(allow_none=True)
    situation = fields.String(allow_none=True)
    at = UtcDateTime(allow_none=True)
    by = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    shares = fields.List(fields.Nested(ShareSchema))


class ReassignResultSchema(Schema):
    changed = fields.Boolean()
    owner_id = fields.String()
    owner_team = fields.String(allow_none=True)
    version = fields.Integer()
    change = fields.Nested(OwnerChangeSchema, allow_none=True)
    explanation = fields.String()
    split = fields.Nested(SplitSchema, allow_none=True,
                          metadata={"description": "Recorded for when the deal closes (rule 2, 4)"})


SITUATIONS = {  # situation → the rep fields it needs
    "chose_other_rep": ("chosen",),
    "served_in_owners_absence": ("assistant",),
    "forgot_who_served": ("serving_rep", "earlier_rep"),
    "named_on_nth_visit": ("named_rep", "earlier"),
    "sole_credit": ("rep",),
    "same_day_deal": ("serving_rep", "earlier_rep"),
    "cross_over_dispute": (),
    "followed_others_authorized": ("follower",),
}


class SplitCreateSchema(StrictSchema):
    situation = fields.String(required=True, validate=validate.OneOf(list(SITUATIONS)))
    owner = fields.String(load_default=None, validate=_name,
                          metadata={"description": "chose_other_rep / served_in_owners_absence: "
                                                   "the owner (default the lead's)"})
    chosen = fields.String(load_default=None, validate=_name)
    assistant = fields.String(load_default=None, validate=_name)
    serving_rep = fields.String(load_default=None, validate=_name)
    earlier_rep = fields.String(load_default=None, validate=_name)
    named_rep = fields.String(load_default=None, validate=_name)
    earlier = fields.List(fields.String(validate=_name), load_default=None,
                          validate=validate.Length(min=1, max=20),
                          metadata={"description": "named_on_nth_visit: reps of earlier visits"})
    rep = fields.String(load_default=None, validate=_name)
    follower = fields.String(load_default=None, validate=_name, metadata={
        "description": "followed_others_authorized: who followed up the owner's customer"})
    approved = fields.Boolean(load_default=False, metadata={
        "description": "followed_others_authorized: the department approved the joint "
                       "follow-up (else the follower earns no commission)"})
    reason = fields.String(load_default=None, allow_none=True, validate=_reason)

    @validates_schema
    def _reps(self, data: dict[str, Any], **_: Any) -> None:
        needed = SITUATIONS.get(data.get("situation", ""), ())
        missing = {name: ["Required for this situation."] for name in needed if not data.get(name)}
        if missing:
            raise ValidationError(missing)


# --- rotation and redistribution ----------------------------------------------------------------

class RosterSchema(StrictSchema):
    reps = fields.List(fields.String(validate=_name), required=True,
                       validate=validate.Length(min=1, max=100),
                       metadata={"description": "On-duty reps in rotation order"})


class RepSchema(StrictSchema):
    rep = fields.String(required=True, validate=_name)


RECEPTION_KINDS = ("new_customer", "named_rep", "returning_customer")


class NextSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(RECEPTION_KINDS))
    customer = fields.String(load_default="", validate=validate.Length(max=200),
                             metadata={"description": "Who came (for the register)"})
    names = fields.List(fields.String(validate=_name), load_default=None,
                        validate=validate.Length(min=1, max=20),
                        metadata={"description": "named_rep: reps the customer named, in order"})
    owner = fields.String(load_default=None, validate=_name,
                          metadata={"description": "returning_customer: their rep"})

    @validates_schema
    def _needs(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("kind") == "named_rep" and not data.get("names"):
            raise ValidationError("Required for named_rep.", "names")
        if data.get("kind") == "returning_customer" and not data.get("owner"):
            raise ValidationError("Required for returning_customer.", "owner")


class RotationStateSchema(Schema):
    team = fields.String()
    day = fields.Date()
    order = fields.List(fields.String())
    position = fields.Integer()
    next_rep = fields.String(allow_none=True, metadata={"description": "Who takes the next turn"})
    away = fields.List(fields.String())
    makeup = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "rep → make-up turns owed"})
    turns = fields.Dict(keys=fields.String(), values=fields.Integer(),
                        metadata={"description": "rep → turns taken today"})
    version = fields.Integer()


class AssignmentSchema(Schema):
    rep = fields.String(metadata={"description": "Whose customer it is"})
    served_by = fields.String(metadata={"description": "Who receives them now"})
    kind = fields.String(metadata={"description": "rotation | makeup | named | returning | "
                                                  "returning_assisted"})
    consumed_turn = fields.Boolean()
    reason = fields.String()
    skipped_away = fields.List(fields.String())
    state = fields.Nested(RotationStateSchema)


class RotationLogItemSchema(Schema):
    at = UtcDateTime()
    actor = fields.String()
    action = fields.String(metadata={"description": "roster | away | returned | next"})
    rep = fields.String(allow_none=True)
    served_by = fields.String(allow_none=True)
    kind = fields.String(allow_none=True)
    customer = fields.String(allow_none=True)
    consumed_turn = fields.Boolean(allow_none=True)
    reason = fields.String()


class RotationLogSchema(Schema):
    items = fields.List(fields.Nested(RotationLogItemSchema))


class RedistributeSchema(StrictSchema):
    from_rep = fields.String(required=True, validate=_name)
    to_reps = fields.List(fields.String(validate=_name), required=True,
                          validate=validate.Length(min=1, max=100))
    method = fields.String(load_default="random", validate=validate.OneOf(("random", "even")))
    seed = fields.String(load_default=None, validate=validate.Length(min=1, max=100),
                         metadata={"description": "Same seed and inputs, same draw; "
                                                  "generated and returned if absent"})
    reason = fields.String(load_default=None, allow_none=True, validate=_reason)


class EventSharingSchema(StrictSchema):
    show_name = fields.String(required=True, validate=validate.Length(min=1, max=200),
                              metadata={"description": "The event (科普 / seminar) as registered"})
    participants = fields.List(fields.String(validate=_name), required=True,
                               validate=validate.Length(min=1, max=100),
                               metadata={"description": "The staff who took part"})
    reason = fields.String(load_default=None, allow_none=True, validate=_reason)


class RedistributedLeadSchema(Schema):
    lead_id = fields.String()
    code = fields.String()
    to_owner = fields.String()


class RedistributionSchema(Schema):
    id = fields.String()
    at = UtcDateTime()
    actor = fields.String()
    from_rep = fields.String()
    team = fields.String(allow_none=True)
    method = fields.String()
    seed = fields.String()
    to_reps = fields.List(fields.String())
    assignments = fields.List(fields.Nested(RedistributedLeadSchema))
    log = fields.List(fields.String())
    reason = fields.String(allow_none=True)
