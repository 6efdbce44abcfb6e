"""Domain errors every capability's service raises; the app answers each as a problem document
(Invalid 422 with per-field errors, Forbidden 403, NotFound 404, Conflict 409)."""

from __future__ import annotations

from collections.abc import Mapping


class AccountsError(Exception):
    status = 400
    title = "Bad Request"


class Invalid(AccountsError):
    """Bad input for a rule: ``errors`` maps each field to what is wrong."""

    status, title = 422, "Unprocessable Content"

    def __init__(self, errors: Mapping[str, str | list[str]], location: str = "json") -> None:
        self.errors = {k: v if isinstance(v, list) else [v] for k, v in errors.items()}
        self.location = location
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class Forbidden(AccountsError):
    """The caller may see the object but not do this."""

    status, title = 403, "Forbidden"


class NotFound(AccountsError):
    """Absent, or not the caller's to see (ids reveal nothing)."""

    status, title = 404, "Not Found"


class Conflict(AccountsError):
    """The object's state does not allow this (illegal transition, out-of-order step…)."""

    status, title = 409, "Conflict"
