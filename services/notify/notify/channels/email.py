"""E-mail over SMTP with the standard library's ``smtplib``: STARTTLS, implicit TLS or plain
(plain only for a local relay), optional login, a bounded timeout."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from . import DeliveryError, Outgoing

SECURITY = ("starttls", "tls", "none")


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 587
    security: str = "starttls"  # NOTIFY_SMTP_SECURITY: starttls | tls | none
    username: str | None = None
    password: str | None = None
    sender: str = "crm@localhost"
    timeout: float = 10.0
    cafile: str | None = None  # a private CA (tests, in-house relays); default: system CAs


class EmailSender:
    def __init__(self, settings: SmtpSettings) -> None:
        if settings.security not in SECURITY:
            raise ValueError(f"NOTIFY_SMTP_SECURITY must be one of {SECURITY}")
        self.settings = settings

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.cafile)

    def send(self, message: Outgoing) -> str | None:
        s = self.settings
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = s.sender, message.address, message.subject
        mail["Message-ID"] = make_msgid(idstring=message.message_id.replace("-", ""))
        mail["X-CRM-Message-Id"] = message.message_id
        mail.set_content(message.body)
        try:
            client: smtplib.SMTP
            if s.security == "tls":
                client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._context())
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            with client:
                if s.security == "starttls":
                    client.starttls(context=self._context())
                if s.username:
                    client.login(s.username, s.password or "")
                refused = client.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"recipient refused: {exc.recipients}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"smtp: {type(exc).__name__}: {exc}"[:500]) from exc
        if refused:
            raise DeliveryError(f"recipient refused: {refused}", permanent=True)
        return str(mail["Message-ID"])
