"""The shared layer's fast paths answer exactly what the generic paths they replace answer:
the compiled marshmallow dump, the orjson provider and the remembered async check."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from marshmallow import Schema, fields, post_dump, pre_dump

from httpapi import fastdump
from httpapi.fastdump import compile_dump
from httpapi.fastflask import FastFlask, OrjsonProvider
from httpapi.schemas import UtcDateTime, utc_datetimes


class Child(Schema):
    name = fields.String()
    size = fields.Integer(dump_default=7)


SHANGHAI = timezone(timedelta(hours=8))


class Parent(Schema):
    id = fields.String()
    label = fields.String(data_key="title")
    alias = fields.String(attribute="other")
    amount = fields.Decimal(as_string=True, places=2)
    at = UtcDateTime()
    naive = fields.DateTime()
    month = fields.DateTime(format="%Y-%m")  # not ISO: marshmallow's own path
    flag = fields.Boolean(dump_default=False)
    raw = fields.Raw()
    tags = fields.List(fields.String())
    kids = fields.Nested(Child, many=True)
    first = fields.Nested(Child)
    upper = fields.Method("shout")
    length = fields.Function(lambda obj: len(getattr(obj, "id", "") or ""))
    dotted = fields.String(attribute="first.name")
    meta = fields.Dict(keys=fields.String(), values=fields.String())

    def shout(self, obj: Any) -> str:
        return str(getattr(obj, "id", "?")).upper()


class Hooked(Schema):
    n = fields.Integer()

    @pre_dump
    def double(self, obj: Any, **_: Any) -> Any:
        return {"n": obj["n"] * 2}

    @post_dump
    def mark(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {**data, "hooked": True}


class Obj:
    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)


def _samples() -> list[Any]:
    kid = Obj(name="k", size=3)
    return [
        Obj(id="a1", label="L", other="o", amount=Decimal("1.5"), at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
            naive=datetime(2026, 1, 2, 3, 4), flag=True, raw={"x": [1]}, tags=["t", b"b"],
            kids=[kid, Obj(name="j")],
            first=kid, meta={"k": "v"}),
        Obj(id="tz", at=datetime(2026, 1, 2, 11, 4, 5, 120, tzinfo=SHANGHAI),
            naive=datetime(2026, 1, 2, 11, 4, 5, 120, tzinfo=SHANGHAI), month=datetime(2026, 3, 1)),
        Obj(id=None, label=None),  # most attributes missing: omitted or defaulted as marshmallow does
        {"id": "d1", "title": "ignored", "label": "dict", "kids": [{"name": "x"}], "items": 1},
        {},
    ]


@pytest.mark.parametrize("many", [False, True])
def test_compiled_dump_matches_marshmallow(many: bool) -> None:
    reference, fast = utc_datetimes(Parent()), compile_dump(utc_datetimes(Parent()))
    for sample in _samples():
        data = [sample, sample] if many else sample
        assert fast.dump(data, many=many) == reference.dump(data, many=many)
        assert list(fast.dump(data, many=many)) == list(reference.dump(data, many=many))  # order
    hooked = compile_dump(Hooked())
    assert hooked.dump({"n": 2}) == Hooked().dump({"n": 2}) == {"n": 4, "hooked": True}


def test_compiled_dump_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = compile_dump(Parent())
    monkeypatch.setattr(fastdump, "ENABLED", False)
    assert schema.dump(_samples()[0]) == Parent().dump(_samples()[0])


@dataclasses.dataclass
class Point:
    x: int
    when: date


def test_orjson_provider_writes_what_flask_writes() -> None:
    fast, stock = FastFlask(__name__), Flask(__name__)
    assert isinstance(fast.json, OrjsonProvider)
    doc = {"b": 1, "a": [1.5, None, True], "u": uuid.UUID(int=5), "d": datetime(2026, 1, 2, tzinfo=UTC),
           "day": date(2026, 1, 2), "p": Point(1, date(2026, 1, 1)), "dec": Decimal("2.50"),
           "text": "plain ascii"}
    with fast.app_context(), stock.app_context():
        assert fast.json.dumps(doc) == stock.json.dumps(doc, separators=(",", ":"))
        assert fast.json.response(doc).get_data() == stock.json.response(doc).get_data()
        assert json.loads(fast.json.response({"name": "Zoë 张"}).get_data()) == {"name": "Zoë 张"}
        huge = {"n": 2**70, "m": {1: "int key"}}  # orjson refuses both: the stdlib answers
        assert fast.json.response(huge).get_data() == stock.json.response(huge).get_data()
        assert fast.json.dumps(doc, indent=2) == stock.json.dumps(doc, indent=2)


def test_async_check_is_remembered_for_plain_functions_only() -> None:
    app = FastFlask(__name__)

    def view() -> str:
        return "ok"

    async def coroutine() -> str:
        return "ok"

    assert app.ensure_sync(view) is view and app.ensure_sync(view) is view
    with pytest.raises(RuntimeError, match="async"):  # still refused as Flask refuses it
        app.ensure_sync(coroutine)
    with pytest.raises(RuntimeError, match="async"):
        app.ensure_sync(coroutine)
    bound = Obj().__init__
    assert app.ensure_sync(bound) == bound
    assert app._sync == {view: False, coroutine: True}


def test_positional_placeholders() -> None:
    """psycopg's ``%(name)s`` SQL as PostgreSQL's ``$n``: one number per name in order of first
    use, escaped names mapped back to the bind parameter, ``%%`` back to one ``%``."""
    from servicedb.reads import positional

    sql = "SELECT '100%%' FROM t WHERE a = %(a)s AND b = %(b_Ax)s OR a = %(a)s AND c LIKE 'c%%'"
    assert positional(sql, {"b (x)": "b_Ax"}) == (
        "SELECT '100%' FROM t WHERE a = $1 AND b = $2 OR a = $1 AND c LIKE 'c%'", ("a", "b (x)"))
    assert positional("SELECT 1", {}) == ("SELECT 1", ())
