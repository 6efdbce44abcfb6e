"""Every way a delivery can end: handled, duplicate, retried then parked, parked at once, replayed."""

from __future__ import annotations

import dataclasses
import itertools
import json
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from eventbus.envelope import TRACEPARENT_PATTERN, TraceContext, current_context
from eventbus.testing import wait_for

from .conftest import RETRY_DELAYS, ConsumerHarness


def outcome_count(outcome: str) -> float:
    return REGISTRY.get_sample_value(
        "crm_events_handled_total", {"consumer": "unit.consumer", "outcome": outcome}) or 0.0


def test_handled_once_with_inbox_row(harness: ConsumerHarness) -> None:
    env = harness.event(1)
    harness.publish(env)
    wait_for(lambda: harness.effect_count(env.id) == 1, timeout=5, message="the effect")
    assert harness.inbox_ids() == [env.id]
    assert harness.depths() == {"unit.consumer": 0, "unit.consumer.parked": 0}


def lag_sample(name: str) -> float:
    return REGISTRY.get_sample_value(f"crm_event_lag_seconds_{name}", {"consumer": "unit.consumer"}) or 0.0


def test_a_handled_event_records_how_late_it_was(harness: ConsumerHarness) -> None:
    """From the event's time to its handling: what an operator watches for a slow pipeline."""
    count, total = lag_sample("count"), lag_sample("sum")
    written = datetime.now(UTC) - timedelta(seconds=30)
    env = dataclasses.replace(harness.event(11), time=written.isoformat().replace("+00:00", "Z"))
    harness.publish(env)
    wait_for(lambda: lag_sample("count") == count + 1, timeout=5, message="the lag observed")
    assert 30 <= lag_sample("sum") - total < 35
    harness.publish(env)  # a duplicate is not handled again: no second observation
    wait_for(lambda: outcome_count("duplicate") >= 1, timeout=5, message="the duplicate")
    assert lag_sample("count") == count + 1


def test_duplicate_delivery_has_one_effect(harness: ConsumerHarness) -> None:
    before = outcome_count("duplicate")
    env = harness.event(2)
    for _ in range(3):
        harness.publish(env)  # the relay may publish an event more than once
    wait_for(lambda: outcome_count("duplicate") - before == 2, timeout=5, message="two duplicates")
    assert harness.effect_count(env.id) == 1
    assert harness.effect_count() == 1


def test_failing_handler_is_retried_after_the_delays_then_parked(harness: ConsumerHarness) -> None:
    harness.broken.add("flaky")
    env = harness.event(3, mode="flaky")
    harness.publish(env)
    parked = wait_for(lambda: harness.broker.list_parked(harness.topology), timeout=5,
                      message="the parked message")
    times = harness.attempts[env.id]
    assert len(times) == 1 + len(RETRY_DELAYS)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    for gap, delay in zip(gaps, RETRY_DELAYS, strict=True):
        assert gap >= delay * 0.9, f"retried after {gap:.3f}s, before its {delay}s delay"
    assert harness.effect_count(env.id) == 0  # every failed attempt rolled back its effect
    assert harness.inbox_ids() == []  # ...and its inbox row, so a replay can still handle it
    [p] = parked
    assert (p.message_id, p.event_type, p.reason, p.retries) == (env.id, env.type, "retries-exhausted", 2)
    assert p.routing_key == env.type
    assert "RuntimeError: handler broken for flaky" in (p.error or "")
    assert p.parked_at
    assert json.loads(p.body)["id"] == env.id


def test_permanent_error_is_parked_without_retries(harness: ConsumerHarness) -> None:
    harness.broken.add("permanent")
    env = harness.event(4, mode="permanent")
    harness.publish(env)
    [p] = wait_for(lambda: harness.broker.list_parked(harness.topology), timeout=5, message="parked")
    assert (p.reason, p.retries) == ("rejected", 0)
    assert "contradicts" in (p.error or "")
    assert len(harness.attempts[env.id]) == 1
    assert harness.effect_count() == 0


