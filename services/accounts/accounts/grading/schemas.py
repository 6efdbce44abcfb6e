"""Shapes of the grading API."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from httpapi import StrictSchema
from httpapi.schemas import UtcDateTime

from ..policy.rules import DEFAULT_CRITERIA


def _scores_doc() -> dict[str, Any]:
    """The default form's criteria as the document's properties (an admin may change them)."""
    return {"type": "object", "additionalProperties": False, "properties": {
        c["name"]: {"type": "integer", "minimum": 0, "maximum": c["maximum"],
                    "description": f"{c['label']} (weight {c['weight']})"}
        for c in DEFAULT_CRITERIA}}


class GradeInSchema(StrictSchema):
    scores = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=60)),
                         values=fields.Integer(strict=True, validate=validate.Range(min=0, max=1000)),
                         required=True, validate=validate.Length(max=30), metadata={
                             **_scores_doc(),
                             "description": "客户等级评估表单 / Points per criterion of the policy's "
                                            "grade-assessment form (0..the criterion's maximum; a "
                                            "criterion left out scores 0). Properties: the "
                                            "default form"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class GradeAssessmentSchema(Schema):
    id = fields.String()
    account_id = fields.String()
    at = UtcDateTime()
    actor = fields.String()
    scores = fields.Method("_scores", metadata={"description": "criterion → points"})
    score = fields.Decimal(places=2, as_string=True, metadata={"type": "string", "format": "decimal",
                                    "description": "客户等级评分 0..100"})
    old_grade = fields.String(allow_none=True)
    grade = fields.String(metadata={"description": "客户等级 A-E"})
    coefficient = fields.Decimal(places=2, as_string=True, metadata={"type": "string", "format": "decimal",
                                          "description": "等级系数"})
    reason = fields.String()

    def _scores(self, row: Any) -> dict[str, Any]:
        import json

        return json.loads(row.scores)


class GradeHistorySchema(Schema):
    grade = fields.String(allow_none=True)
    coefficient = fields.String(metadata={"description": "等级系数 of the current grade"})
    grade_class = fields.String(allow_none=True, metadata={"description": "the class policy"})
    items = fields.List(fields.Nested(GradeAssessmentSchema))
