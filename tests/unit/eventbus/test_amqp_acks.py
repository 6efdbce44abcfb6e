"""The AMQP consumer acks a batch with one ``basic.ack(multiple)`` once it is handed back, and
never covers a delivery still held (unsettled) through a database outage."""

from __future__ import annotations

from typing import Any

from eventbus.amqp import AmqpBroker, _AmqpDelivery, _flush_acks
from eventbus.topology import ConsumerTopology


class FakeChannel:
    def __init__(self) -> None:
        self.acks: list[tuple[int, bool]] = []

    def basic_ack(self, tag: int, multiple: bool = False) -> None:
        self.acks.append((tag, multiple))


class FakeMessage:
    def __init__(self, channel: FakeChannel, tag: int) -> None:
        self.channel, self.delivery_tag = channel, tag
        self.body, self.headers = b"{}", {}
        self.delivery_info = {"routing_key": "t.thing.happened.v1"}
        self.properties = {"message_id": str(tag)}

    def ack(self) -> None:  # pragma: no cover - must not be used while acks are batched
        raise AssertionError("acked alone")


def _batch(channel: FakeChannel, tags: range, acks: list[Any]) -> list[_AmqpDelivery]:
    broker = AmqpBroker("amqp://guest:guest@127.0.0.1:1//")
    topology = ConsumerTopology(queue="t.acks", bindings=("t.#",), exchange="t")
    return [_AmqpDelivery(broker, topology, FakeMessage(channel, t), acks) for t in tags]


def test_a_settled_batch_is_acked_with_one_frame() -> None:
    channel, acks = FakeChannel(), []  # type: ignore[var-annotated]
    batch = _batch(channel, range(1, 6), acks)
    for d in batch:
        d.ack()
    assert channel.acks == []  # nothing before the batch is handed back
    _flush_acks(list(batch), acks)
    assert channel.acks == [(5, True)] and acks == []


def test_deliveries_held_through_an_outage_are_never_covered() -> None:
    channel, acks = FakeChannel(), []  # type: ignore[var-annotated]
    batch = _batch(channel, range(11, 17), acks)
    batch[0].ack()
    batch[1].ack()
    batch[2].settled = True  # parked: acked on its own by the forwarding
    batch[4].ack()  # e.g. an ignored event, settled before the held one before it
    # batch[3] and batch[5] are held (unsettled)
    _flush_acks(list(batch), acks)
    # Up to 12 (13 was acked already: acking it again would close the channel), 15 alone;
    # 14 and 16 stay unacked.
    assert channel.acks == [(12, True), (15, False)]
    batch[3].ack()
    batch[5].ack()
    _flush_acks(list(batch), acks)
    assert channel.acks[2:] == [(16, True)]  # 14 and 16 (the rest were acked already)
