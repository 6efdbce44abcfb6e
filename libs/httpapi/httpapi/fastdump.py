"""Response schemas serialized with less interpretation per field.

The profile of a list request (docs/performance.md) spent over half its CPU in marshmallow:
for every field of every row, ``Field.serialize`` → ``get_value`` → ``Schema.get_attribute`` →
``utils.get_value`` → ``hasattr``/``getattr``. ``compile_dump`` replaces a response schema
instance's ``_serialize`` with one that does exactly what marshmallow does — same fields, same
order, same keys, same defaults, same field serializers, dump hooks still run by ``dump`` —
with the lookups decided once per schema instead of once per value. Anything this does not know
to be equivalent (a custom ``get_attribute`` or ``get_value``, dotted attributes) keeps
marshmallow's own path for that field or schema.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, fields, missing

from .schemas import UtcDateTime

_DUMPER = "_httpapi_fast_dump"
# False: every compiled schema takes marshmallow's own path again (benchmarks compare both).
ENABLED = True


def _text(value: Any) -> Any:
    if value is None:
        return None
    if type(value) is str:
        return value
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    return str(value)


def _serializer(field: fields.Field, attr_name: str) -> Callable[[Any, Any], Any]:
    """``(value, obj) -> serialized`` for a value already fetched."""
    if type(field) is fields.String and "_serialize" not in vars(field):
        return lambda value, _obj: _text(value)
    if type(field) is fields.Raw and "_serialize" not in vars(field):
        return lambda value, _obj: value
    serialize = field._serialize
    iso = _iso_datetime(field)
    if iso is not None:
        return lambda value, obj: (None if value is None else iso(value) if type(value) is datetime
                                   else serialize(value, attr_name, obj))
    return lambda value, obj: serialize(value, attr_name, obj)


def _iso_datetime(field: fields.Field) -> Callable[[datetime], str] | None:
    """What an ISO date-time field writes for a ``datetime``, without marshmallow's format
    lookup: ``UtcDateTime`` in UTC; a plain ``DateTime`` patched by ``utc_datetimes`` with naive
    values taken as UTC and aware ones as they are."""
    if getattr(field, "format", None) not in (None, "iso") or fields.DateTime.DEFAULT_FORMAT != "iso":
        return None
    patched = getattr(field, "_httpapi_utc", False)
    if type(field) is UtcDateTime and (patched or "_serialize" not in vars(field)):
        return lambda value: (value.replace(tzinfo=UTC) if value.tzinfo is None
                              else value.astimezone(UTC)).isoformat()
    if type(field) is fields.DateTime and patched:
        return lambda value: (value.replace(tzinfo=UTC) if value.tzinfo is None else value).isoformat()
    return None


def compile_dump(schema: Schema) -> Schema:
    """Give ``schema`` (an instance) and the schemas nested in it the fast ``_serialize``."""
    seen: set[int] = set()

    def walk_field(field: fields.Field) -> None:
        if isinstance(field, fields.Nested):
            nested = field.schema
            if isinstance(nested, Schema):
                walk(nested)
        elif isinstance(field, fields.List) and field.inner is not None:
            walk_field(field.inner)
        elif isinstance(field, fields.Dict) and field.value_field is not None:
            walk_field(field.value_field)

    def walk(instance: Schema) -> None:
        if id(instance) in seen:
            return
        seen.add(id(instance))
        for field in instance.dump_fields.values():
            walk_field(field)
        _install(instance)

    walk(schema)
    return schema


def _install(schema: Schema) -> None:
    if getattr(schema, _DUMPER, False) or "_serialize" in vars(schema):
        return
    cls = type(schema)
    if cls.get_attribute is not Schema.get_attribute or cls._serialize is not Schema._serialize:
        return  # the schema decides how values are read or written: leave it to marshmallow
    entries: list[tuple[str, str, fields.Field, bool, Callable[[Any, Any], Any]]] = []
    for attr_name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else attr_name
        check_key = attr_name if field.attribute is None else field.attribute
        simple = (field._CHECK_ATTRIBUTE and "." not in check_key
                  and type(field).get_value is fields.Field.get_value)
        entries.append((key, check_key if simple else attr_name, field, simple,
                        _serializer(field, attr_name)))
    dict_class = schema.dict_class
    accessor = schema.get_attribute

    def one(obj: Any) -> Any:
        ret = dict_class()
        indexable = hasattr(obj, "__getitem__")
        for key, name, field, simple, serialize in entries:
            if simple:
                if indexable:  # marshmallow.utils._get_value_for_key, inlined
                    try:
                        value = obj[name]
                    except (KeyError, IndexError, TypeError, AttributeError):
                        value = getattr(obj, name, missing)
                else:
                    value = getattr(obj, name, missing)
                if value is missing:
                    default = field.dump_default
                    value = default() if callable(default) else default
                    if value is missing:
                        continue
                ret[key] = serialize(value, obj)
            else:
                value = field.serialize(name, obj, accessor=accessor)
                if value is not missing:
                    ret[key] = value
        return ret

    def _serialize(obj: Any, *, many: bool = False) -> Any:
        if not ENABLED:
            return Schema._serialize(schema, obj, many=many)
        if many and obj is not None:
            return [one(item) for item in obj]
        return one(obj)

    schema._serialize = _serialize  # type: ignore[method-assign]
    setattr(schema, _DUMPER, True)
