"""Delivery channels: in-app (a row in the recipient's inbox), e-mail over SMTP, SMS providers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class DeliveryError(Exception):
    """A send failed; ``permanent`` failures are not retried (bad address, refused content)."""

    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class Outgoing:
    """What a channel needs to send one message."""

    message_id: str
    address: str
    subject: str
    body: str
    language: str = "zh-CN"


class Sender(Protocol):
    def send(self, message: Outgoing) -> str | None:
        """Send or raise DeliveryError; returns the provider's reference if any."""
