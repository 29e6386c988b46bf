"""The DMS consumer's reconnect budget counts losses in a row, not in a lifetime: a consumer that has lost its
broker many times over months, with a good connection between each loss, never gives up for it.

The losses are made by a consumer whose connection attempt comes up and then drops (the broker itself cannot
be made to drop a dozen times on cue here); the counting under test is the real consumer's."""

from __future__ import annotations

from typing import Any

import pytest
from pika.exceptions import AMQPConnectionError

from connectors.dms_amqp import DmsAmqpConfig, DmsConsumer
from core.errors import SourceUnavailable
from pipeline import Loader

pytestmark = pytest.mark.faults


class _Flaky(DmsConsumer):
    """Loses the broker ``losses`` times; ``comes_up`` says whether each attempt connected first."""

    def __init__(self, config: DmsAmqpConfig, loader: Loader, losses: int, comes_up: bool) -> None:
        super().__init__(config, loader)
        self.losses, self.comes_up, self.attempts = losses, comes_up, 0

    def _consume(self, report: Any, idle_exit_s: float | None, max_messages: int | None) -> None:
        self.attempts += 1
        if self.attempts > self.losses:
            return
        if self.comes_up:
            self._connected = True  # what the real _consume sets once the channel is ready
        raise AMQPConnectionError("connection reset by peer")


def _config() -> DmsAmqpConfig:
    return DmsAmqpConfig(reconnect_attempts=3, reconnect_max_wait_s=0.01)


def test_losses_with_good_connections_between_them_never_exhaust_the_budget(loader: Loader) -> None:
    consumer = _Flaky(_config(), loader, losses=12, comes_up=True)
    stats = consumer.run()
    assert stats.reconnects == 12
    assert consumer.attempts == 13


def test_losses_in_a_row_still_give_up_with_a_true_message(loader: Loader) -> None:
    consumer = _Flaky(_config(), loader, losses=12, comes_up=False)
    with pytest.raises(SourceUnavailable, match="lost 4 times in a row"):
        consumer.run()
    assert consumer.attempts == 4
