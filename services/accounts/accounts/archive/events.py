"""Events of the archive: field changes, status changes, the group GM's decision.

Every payload starts with the account's identity (``base``) so consumers need no lookup
(helpers/CONTRACTS.md): account_id, account_code, account_name, owner_id, owner_team.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from eventbus.contracts import publishes

from ..models import Account

ACCOUNT_UPDATED = "accounts.account.updated.v1"
STATUS_CHANGED = "accounts.account.status_changed.v1"
ARCHIVE_APPROVED = "accounts.archive.approved.v1"
ARCHIVE_REJECTED = "accounts.archive.rejected.v1"


def base(account: Account) -> dict[str, Any]:
    return {"account_id": account.id, "account_code": account.code,
            "account_name": account.name, "owner_id": account.owner_id,
            "owner_team": account.owner_team}


def updated_payload(account: Account, changed: dict[str, dict[str, Any]], *, actor: str,
                    reason: str) -> dict[str, Any]:
    return {**base(account), "changed": changed, "actor": actor, "reason": reason,
            "version": account.version}


def status_payload(account: Account, old: str, *, reason: str) -> dict[str, Any]:
    return {**base(account), "old_status": old, "new_status": account.status, "reason": reason,
            "version": account.version}


def approved_payload(account: Account, *, by: str) -> dict[str, Any]:
    return {**base(account), "approved_by": by, "grade": account.grade,
            "valid_until": account.valid_until.isoformat() if account.valid_until else None,
            "version": account.version}


def rejected_payload(account: Account, *, by: str, reason: str) -> dict[str, Any]:
    return {**base(account), "rejected_by": by, "reason": reason, "version": account.version}


class ContactSnapshotData(Schema):
    name = fields.String(required=True, allow_none=True)
    title = fields.String(required=True, allow_none=True)
    mobile = fields.String(required=True, allow_none=True)
    email = fields.String(required=True, allow_none=True)


class AccountSnapshotData(Schema):
    """The account as read models keep it (support's read model applies the highest version)."""

    id = fields.String(required=True, metadata={"format": "uuid"})
    code = fields.String(required=True)
    name = fields.String(required=True)
    owner_id = fields.String(required=True)
    owner_team = fields.String(required=True, allow_none=True)
    status = fields.String(required=True, metadata={"description": "active | inactive | lost"})
    archive_state = fields.String(required=True)
    grade = fields.String(required=True, allow_none=True)
    member = fields.Boolean(required=True, metadata={"description": "grade A or B (VIP rules)"})
    key_customer = fields.Boolean(required=True, metadata={"description": "grade A"})
    credit_hold = fields.Boolean(required=True)
    city = fields.String(required=True, allow_none=True, metadata={"description": "the region"})
    timezone = fields.String(required=True, allow_none=True)
    contact = fields.Nested(ContactSnapshotData, required=True, allow_none=True,
                            metadata={"description": "the primary contact"})
    version = fields.Integer(required=True)


class AccountRefData(Schema):
    """The identity every accounts event carries."""

    account_id = fields.String(required=True, metadata={"format": "uuid"})
    account_code = fields.String(required=True, metadata={"description": "C-000001"})
    account_name = fields.String(required=True)
    owner_id = fields.String(required=True, metadata={"description": "the owning rep (业务员)"})
    owner_team = fields.String(required=True, allow_none=True)


_version = fields.Integer(required=True, validate=validate.Range(min=1),
                          metadata={"description": "the account's version: keep the highest"})


class AccountUpdatedData(AccountRefData):
    account = fields.Nested(AccountSnapshotData, metadata={"description": "the account after "
                                                                         "the change (optional)"})
    changed = fields.Dict(required=True, metadata={
        "description": 'field → {"before": old, "after": new}; bank account numbers masked'})
    actor = fields.String(required=True)
    reason = fields.String(required=True)
    version = _version


class StatusChangedData(AccountRefData):
    account = fields.Nested(AccountSnapshotData, metadata={"description": "the account after "
                                                                         "the change (optional)"})
    old_status = fields.String(required=True, metadata={"description": "active | inactive | lost"})
    new_status = fields.String(required=True, metadata={"description": "active | inactive | lost"})
    reason = fields.String(required=True)
    version = _version


class ArchiveApprovedData(AccountRefData):
    account = fields.Nested(AccountSnapshotData, metadata={"description": "the account after "
                                                                         "the change (optional)"})
    approved_by = fields.String(required=True)
    grade = fields.String(required=True, allow_none=True)
    valid_until = fields.Date(required=True, allow_none=True)
    version = _version


class ArchiveRejectedData(AccountRefData):
    account = fields.Nested(AccountSnapshotData, metadata={"description": "the account after "
                                                                         "the change (optional)"})
    rejected_by = fields.String(required=True)
    reason = fields.String(required=True)
    version = _version


publishes(ACCOUNT_UPDATED, AccountUpdatedData, subject="the account id",
          summary="Archive fields of an account changed (direct edit or applied change request)")
publishes(STATUS_CHANGED, StatusChangedData, subject="the account id",
          summary="An account's status changed (active / inactive / lost)")
publishes(ARCHIVE_APPROVED, ArchiveApprovedData, subject="the account id",
          summary="The group GM approved the account's archive (released to those entitled)")
publishes(ARCHIVE_REJECTED, ArchiveRejectedData, subject="the account id",
          summary="The group GM rejected the account's archive, with a reason")
