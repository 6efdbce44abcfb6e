"""Flask, minus two per-request costs the profile of a service request showed
(docs/performance.md): JSON responses written by orjson, and the "is this view async?" check
Flask repeats for every hook and view on every request.

The answers are the same documents as before: keys sorted, compact, a final newline, dates as
HTTP dates and anything else orjson does not know through Flask's own ``default``; a value
orjson refuses (an integer past 64 bits, a non-string key) falls back to the standard encoder.
Only the escaping differs: non-ASCII text is sent as UTF-8, not as ``\\u`` escapes.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from typing import Any

import orjson
from flask import Flask
from flask.json.provider import DefaultJSONProvider

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class OrjsonProvider(DefaultJSONProvider):
    """``DefaultJSONProvider`` with orjson for ``dumps`` and ``response`` (compact mode only:
    indented output, e.g. in debug mode, stays with the standard encoder)."""

    def _options(self) -> int:
        return _OPTIONS if self.sort_keys else _OPTIONS & ~orjson.OPT_SORT_KEYS

    def _fast(self, obj: Any, extra: int = 0) -> bytes | None:
        try:
            return orjson.dumps(obj, default=self.default, option=self._options() | extra)
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            return None

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if not kwargs or (set(kwargs) <= {"separators"} and kwargs["separators"] == (",", ":")):
            data = self._fast(obj)
            if data is not None:
                return data.decode("utf-8")
            kwargs.setdefault("separators", (",", ":"))
        return super().dumps(obj, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Any:
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)
        data = self._fast(self._prepare_response_obj(args, kwargs), orjson.OPT_APPEND_NEWLINE)
        if data is None:
            return super().response(*args, **kwargs)
        response_class: Any = self._app.response_class
        return response_class(data, mimetype=self.mimetype)


class FastFlask(Flask):
    json_provider_class = OrjsonProvider

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], bool] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """As Flask's, remembering the answer for plain functions (hooks, views): those live as
        long as the app. Bound methods are made afresh per call, so they are not remembered."""
        if type(func) is not types.FunctionType:
            return super().ensure_sync(func)
        is_async = self._sync.get(func)
        if is_async is None:
            is_async = self._sync[func] = inspect.iscoroutinefunction(func)
        return self.async_to_sync(func) if is_async else func
