"""CloudEvents 1.0 envelope (structured JSON mode) plus correlation, causation and trace context.

The envelope is the contract with every consumer, including other companies' systems, so its
shape is strict: unknown top-level attributes are kept (CloudEvents allows extensions) but the
required ones are checked on decode and a message that fails is reported as ``MalformedEvent``.
"""

from __future__ import annotations

import contextvars
import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from telemetry.tracing import producer_traceparent

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
# `<service>.<entity>.<fact in past tense>.v<major>`
TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.v[1-9][0-9]*$")
TRACEPARENT_PATTERN = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
REQUIRED = ("specversion", "id", "source", "type", "time", "data")


class MalformedEvent(ValueError):
    """The bytes are not a valid envelope; retrying cannot help."""


@dataclass(frozen=True)
class Envelope:
    id: str
    source: str
    type: str
    time: str
    data: dict[str, Any]
    subject: str | None = None
    correlationid: str | None = None
    causationid: str | None = None
    traceparent: str | None = None
    # CloudEvents' optional attribute: the URI of the JSON Schema ``data`` adheres to (served by
    # the gateway; see eventbus.contracts). Every CRM event carries it.
    dataschema: str | None = None
    specversion: str = SPECVERSION
    datacontenttype: str = CONTENT_TYPE
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> int:
        """Major payload version, taken from the type suffix."""
        return int(self.type.rsplit(".v", 1)[1])

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time,
            "datacontenttype": self.datacontenttype,
        }
        for key in ("dataschema", "subject", "correlationid", "causationid", "traceparent"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out.update(self.extensions)
        out["data"] = self.data
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False, default=str)

    def to_bytes(self) -> bytes:
        return self.to_json().encode("utf-8")

    @classmethod
    def from_dict(cls, raw: Any) -> Envelope:
        if not isinstance(raw, dict):
            raise MalformedEvent("envelope is not a JSON object")
        missing = [k for k in REQUIRED if k not in raw]
        if missing:
            raise MalformedEvent(f"missing attributes: {', '.join(missing)}")
        if raw["specversion"] != SPECVERSION:
            raise MalformedEvent(f"unsupported specversion {raw['specversion']!r}")
        if not isinstance(raw["type"], str) or not TYPE_PATTERN.match(raw["type"]):
            raise MalformedEvent(f"bad event type {raw['type']!r}")
        if not isinstance(raw["data"], dict):
            raise MalformedEvent("data is not a JSON object")
        if not isinstance(raw["id"], str):
            raise MalformedEvent("id is not a UUID string")
        try:
            uuid.UUID(raw["id"])
        except ValueError as exc:
            raise MalformedEvent("id is not a UUID") from exc
        # str(None) == "None" used to slip through as a source; attributes are strings.
        for key in ("source", "time"):
            if not isinstance(raw[key], str) or not raw[key]:
                raise MalformedEvent(f"{key} is not a non-empty string")
        for key in ("subject", "correlationid", "causationid", "traceparent", "datacontenttype",
                    "dataschema"):
            if raw.get(key) is not None and not isinstance(raw[key], str):
                raise MalformedEvent(f"{key} is not a string")
        known = {
            "specversion", "id", "source", "type", "time", "data", "subject",
            "correlationid", "causationid", "traceparent", "datacontenttype", "dataschema",
        }
        return cls(
            id=raw["id"],
            source=raw["source"],
            type=raw["type"],
            time=raw["time"],
            data=raw["data"],
            subject=raw.get("subject"),
            correlationid=raw.get("correlationid"),
            causationid=raw.get("causationid"),
            traceparent=raw.get("traceparent"),
            dataschema=raw.get("dataschema"),
            datacontenttype=raw.get("datacontenttype") or CONTENT_TYPE,
            extensions={k: v for k, v in raw.items() if k not in known},
        )

    @classmethod
    def from_bytes(cls, body: bytes | str) -> Envelope:
        try:
            raw = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedEvent(f"not JSON: {exc}") from exc
        except RecursionError as exc:  # escaped from the consumer and killed the worker thread
            raise MalformedEvent("not JSON: nested too deeply") from exc
        return cls.from_dict(raw)


def schema_url(base_url: str, type_: str) -> str:
    """The ``dataschema`` of an event: where the gateway serves the JSON Schema of its data."""
    return f"{base_url.rstrip('/')}/{type_}"


# --- trace context -----------------------------------------------------------------------

@dataclass(frozen=True)
class TraceContext:
    """What a new event inherits from whatever caused it: an HTTP request or another event."""

    correlation_id: str | None = None
    causation_id: str | None = None
    traceparent: str | None = None


_current: contextvars.ContextVar[TraceContext] = contextvars.ContextVar(
    "eventbus_trace", default=TraceContext()  # noqa: B039 - frozen, so immutable
)


def current_context() -> TraceContext:
    return _current.get()


def set_context(ctx: TraceContext) -> contextvars.Token[TraceContext]:
    return _current.set(ctx)


def reset_context(token: contextvars.Token[TraceContext]) -> None:
    _current.reset(token)


def context_from_event(env: Envelope) -> TraceContext:
    """Events emitted while handling ``env`` share its correlation and name it as cause."""
    return TraceContext(
        correlation_id=env.correlationid or env.id,
        causation_id=env.id,
        traceparent=env.traceparent,
    )


def child_traceparent(parent: str | None) -> str:
    """A new span id under the parent's trace (or a new trace), per W3C Trace Context."""
    match = TRACEPARENT_PATTERN.match(parent or "")
    trace_id = match.group(1) if match else secrets.token_hex(16)
    flags = match.group(3) if match else "01"
    return f"00-{trace_id}-{secrets.token_hex(8)}-{flags}"


def event_lag(env: Envelope, now: datetime | None = None) -> float | None:
    """Seconds from the event's ``time`` to ``now`` (0 when the producer's clock is ahead);
    None when the time is not an RFC 3339 timestamp with an offset (another producer's)."""
    try:
        at = datetime.fromisoformat(env.time)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        return None
    return max(0.0, ((now or datetime.now(UTC)) - at).total_seconds())


def utcnow_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def new_event(
    *,
    source: str,
    type: str,
    data: dict[str, Any],
    subject: str | None = None,
    time: str | None = None,
    dataschema: str | None = None,
) -> Envelope:
    """Build an envelope, inheriting correlation/causation/trace from the current context."""
    if not TYPE_PATTERN.match(type):
        raise ValueError(f"event type {type!r} must look like service.entity.fact.v1")
    ctx = current_context()
    event_id = str(uuid.uuid4())
    return Envelope(
        id=event_id,
        source=source,
        type=type,
        time=time or utcnow_iso(),
        subject=subject,
        data=data,
        correlationid=ctx.correlation_id or event_id,
        causationid=ctx.causation_id,
        # With tracing on (telemetry.tracing), the PRODUCER span recorded for this event.
        traceparent=(producer_traceparent(ctx.traceparent, type, event_id)
                     or child_traceparent(ctx.traceparent)),
        dataschema=dataschema,
    )
