"""Request and response shapes of the archive API, built from the card's field table so every
field carries its Chinese and English label in the OpenAPI description."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate

from httpapi import PageQuerySchema, StrictSchema
from httpapi.schemas import UtcDateTime

from ..domain import normalize_email, normalize_phone
from . import rules
from .fields import CARD_FIELDS, CONTACT_FIELDS, CardField

NOT_NULL = ("name", "owner_id")  # the card's required fields: never cleared
MONEY_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
MONEY = {"type": "string", "format": "decimal", "example": "120000.00"}
# The check character cannot be said in JSON Schema: clients (and the contract tests) know the
# format by name, like "phone".
USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"


class Money(fields.Decimal):
    """An amount as a string with at most two places ("1234.5"), what the document says."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or not re.match(MONEY_PATTERN, value):
            raise ValidationError("Must be an amount like 1234.50 (a string, at most 2 places).")
        return super()._deserialize(value, attr, data, **kwargs)


def _tax(value: str) -> None:
    try:
        rules.validate_uscc(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def _input_field(f: CardField, *, required: bool = False) -> fields.Field:
    meta: dict[str, Any] = {"description": f.description}
    kw: dict[str, Any] = {"metadata": meta, "required": required}
    if not required:
        kw["allow_none"] = f.name not in NOT_NULL
    if f.kind == "money":
        meta.update(MONEY, pattern=MONEY_PATTERN)
        return Money(places=2, as_string=True, **kw)
    if f.kind == "date":
        return fields.Date(**kw)
    if f.kind == "choice":
        return fields.String(validate=validate.OneOf(f.choices), **kw)
    if f.kind == "email":
        return fields.Email(validate=validate.Length(max=f.size), **kw)
    if f.kind == "tax":
        meta.update(format="uscc", pattern=USCC_PATTERN)
        return fields.String(validate=[validate.Length(min=18, max=18), _tax], **kw)
    if f.kind == "phone":
        meta["format"] = "phone"
    return fields.String(validate=validate.Length(min=1, max=f.size), **kw)


def _normalize(data: dict[str, Any], specs: tuple[CardField, ...]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    for f in specs:
        value = data.get(f.name)
        if not value:
            continue
        if f.kind == "phone":
            try:
                data[f.name] = normalize_phone(value)
            except ValueError as exc:
                errors[f.name] = [str(exc).capitalize() + "."]
        elif f.kind == "email":
            data[f.name] = normalize_email(value)
        elif f.kind == "tax":
            data[f.name] = rules.validate_uscc(value)
        elif f.kind in ("text", "long"):
            data[f.name] = value.strip() or None
    if errors:
        raise ValidationError(errors)
    return data


class ContactInSchema(StrictSchema):
    """联系信息: one contact person."""

    category = _input_field(CONTACT_FIELDS[0], required=True)
    name = _input_field(CONTACT_FIELDS[1], required=True)
    department_title = _input_field(CONTACT_FIELDS[2])
    phone = _input_field(CONTACT_FIELDS[3])
    fax = _input_field(CONTACT_FIELDS[4])
    mobile = _input_field(CONTACT_FIELDS[5])
    email = _input_field(CONTACT_FIELDS[6])

    @post_load
    def _norm(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return _normalize(data, CONTACT_FIELDS)


def _card_edit_schema() -> type[Schema]:
    attrs: dict[str, Any] = {f.name: _input_field(f) for f in CARD_FIELDS}
    attrs["contacts"] = fields.List(
        fields.Nested(ContactInSchema), validate=validate.Length(max=50),
        metadata={"description": "联系信息 / Contacts: the full list (replaces the current one); "
                                 "the first primary is the main contact"})

    @post_load
    def _norm(self: Schema, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return _normalize(data, CARD_FIELDS)

    attrs["_norm"] = _norm
    return type("CardFieldsSchema", (StrictSchema,), attrs)


CardFieldsSchema = _card_edit_schema()


class CardEditSchema(CardFieldsSchema):  # type: ignore[valid-type,misc]
    """A direct edit by the archive clerk: any card fields, plus the written reason."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=500),
                           metadata={"description": "修改原因 / Why (kept in the audit trail)"})


class ChangeRequestInSchema(CardEditSchema):
    """A change request (§2.6: content and reason in writing) for the archive clerk."""


class DecisionSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500),
                           metadata={"description": "Why (kept in the audit trail)"})


class OptionalReasonSchema(StrictSchema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=500),
                           metadata={"description": "Why (kept in the audit trail)"})


class StatusChangeSchema(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(rules.STATUSES),
                           metadata={"description": "状态 / active 活跃客户, inactive 非活跃客户, "
                                                    "lost 丢失客户"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class ViolationInSchema(StrictSchema):
    occurred_on = fields.Date(required=True, metadata={"description": "时间 / When"})
    kind = fields.String(required=True, validate=validate.Length(min=1, max=100),
                         metadata={"description": "类型 / Type"})
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000),
                                metadata={"description": "事件描述 / Description"})


class EvaluationInSchema(StrictSchema):
    evaluator = fields.String(required=True, validate=validate.Length(min=1, max=100),
                              metadata={"description": "评价人 / Evaluator"})
    text = fields.String(required=True, validate=validate.Length(min=1, max=4000),
                         metadata={"description": "评价 / Evaluation"})


# --- output ------------------------------------------------------------------------------------
def _output_field(f: CardField) -> fields.Field:
    meta = {"description": f.description}
    if f.kind == "money":
        return fields.Decimal(places=2, as_string=True, allow_none=True, metadata={**meta, **MONEY})
    if f.kind == "date":
        return fields.Date(allow_none=True, metadata=meta)
    return fields.String(allow_none=True, metadata=meta)


class ContactSchema(Schema):
    id = fields.String()
    category = fields.String(metadata={"description": "类别 / primary | secondary | other"})
    name = fields.String(metadata={"description": "姓名 / Name"})
    department_title = fields.String(allow_none=True, metadata={"description": "部门及职务"})
    phone = fields.String(allow_none=True, metadata={"description": "电话 / Phone"})
    fax = fields.String(allow_none=True, metadata={"description": "传真 / Fax"})
    mobile = fields.String(allow_none=True, metadata={"description": "手机 / Mobile"})
    email = fields.String(allow_none=True, metadata={"description": "Email"})


class ViolationSchema(Schema):
    id = fields.String()
    occurred_on = fields.Date(metadata={"description": "时间 / When"})
    kind = fields.String(metadata={"description": "类型 / Type"})
    description = fields.String(metadata={"description": "事件描述 / Description"})
    recorded_by = fields.String()
    recorded_at = UtcDateTime()


class EvaluationSchema(Schema):
    id = fields.String()
    evaluator = fields.String(metadata={"description": "评价人 / Evaluator"})
    text = fields.String(metadata={"description": "评价 / Evaluation"})
    recorded_by = fields.String()
    recorded_at = UtcDateTime()


def _card_schema() -> type[Schema]:
    attrs: dict[str, Any] = {f.name: _output_field(f) for f in CARD_FIELDS}
    attrs.update(
        id=fields.String(),
        code=fields.String(metadata={"description": "客户编号 / Account code"}),
        source_lead_id=fields.String(allow_none=True, metadata={
            "description": "The lead this account was converted from"}),
        status=fields.String(metadata={"description": "状态 / active 活跃客户 | inactive 非活跃客户 | "
                                                      "lost 丢失客户"}),
        status_reason=fields.String(allow_none=True),
        archive_state=fields.String(metadata={"description": "档案流程 / draft | pending_review | "
                                                             "pending_approval | approved | rejected"}),
        grade=fields.String(allow_none=True, metadata={"description": "客户等级 / Grade A-E"}),
        grade_score=fields.Decimal(places=2, as_string=True, allow_none=True,
                                   metadata={**MONEY, "description": "客户等级评分 / Grade score"}),
        credit_limit=fields.String(allow_none=True, metadata={
            "description": "信用额度 / Credit limit (read-only; from the credit capability)"}),
        points_balance=fields.Integer(metadata={"description": "积分 / Referral points balance"}),
        review_due_on=fields.Date(allow_none=True, metadata={"description": "Next re-approval"}),
        created_at=UtcDateTime(metadata={"description": "录入时间 / Entry time"}),
        updated_at=UtcDateTime(),
        version=fields.Integer(),
    )
    return type("AccountCardSchema", (Schema,), attrs)


AccountSchema = _card_schema()


class AccountDetailSchema(AccountSchema):  # type: ignore[valid-type,misc]
    contacts = fields.List(fields.Nested(ContactSchema), metadata={"description": "联系信息"})
    violations = fields.List(fields.Nested(ViolationSchema), metadata={"description": "违规记录"})
    evaluations = fields.List(fields.Nested(EvaluationSchema), metadata={"description": "客户评价"})


class AccountListQuerySchema(PageQuerySchema):
    owner_id = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    q = fields.String(load_default=None, validate=validate.Length(min=1, max=100), metadata={
        "description": "Search: name prefix, or a phone number (account or contact), or a tax number"})
    status = fields.String(load_default=None, validate=validate.OneOf(rules.STATUSES))
    archive_state = fields.String(load_default=None, validate=validate.OneOf(rules.ARCHIVE_STATES))
    grade = fields.String(load_default=None, validate=validate.OneOf(("A", "B", "C", "D", "E")))


SUMMARY_FIELDS = ("id", "code", "name", "company", "phone", "email", "owner_id", "owner_team",
                  "source_lead_id", "status", "archive_state", "grade", "region", "tax_number",
                  "created_at", "updated_at", "version")


class AccountSummarySchema(AccountSchema):  # type: ignore[valid-type,misc]
    """A list row: the header of the card (the full card is GET /accounts/{id})."""

    class Meta:
        fields = SUMMARY_FIELDS


class AccountPageSchema(Schema):
    items = fields.List(fields.Nested(AccountSummarySchema))
    next_cursor = fields.String(allow_none=True)


class ChangeRequestSchema(Schema):
    id = fields.String()
    account_id = fields.String()
    requested_by = fields.String()
    requested_at = UtcDateTime()
    changes = fields.Dict(metadata={"description": "field → requested value"})
    reason = fields.String()
    state = fields.String(metadata={"description": "pending | applied | rejected"})
    decided_by = fields.String(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)


class ChangeRequestListSchema(Schema):
    items = fields.List(fields.Nested(ChangeRequestSchema))


class ChangeRequestQuerySchema(StrictSchema):
    state = fields.String(load_default="pending", validate=validate.OneOf(
        ("pending", "applied", "rejected")))
