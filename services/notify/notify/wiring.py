"""The service's composition root: settings, database, bus, clock, channels; reused by tests."""

from __future__ import annotations

import ssl

from eventbus import ServiceBus
from httpapi import open_bus, utcnow
from httpapi.service import Clock

from .channels import Sender
from .channels.email import EmailSender
from .channels.sms import HttpSmsProvider, RecordingSmsProvider, SmsProvider, SmsSender
from .context import NotifyContext
from .handlers import HandlerDeps, subscriptions
from .messages.dispatcher import MessageDispatcher
from .settings import Settings
from .tables import Base
from .webhooks import ssrf
from .webhooks.dispatcher import WebhookDispatcher


def sms_provider(settings: Settings) -> SmsProvider:
    if settings.sms_provider == "http":
        if settings.sms_http is None:
            raise ValueError("NOTIFY_SMS_PROVIDER=http needs NOTIFY_SMS_URL")
        return HttpSmsProvider(settings.sms_http)
    if settings.sms_provider != "dev":
        raise ValueError("NOTIFY_SMS_PROVIDER must be dev or http")
    return RecordingSmsProvider()


def build(
    database_url: str | None = None,
    broker_url: str | None = None,
    migrate: bool | None = None,
    *,
    settings: Settings | None = None,
    clock: Clock = utcnow,
    senders: dict[str, Sender] | None = None,
    resolver: ssrf.Resolver | None = None,
    connector: ssrf.Connector | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> NotifyContext:
    """The notify service from ``settings`` (default: the environment, parsed here once); the
    keyword overrides are for tests and tools."""
    settings = (settings or Settings.from_env()).with_overrides(
        database_url=database_url, broker_url=broker_url, migrate=migrate
    )
    bus: ServiceBus
    # Handlers emit through the bus they are subscribed on; the lambda reads ``bus`` at call time.
    ctx: NotifyContext
    deps = HandlerDeps(
        clock=clock, emit=lambda *args: bus.emit(*args), wake_webhooks=lambda: ctx.webhooks.wake()
    )
    bus = open_bus(settings, package="notify", metadata=Base.metadata, subscriptions=subscriptions(deps))
    provider = sms_provider(settings)
    channels: dict[str, Sender] = {"email": EmailSender(settings.smtp), "sms": SmsSender(provider)}
    channels.update(senders or {})
    ctx = NotifyContext(settings=settings, bus=bus, clock=clock, senders=channels, sms_provider=provider)
    ctx.messages = MessageDispatcher(bus.session_factory, bus, channels, clock, settings)
    ctx.webhooks = WebhookDispatcher(
        bus.session_factory,
        settings,
        clock,
        emit=bus.emit,
        resolver=resolver,
        connector=connector,
        ssl_context=ssl_context,
    )
    return ctx
