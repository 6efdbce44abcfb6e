"""Shared request helpers of the notify API: the running context and 422/404 problems."""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app

from httpapi import Problem

from .context import NotifyContext


def ctx() -> NotifyContext:
    return current_app.extensions["notify"]


def unprocessable(errors: Mapping[str, list[str] | str], location: str = "json") -> Problem:
    """422 with per-field errors, like the schema's own validation errors."""
    fields = {k: v if isinstance(v, list) else [v] for k, v in errors.items()}
    return Problem(
        422,
        "Unprocessable Content",
        "The request did not validate; see errors for each field.",
        errors={location: fields},
    )


def not_found(what: str, ident: str) -> Problem:
    return Problem(404, "Not Found", f"no {what} {ident}")
