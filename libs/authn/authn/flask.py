"""Flask glue: every route needs a verified caller unless it is listed as public."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Request, abort, current_app, g, request

from .principal import Principal
from .verify import AuthError, AuthUnavailable, Verifier

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json", "/asyncapi.json"})
F = TypeVar("F", bound=Callable[..., Any])


def install(app: Flask, verifier: Verifier, public_paths: Iterable[str] = PUBLIC_PATHS) -> None:
    app.extensions["authn"] = verifier
    public = frozenset(public_paths)
    predicates: list[Callable[[Request], bool]] = app.extensions.setdefault("authn.public", [])

    @app.before_request
    def _authenticate() -> None:
        if request.path in public or request.method == "OPTIONS":
            return
        if any(is_public(request) for is_public in predicates):
            return  # the route proves its caller itself (e.g. a web form's own key)
        try:
            g.principal = verifier.verify_headers(request.headers)
        except AuthUnavailable as exc:
            abort(503, description=str(exc))
        except AuthError as exc:
            abort(401, description=str(exc))


def allow_public(app: Flask, is_public: Callable[[Request], bool]) -> None:
    """Let requests for which ``is_public(request)`` is true through without a token.

    For routes that authenticate their caller another way (a public web form's own key): keep
    the predicate narrow (method and full path), since such a route has no principal and
    ``current_principal()`` still answers 401 there.
    """
    app.extensions.setdefault("authn.public", []).append(is_public)


def current_principal() -> Principal:
    principal = getattr(g, "principal", None)
    if principal is None:  # a route that forgot it is public: fail closed
        abort(401)
    return principal


def require_roles(*roles: str) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_principal().has_any(*roles):
                abort(403, description=f"requires one of the roles: {', '.join(roles)}")
            return view(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return decorator


def verifier() -> Verifier:
    return current_app.extensions["authn"]
