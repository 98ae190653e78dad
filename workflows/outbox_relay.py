"""The outbox relay: every message queued from now on gets its delivery workflow within moments.

Not workflow code (it talks to the Temporal service, like starter.py): a loop beside each worker that
follows the event log from the head it found at start, woken by this process's saves (the commands that
queue messages run in the worker) and otherwise every POLL_SECONDS. What was queued before it started,
or while a start failed, the reconciler starts (it runs as each worker starts, then on its schedule).
Several relays start the same workflows harmlessly: a start finds the run already sending the message.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

import structlog
from temporalio.client import Client

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.open_records import PAGE, WEBHOOK_QUEUEING_TOPICS, queued_after
from clusterlabel.workflows.starter import start_delivery_workflow, start_webhook_delivery_workflow

POLL_SECONDS = 1.0
PAUSE_AFTER_ERROR_SECONDS = 5.0
log = structlog.stdlib.get_logger(__name__)


class OutboxRelay:
    def __init__(self, client: Client, app: CertificationApp, task_queue: str) -> None:
        self.client = client
        self.app = app
        self.task_queue = task_queue
        # Where the log stands now: what lies before is the reconciler's, which runs once a worker starts.
        self.position = app.recorder.max_notification_id() or 0
        self.webhook_position = self.position  # the deliveries to partners' webhooks, followed alike
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
        return [*await self._relay_messages(), *await self._relay_webhook_deliveries()]

    async def _relay_webhook_deliveries(self) -> list[UUID]:
        started: list[UUID] = []
        while True:
            found, position = await asyncio.to_thread(
                queued_after, self.app, self.webhook_position, WEBHOOK_QUEUEING_TOPICS
            )
            for delivery_id in found:
                await start_webhook_delivery_workflow(self.client, delivery_id, self.task_queue, self.app.policy)
            self.webhook_position = position
            started.extend(found)
            if len(found) < PAGE:
                return started

    async def _relay_messages(self) -> list[UUID]:
        started: list[UUID] = []
        while True:
            message_ids, position = await asyncio.to_thread(queued_after, self.app, self.position)
            for message_id in message_ids:
                await start_delivery_workflow(self.client, message_id, self.task_queue, self.app.policy)
            self.position = position
            started.extend(message_ids)
            if len(message_ids) < PAGE:
                return started

    async def _wait(self) -> None:
        try:
            await asyncio.wait_for(self._saved.wait(), POLL_SECONDS)
        except TimeoutError:
            pass
        self._saved.clear()
