"""What the two kinds of outgoing delivery share: a message of the outbox (domain/notification.py) and a
label change told to a webhook (domain/webhook_delivery.py). Each waits while queued, counts the tries its
rounds took, and is refused a step once it is no longer waiting.

The events stay the aggregates' own (their topics name them): these steps only call them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from clusterlabel.domain.base import StepNotAllowed


class DeliverySteps:
    """The steps a queued delivery shares; the aggregate names itself and the status each event leaves it in."""

    noun: ClassVar[str]  # what a refusal calls it
    status_after: ClassVar[Mapping[str, StrEnum]]  # by event class name
    id: UUID
    status: StrEnum
    attempts: int
    # The event method of the aggregate that these steps record.
    _failed: Callable[..., None]

    @property
    def waiting(self) -> bool:
        return self.status is self.status_after["Queued"]

    def record_failure(self, at: datetime, reason: str, attempts: int, actor: str, command_key: str) -> None:
        self._check_waiting("fail")
        self._failed(at=at, reason=reason, attempts=attempts, actor=actor, command_key=command_key)

    def _after(self, event_name: str, attempts: int = 0) -> None:
        """What an event does to the delivery: the status it leaves it in, and the tries it took (if any)."""
        self.status = self.status_after[event_name]
        self.attempts += attempts

    def _check_waiting(self, what: str) -> None:
        if not self.waiting:
            raise StepNotAllowed(f"{self.noun} {self.id} is {self.status.value} and cannot {what}")
