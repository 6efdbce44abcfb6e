"""Event bus for the CRM services: CloudEvents envelope, transactional outbox and relay,
idempotent consumers with retries and parking, RabbitMQ and in-process brokers."""

from .broker import Broker, Delivery, OutgoingMessage, ParkedMessage, PublishError
from .consumer import EventConsumer, PermanentError, Subscription
from .envelope import Envelope, MalformedEvent, TraceContext, new_event
from .runtime import ServiceBus, broker_from_url
from .settings import BusSettings
from .topology import ConsumerTopology

__all__ = [
    "Broker", "BusSettings", "ConsumerTopology", "Delivery", "Envelope", "EventConsumer", "MalformedEvent",
    "OutgoingMessage", "ParkedMessage", "PermanentError", "PublishError", "ServiceBus",
    "Subscription", "TraceContext", "broker_from_url", "new_event",
]
