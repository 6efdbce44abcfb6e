"""Remove the broker objects a test created under its own exchange and queue prefix."""

from __future__ import annotations

import kombu

SERVICES = ("leads", "accounts", "support", "notify")


def delete_topology(amqp_url: str, exchange: str, queue_prefix: str,
                    services: tuple[str, ...] = SERVICES,
                    retry_delays_ms: tuple[int, ...] = (1000, 5000, 30000)) -> None:
    with kombu.Connection(amqp_url, connect_timeout=5) as conn:
        channel = conn.channel()
        for service in services:
            base = f"{queue_prefix}.{service}"
            for name in (base, f"{base}.parked", *(f"{base}.retry.{ms}ms" for ms in retry_delays_ms)):
                channel.queue_delete(queue=name)
        for name in (exchange, f"{exchange}.dlx"):
            channel.exchange_delete(exchange=name)
