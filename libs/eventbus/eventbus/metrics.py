"""Prometheus counters for the event bus (scraped from each process's /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

OUTBOX_PUBLISHED = Counter("crm_outbox_published_total", "Outbox rows published", ["service"])
RELAY_FAILURES = Counter(
    "crm_outbox_publish_failures_total", "Relay batches the broker did not take (unreachable, refused, "
    "confirm timeout); database errors are not counted here", ["service"])
RELAY_DATABASE_ERRORS = Counter(
    "crm_outbox_relay_database_errors_total", "Relay passes that failed on the service's database",
    ["service"])
EVENTS_HANDLED = Counter(
    "crm_events_handled_total", "Deliveries settled by a consumer", ["consumer", "outcome"]
)
HANDLER_SECONDS = Histogram(
    "crm_event_handler_seconds", "Handler transaction time", ["consumer"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENT_LAG_SECONDS = Histogram(
    "crm_event_lag_seconds", "From the event's time (written with its producer's transaction) to "
    "its handling: outbox, relay, broker and queue together", ["consumer"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
OUTBOX_UNSENT = Gauge(
    "crm_outbox_unsent", "Committed events not yet confirmed by the broker (read on scrape)", ["service"]
)
