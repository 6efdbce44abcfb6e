"""Field helpers for the schemas support publishes its event payloads with (eventbus.contracts)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields


def _text(**kw: Any) -> fields.String:
    return fields.String(required=True, **kw)


def _maybe(**kw: Any) -> fields.String:
    return fields.String(required=True, allow_none=True, **kw)


def _time(**kw: Any) -> fields.DateTime:
    return fields.DateTime(required=True, **kw)


class CustomerData(Schema):
    """The customer as support's account read model knows it; any field may be missing or null."""

    name = fields.String(allow_none=True)
    title = fields.String(allow_none=True, metadata={"description": "form of address, e.g. 总"})
    mobile = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    timezone = fields.String(allow_none=True)
