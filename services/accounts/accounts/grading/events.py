"""``accounts.account.graded.v1``: the review group graded an account."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import fields

from eventbus.contracts import publishes

from ..archive.events import AccountRefData, AccountSnapshotData, _version, base
from ..models import Account

ACCOUNT_GRADED = "accounts.account.graded.v1"


def graded_payload(account: Account, old_grade: str | None, coefficient: Decimal) -> dict[str, Any]:
    return {**base(account), "old_grade": old_grade, "new_grade": account.grade,
            "score": str(account.grade_score), "coefficient": str(coefficient),
            "version": account.version}


class AccountGradedData(AccountRefData):
    account = fields.Nested(AccountSnapshotData, metadata={"description": "the account after "
                                                                         "the change (optional)"})
    old_grade = fields.String(required=True, allow_none=True, metadata={"description": "A..E or null"})
    new_grade = fields.String(required=True, metadata={"description": "A..E"})
    score = fields.String(required=True, metadata={"format": "decimal", "description": "0.00..100.00"})
    coefficient = fields.String(required=True, metadata={"format": "decimal",
                                                         "description": "等级系数 of the new grade"})
    version = _version


publishes(ACCOUNT_GRADED, AccountGradedData, subject="the account id",
          summary="The customer review group graded an account (A-E)")
