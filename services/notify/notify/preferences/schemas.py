"""Request and response shapes of the preferences API."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from httpapi.schemas import StrictSchema

from ..messages.rules import EMAIL, SMS
from .rules import LANGUAGES

_HHMM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="HH:MM, 00:00 to 23:59")


class PreferenceSchema(Schema):
    user_id = fields.String()
    channels = fields.List(
        fields.String(), metadata={"description": "besides in-app (always on): email, sms"}
    )
    language = fields.String()
    timezone = fields.String(allow_none=True)
    quiet_start = fields.String(allow_none=True)
    quiet_end = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    mobile = fields.String(allow_none=True)


class PreferenceUpdateSchema(StrictSchema):
    channels = fields.List(
        fields.String(validate=validate.OneOf((EMAIL, SMS))), validate=validate.Length(max=2)
    )
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    timezone = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    quiet_start = fields.String(allow_none=True, validate=_HHMM)
    quiet_end = fields.String(allow_none=True, validate=_HHMM)
    email = fields.Email(allow_none=True, validate=validate.Length(max=320))
    mobile = fields.String(allow_none=True, validate=validate.Regexp(r"^\+?[0-9]{6,20}$"))

    @validates_schema
    def _zone(self, data: dict, **_: object) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if data.get("timezone"):
            try:
                ZoneInfo(data["timezone"])
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValidationError("unknown IANA time zone", "timezone") from exc
        if ("quiet_start" in data) != ("quiet_end" in data):
            raise ValidationError("give quiet_start and quiet_end together", "quiet_end")