def test_malformed_body_is_parked_at_once_and_the_next_event_still_handled(
        harness: ConsumerHarness) -> None:
    harness.publish(body=b"\x00\x01 definitely not an envelope")
    [p] = wait_for(lambda: harness.broker.list_parked(harness.topology), timeout=5, message="parked")
    assert p.reason == "malformed"
    assert "not JSON" in (p.error or "")
    assert p.event_type is None
    assert p.routing_key == "unit.item.created.v1"
    env = harness.event(5)
    harness.publish(env)
    wait_for(lambda: harness.effect_count(env.id) == 1, timeout=5, message="the next event")
    assert harness.attempts.keys() == {env.id}  # the malformed one never reached the handler


def test_invalid_payload_is_parked_at_once(harness: ConsumerHarness) -> None:
    env = harness.event(0)
    env = type(env)(**{**env.__dict__, "data": {"n": "not a number"}})
    harness.publish(env)
    [p] = wait_for(lambda: harness.broker.list_parked(harness.topology), timeout=5, message="parked")
    assert (p.reason, p.message_id, p.retries) == ("invalid-payload", env.id, 0)
    assert "ValueError: n must be an integer" in (p.error or "")
    assert harness.attempts == {}


def test_type_without_subscription_is_acked_without_effect(harness: ConsumerHarness) -> None:
    before = outcome_count("ignored")
    env = harness.event(6)
    env = type(env)(**{**env.__dict__, "type": "unit.item.archived.v1"})
    harness.publish(env)
    wait_for(lambda: outcome_count("ignored") > before, timeout=5, message="ignored")
    assert harness.effect_count() == 0
    assert harness.broker.list_parked(harness.topology) == []


def test_replay_after_the_fix_handles_the_parked_event(harness: ConsumerHarness) -> None:
    harness.broken.update({"flaky", "permanent"})
    first, second = harness.event(7, mode="flaky"), harness.event(8, mode="permanent")
    harness.publish(first)
    harness.publish(second)
    wait_for(lambda: len(harness.broker.list_parked(harness.topology)) == 2, timeout=5, message="2 parked")
    harness.broken.clear()  # the fix is deployed

    assert harness.broker.replay_parked(harness.topology, first.id) == 1
    wait_for(lambda: harness.effect_count(first.id) == 1, timeout=5, message="replayed event handled")
    [still] = harness.broker.list_parked(harness.topology)
    assert still.message_id == second.id

    assert harness.broker.replay_parked(harness.topology) == 1
    wait_for(lambda: harness.effect_count(second.id) == 1, timeout=5, message="second replay handled")
    assert harness.broker.list_parked(harness.topology) == []
    assert harness.effect_count() == 2
    assert sorted(harness.inbox_ids()) == sorted([first.id, second.id])


def test_replayed_message_gets_a_fresh_retry_budget(harness: ConsumerHarness) -> None:
    harness.broken.add("flaky")
    env = harness.event(9, mode="flaky")
    harness.publish(env)
    wait_for(lambda: harness.broker.list_parked(harness.topology), timeout=5, message="parked")
    assert harness.broker.replay_parked(harness.topology) == 1  # not fixed yet
    [p] = wait_for(lambda: harness.broker.list_parked(harness.topology), timeout=5, message="parked again")
    assert p.retries == len(RETRY_DELAYS)
    assert len(harness.attempts[env.id]) == 2 * (1 + len(RETRY_DELAYS))


def test_events_emitted_by_a_handler_inherit_its_trace(harness: ConsumerHarness) -> None:
    env = harness.event(10, mode="emit")
    harness.publish(env)
    child = wait_for(lambda: harness.contexts.get(env.id), timeout=5, message="the child event")
    assert child.causationid == env.id
    assert child.correlationid == env.correlationid
    assert (child.traceparent or "").split("-")[1] == (env.traceparent or "").split("-")[1]
    assert TRACEPARENT_PATTERN.match(child.traceparent or "")
    assert current_context() == TraceContext()  # the handler's context did not leak
    with harness.engine.connect() as conn:
        rows = conn.execute(harness.outbox.select()).all()
    assert [r.event_id for r in rows] == [child.id]  # committed with the handler's effects
