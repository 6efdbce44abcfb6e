"""Every event the support service consumes, as the bus's subscription table.

The table's keys are also the queue's bindings, and some are topic patterns
(``accounts.account.#``): :class:`PatternSubscriptions` finds the subscription of an event type
by its exact key first, then by the first pattern that matches, so the consumer (which looks
types up with ``get``) handles everything the bindings deliver.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from eventbus import Subscription
from eventbus.topology import topic_matches

from .readmodel.handlers import subscriptions as readmodel_subscriptions


class PatternSubscriptions(dict[str, Subscription]):
    def get(self, key: str, default: Any = None) -> Any:
        if key in self:
            return self[key]
        for pattern, sub in self.items():
            if ("*" in pattern or "#" in pattern) and topic_matches(pattern, key):
                return sub
        return default


def subscriptions(clock: Callable[[], datetime]) -> PatternSubscriptions:
    return PatternSubscriptions(readmodel_subscriptions(clock))
