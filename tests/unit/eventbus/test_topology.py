"""Topic matching (what the in-process broker routes, like RabbitMQ) and retry policy."""

from __future__ import annotations

import pytest

from eventbus.settings import BusSettings
from eventbus.topology import ConsumerTopology, consumer_topology, topic_matches


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("leads.lead.converted.v1", "leads.lead.converted.v1", True),
        ("leads.lead.converted.v1", "leads.lead.converted.v2", False),
        # "*" is exactly one word
        ("leads.*.converted.v1", "leads.lead.converted.v1", True),
        ("leads.*.converted.v1", "leads.converted.v1", False),
        ("leads.*.converted.v1", "leads.a.b.converted.v1", False),
        ("*", "leads", True),
        ("*", "leads.lead", False),
        # "#" is zero or more words
        ("#", "leads.lead.converted.v1", True),
        ("#", "leads", True),
        ("#", "", True),
        ("leads.#", "leads", True),  # zero words: "a.#" matches "a"
        ("leads.#", "leads.lead", True),
        ("leads.#", "leads.lead.converted.v1", True),
        ("leads.#", "leadsx.lead", False),
        ("leads.#", "accounts.lead", False),
        ("#.v1", "leads.lead.converted.v1", True),
        ("#.v1", "v1", True),
        ("#.v1", "leads.lead.converted.v2", False),
        ("leads.#.v1", "leads.v1", True),
        ("leads.#.v1", "leads.lead.converted.v1", True),
        ("leads.#.v1", "leads.lead.converted.v2", False),
        ("*.lead.#", "leads.lead", True),
        ("*.lead.#", "leads.lead.converted.v1", True),
        ("*.lead.#", "lead.converted", False),
        ("#.#", "a.b", True),
        # dots and regex metacharacters are literal
        ("a.b", "aXb", False),
        ("a+.b", "a+.b", True),
        ("a+.b", "aa.b", False),
    ],
)
def test_topic_matches(pattern: str, key: str, expected: bool) -> None:
    assert topic_matches(pattern, key) is expected


def test_names_derive_from_the_queue() -> None:
    t = ConsumerTopology(queue="crm.leads", bindings=("accounts.#",), exchange="crm.events",
                         retry_delays=(0.2, 1.5))
    assert t.parking_queue == "crm.leads.parked"
    assert t.dlx == "crm.events.dlx"
    assert t.retry_queue(0.2) == "crm.leads.delay.200ms"
    assert t.retry_queue(1.5) == "crm.leads.delay.1500ms"
    assert t.max_retries == 2
    assert [t.delay_for(n) for n in (1, 2, 3)] == [0.2, 1.5, 1.5]


def test_policy_from_environment() -> None:
    settings = BusSettings.from_env({"EVENTS_EXCHANGE": "x.events", "EVENTS_RETRY_DELAYS": "0.2, 0.4,",
                                     "EVENTS_DELIVERY_LIMIT": "3", "EVENTS_PREFETCH": "7"})
    t = consumer_topology("q", ("a.#",), settings)
    assert (t.exchange, t.retry_delays, t.delivery_limit, t.prefetch) == ("x.events", (0.2, 0.4), 3, 7)


def test_defaults_without_environment() -> None:
    s = BusSettings.from_env({})
    assert (s.broker_url, s.exchange, s.queue_prefix) == (
        "amqp://guest:guest@127.0.0.1:5672//", "crm.events", "crm")
    assert (s.retry_delays, s.delivery_limit, s.max_reconnects, s.worker_health_port) == (
        (1.0, 5.0, 30.0), 10, 30, None)
    assert s.worker_health_host == "127.0.0.1"
    assert s.queue_for("leads") == "crm.leads"


def test_empty_reconnect_budget_means_never_give_up() -> None:
    assert BusSettings.from_env({"EVENTS_MAX_RECONNECTS": ""}).max_reconnects is None
    assert BusSettings.from_env({"EVENTS_MAX_RECONNECTS": "4"}).max_reconnects == 4


@pytest.mark.parametrize("delays", ["", ",", "-1,2"])
def test_bad_retry_delays_are_refused(delays: str) -> None:
    if not delays:  # empty means "default", not an error
        assert BusSettings.from_env({"EVENTS_RETRY_DELAYS": delays}).retry_delays == (1.0, 5.0, 30.0)
        return
    with pytest.raises(ValueError, match="EVENTS_RETRY_DELAYS"):
        BusSettings.from_env({"EVENTS_RETRY_DELAYS": delays})
