"""Shared request helpers of the support API: the context, problems, the caller."""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app

from httpapi import Problem

from .context import SupportContext


def ctx() -> SupportContext:
    return current_app.extensions["support"]


def unprocessable(errors: Mapping[str, list[str] | str], location: str = "json") -> Problem:
    """422 with per-field errors, like the schema's own validation errors."""
    fields = {k: v if isinstance(v, list) else [v] for k, v in errors.items()}
    return Problem(
        422,
        "Unprocessable Content",
        "The request did not validate; see errors for each field.",
        errors={location: fields},
    )


def conflict(detail: str) -> Problem:
    return Problem(409, "Conflict", detail)


def not_found(what: str, ident: str) -> Problem:
    return Problem(404, "Not Found", f"no {what} {ident}")


def forbidden(detail: str) -> Problem:
    return Problem(403, "Forbidden", detail)
