"""The outbox relay: every message queued from now on gets its delivery workflow within moments.

Not workflow code (it talks to the Temporal service, like starter.py): a loop beside each worker that
follows the event log from the head it found at start, woken by this process's saves (the commands that
queue messages run in the worker) and otherwise every POLL_SECONDS. What was queued before it started,
or while a start failed, the reconciler starts (it runs as each worker starts, then on its schedule).
Several relays start the same workflows harmlessly: a start finds the run already sending the message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog
from temporalio.client import Client

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.open_records import PAGE, QUEUEING_TOPICS, WEBHOOK_QUEUEING_TOPICS, queued_after
from clusterlabel.workflows.starter import start_delivery_workflow, start_webhook_delivery_workflow

POLL_SECONDS = 1.0
PAUSE_AFTER_ERROR_SECONDS = 5.0
log = structlog.stdlib.get_logger(__name__)


@dataclass
class Feed:
    """What the relay follows in the log: the events that queue something, and the start of the workflow
    each one needs (as `start(client, id, task_queue, policy)`)."""

    topics: list[str]
    start: Callable[..., Awaitable[Any]]
    position: int  # read up to here


class OutboxRelay:
    def __init__(self, client: Client, app: CertificationApp, task_queue: str) -> None:
        self.client = client
        self.app = app
        self.task_queue = task_queue
        # Where the log stands now: what lies before is the reconciler's, which runs once a worker starts.
        head = app.recorder.max_notification_id() or 0
        self.feeds = (
            Feed(QUEUEING_TOPICS, start_delivery_workflow, head),  # the messages
            Feed(WEBHOOK_QUEUEING_TOPICS, start_webhook_delivery_workflow, head),  # the deliveries to webhooks
        )
        self._saved = asyncio.Event()

    async def run(self) -> None:
        """Relay until cancelled."""
        loop = asyncio.get_running_loop()

        def wake() -> None:  # called in the thread that saved
            loop.call_soon_threadsafe(self._saved.set)

        self.app.saved_listeners.append(wake)
        try:
            while True:
                try:
                    await self.relay()
                except Exception as error:  # Temporal or the store away: the position stays, try again later
                    log.warning("outbox relay: messages not started yet", error=str(error) or type(error).__name__)
                    await asyncio.sleep(PAUSE_AFTER_ERROR_SECONDS)
                await self._wait()
        finally:
            self.app.saved_listeners.remove(wake)

    async def relay(self) -> list[UUID]:
        """Start the delivery of every message and every webhook's delivery queued since the last look;
        the messages and deliveries started."""
        started: list[UUID] = []
        for feed in self.feeds:
            started.extend(await self._relay(feed))
        return started

    async def _relay(self, feed: Feed) -> list[UUID]:
        """Start the workflows of what the feed queued since its position, a page at a time."""
        started: list[UUID] = []
        while True:
            found, position = await asyncio.to_thread(queued_after, self.app, feed.position, feed.topics)
            for record_id in found:
                await feed.start(self.client, record_id, self.task_queue, self.app.policy)
            feed.position = position
            started.extend(found)
            if len(found) < PAGE:
                return started

    async def _wait(self) -> None:
        try:
            await asyncio.wait_for(self._saved.wait(), POLL_SECONDS)
        except TimeoutError:
            pass
        self._saved.clear()
