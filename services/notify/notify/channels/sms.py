"""SMS through a provider adapter: a development provider that records, and a generic HTTP
provider (JSON POST with a bearer token, the shape most Chinese SMS gateways accept)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from . import DeliveryError, Outgoing


class SmsProvider(Protocol):
    def send_sms(self, mobile: str, text: str, message_id: str) -> str:
        """Hand one SMS to the provider; returns its reference or raises DeliveryError."""


class RecordingSmsProvider:
    """Development and tests: keeps every SMS in memory instead of sending it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    def send_sms(self, mobile: str, text: str, message_id: str) -> str:
        with self._lock:
            self.sent.append((mobile, text, message_id))
        return f"dev-{message_id}"


@dataclass(frozen=True)
class HttpSmsSettings:
    url: str
    token: str | None = None
    sign_name: str | None = None  # the registered SMS signature some providers require
    timeout: float = 10.0


class HttpSmsProvider:
    """POST {"to", "text", "sign_name", "client_ref"} → {"id"}; 4xx is permanent, 5xx retried."""

    def __init__(self, settings: HttpSmsSettings) -> None:
        self.settings = settings

    def send_sms(self, mobile: str, text: str, message_id: str) -> str:
        s = self.settings
        body = json.dumps(
            {"to": mobile, "text": text, "sign_name": s.sign_name, "client_ref": message_id}
        ).encode()
        if not s.url.startswith(("https://", "http://")):
            raise DeliveryError("sms provider URL must be http(s)", permanent=True)
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            s.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": message_id,
                **({"Authorization": f"Bearer {s.token}"} if s.token else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=s.timeout) as resp:  # noqa: S310 - the operator's configured URL
                answer = json.loads(resp.read(65536) or b"{}")
        except urllib.error.HTTPError as exc:
            raise DeliveryError(
                f"sms provider: HTTP {exc.code}",
                permanent=400 <= exc.code < 500 and exc.code not in (408, 429),
            ) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise DeliveryError(f"sms provider: {exc}"[:500]) from exc
        return str(answer.get("id") or message_id)


class SmsSender:
    def __init__(self, provider: SmsProvider) -> None:
        self.provider = provider

    def send(self, message: Outgoing) -> str | None:
        return self.provider.send_sms(message.address, message.body, message.message_id)
