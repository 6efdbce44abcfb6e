"""Every setting of the notify service, parsed once per process (``Settings.from_env()``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from httpapi import ServiceSettings
from httpapi.service import environ_or_os

from .channels.email import SmtpSettings
from .channels.sms import HttpSmsSettings

SERVICE = "notify"


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


@dataclass(frozen=True)
class Settings(ServiceSettings):
    dispatch_interval: float = 5.0  # NOTIFY_DISPATCH_INTERVAL: seconds between message passes at most
    dispatch_ahead: float = 5.0  # NOTIFY_DISPATCH_AHEAD: seconds before a due time its messages are claimed
    send_workers: int = 4  # NOTIFY_SEND_WORKERS: threads handing messages to e-mail / SMS
    greetings_interval: float = 600.0  # NOTIFY_GREETINGS_INTERVAL: seconds between greeting passes
    smtp: SmtpSettings = field(default_factory=SmtpSettings)  # NOTIFY_SMTP_*
    sms_provider: str = "dev"  # NOTIFY_SMS_PROVIDER: dev (records) | http
    sms_http: HttpSmsSettings | None = None  # NOTIFY_SMS_URL, NOTIFY_SMS_TOKEN, NOTIFY_SMS_SIGN_NAME
    # Webhooks: NOTIFY_WEBHOOK_DEVELOPMENT=1 allows http:// (never in production);
    # NOTIFY_WEBHOOK_ALLOW: hosts / CIDRs exempt from the SSRF address checks (local tests only).
    webhook_development: bool = False
    webhook_allow: tuple[str, ...] = ()
    webhook_workers: int = 4  # NOTIFY_WEBHOOK_WORKERS: threads per endpoint at most
    webhook_interval: float = 1.0  # NOTIFY_WEBHOOK_INTERVAL: seconds between scheduling passes
    webhook_keepalive: bool = True  # NOTIFY_WEBHOOK_KEEPALIVE=0: a new connection per attempt

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = environ_or_os(environ)
        smtp = SmtpSettings(
            host=env.get("NOTIFY_SMTP_HOST") or "localhost",
            port=int(env.get("NOTIFY_SMTP_PORT") or 587),
            security=env.get("NOTIFY_SMTP_SECURITY") or "starttls",
            username=env.get("NOTIFY_SMTP_USER") or None,
            password=env.get("NOTIFY_SMTP_PASSWORD") or None,
            sender=env.get("NOTIFY_SMTP_FROM") or "crm@localhost",
            timeout=float(env.get("NOTIFY_SMTP_TIMEOUT") or 10),
            cafile=env.get("NOTIFY_SMTP_CAFILE") or None,
        )
        sms_url = env.get("NOTIFY_SMS_URL")
        return cls(
            **cls.common_from_env(SERVICE, env),
            dispatch_interval=float(env.get("NOTIFY_DISPATCH_INTERVAL") or 5),
            dispatch_ahead=float(env.get("NOTIFY_DISPATCH_AHEAD") or 5),
            send_workers=int(env.get("NOTIFY_SEND_WORKERS") or 4),
            greetings_interval=float(env.get("NOTIFY_GREETINGS_INTERVAL") or 600),
            smtp=smtp,
            sms_provider=env.get("NOTIFY_SMS_PROVIDER") or "dev",
            sms_http=HttpSmsSettings(
                url=sms_url,
                token=env.get("NOTIFY_SMS_TOKEN") or None,
                sign_name=env.get("NOTIFY_SMS_SIGN_NAME") or None,
            )
            if sms_url
            else None,
            webhook_development=(env.get("NOTIFY_WEBHOOK_DEVELOPMENT") or "0").lower()
            in ("1", "true", "yes"),
            webhook_allow=_csv(env.get("NOTIFY_WEBHOOK_ALLOW")),
            webhook_workers=int(env.get("NOTIFY_WEBHOOK_WORKERS") or 4),
            webhook_interval=float(env.get("NOTIFY_WEBHOOK_INTERVAL") or 1),
            webhook_keepalive=(env.get("NOTIFY_WEBHOOK_KEEPALIVE") or "1").lower() in ("1", "true", "yes"),
        )
