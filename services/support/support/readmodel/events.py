"""What support reads of accounts' events: the ``account`` snapshot (CONTRACTS.md, common shapes),
or, in today's ``accounts.account.opened.v1`` that may lack it, the top-level fields."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

ACCOUNT_OPENED = "accounts.account.opened.v1"
CREDIT_HOLD_PLACED = "accounts.credit.hold_placed.v1"
CREDIT_HOLD_RELEASED = "accounts.credit.hold_released.v1"
# Bound as topic patterns, so account events accounts adds later reach the read model too.
ACCOUNT_PATTERNS = ("accounts.account.#", "accounts.archive.#")

_short = validate.Length(max=200)


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class ContactIn(_Lenient):
    name = fields.String(load_default=None, allow_none=True, validate=_short)
    title = fields.String(load_default=None, allow_none=True, validate=_short)
    mobile = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    email = fields.String(load_default=None, allow_none=True, validate=_short)


class AccountSnapshotIn(_Lenient):
    id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    code = fields.String(required=True, validate=validate.Length(max=20))
    name = fields.String(required=True, validate=_short)
    owner_id = fields.String(required=True, validate=validate.Length(max=100))
    owner_team = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    status = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    archive_state = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    grade = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5))
    member = fields.Boolean(load_default=False, allow_none=True)
    key_customer = fields.Boolean(load_default=False, allow_none=True)
    credit_hold = fields.Boolean(load_default=False, allow_none=True)
    city = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    timezone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60))
    contact = fields.Nested(ContactIn, load_default=None, allow_none=True)
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class AccountOpenedIn(_Lenient):
    """``accounts.account.opened.v1``: the top-level fields are always there; the snapshot is
    optional (added by the accounts archive work) and wins when present."""

    account_id = fields.String(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    owner_id = fields.String(required=True)
    owner_team = fields.String(load_default=None, allow_none=True)
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    account = fields.Nested(AccountSnapshotIn, allow_none=True)  # absent in today's events


class AccountEventIn(_Lenient):
    """Any other account, archive or credit-hold event: only the snapshot matters. An event
    without one (e.g. an older ``accounts.account.linked.v1``) changes nothing."""

    account_id = fields.String()
    account = fields.Nested(AccountSnapshotIn, allow_none=True)
