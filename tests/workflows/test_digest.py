"""The secretariat's digest on a real Temporal dev server: its Schedule fires by itself (here every few
seconds) and queues, through the outbox, one message listing the overdue cases, the labels expiring
within the reminder horizon and the undelivered messages; one digest per period however often it runs;
none when there is nothing to report."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from temporalio.client import Client, ScheduleOverlapPolicy

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.digest import DigestOutcome, DigestSource
from clusterlabel.domain.commands import Escalate
from clusterlabel.domain.invoice import Invoice, invoice_id_for
from clusterlabel.domain.record_commands import RecordDeliveryFailure
from clusterlabel.interfaces.digest import digest_source
from clusterlabel.interfaces.temporal_client import connect_client
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.projections.factory import open_read_models
from clusterlabel.projections.queries import ReadModels
from clusterlabel.workflows.digest_schedule import SCHEDULE_ID, ensure_digest_schedule
from tests.builders import send
from tests.lifecycle import Clock, Lifecycle
from tests.stores import sqlite_env
from tests.workflows.harness import checked_worker, outbox, run

VIEWS = ["case_status", "expiry_calendar", "notifications", "invoices"]
DAY = timedelta(days=1)


def office(folder: Path) -> tuple[CertificationApp, Clock, ReadModels]:
    env = sqlite_env(folder)
    clock = Clock()
    app = CertificationApp(env=env, clock=clock)
    return app, clock, open_read_models(env, app, only=VIEWS)


def current(models: ReadModels) -> DigestSource:
    """The digest's source over views caught up first (in the engine, the projection runner keeps them so)."""
    source = digest_source(models)

    def facts(now: datetime, horizon: timedelta) -> Any:
        models.catch_up()
        return source(now, horizon)

    return facts


def digests(app: CertificationApp) -> list[Any]:
    return outbox(app, "digest")


async def outcomes(client: Client, count: int, timeout: float = 30.0) -> list[DigestOutcome]:
    """The results of the schedule's first `count` runs, once they have finished."""
    handle = client.get_schedule_handle(SCHEDULE_ID)
    deadline = time.monotonic() + timeout
    while True:
        actions = (await handle.describe()).info.recent_actions
        if len(actions) >= count:
            break
        assert time.monotonic() < deadline, f"the schedule ran {len(actions)} times, not {count}"
        await asyncio.sleep(0.2)
    results = []
    for action in actions[:count]:
        started: Any = action.action
        run_handle = client.get_workflow_handle(started.workflow_id, result_type=DigestOutcome)
        results.append(await run_handle.result())
    return results


async def scheduled(
    server: EmbeddedTemporal,
    app: CertificationApp,
    models: ReadModels,
    queue: str,
    every: timedelta,
    then: Callable[[Client], Any],
) -> None:
    client = await connect_client(server.address, server.namespace)
    async with checked_worker(client, app, queue, activity_threads=2, digest=current(models)):
        handle = await ensure_digest_schedule(client, queue, every, timedelta(0))
        try:
            await then(client)
        finally:
            await handle.delete()


def an_overdue_case_and_an_undelivered_message(app: CertificationApp, clock: Clock) -> tuple[UUID, UUID]:
    """A case whose screening is a day overdue, and the escalation about it, which could not be delivered."""
    case_id = Lifecycle(app).apply()  # screening is due in 30 days
    clock.advance(days=31)
    send(app, case_id, Escalate(reason="screening overdue"), actor="system:workflow")
    message_id = outbox(app, "escalation")[0].originator_id
    send(app, message_id, RecordDeliveryFailure(reason="550 <clara@x.example>: no such mailbox", attempts=3))
    return case_id, message_id


def test_the_schedule_sends_the_secretariat_a_digest_of_overdue_cases_and_undelivered_messages_by_itself(
    dev_server: EmbeddedTemporal, tmp_path: Path
) -> None:
    app, clock, models = office(tmp_path)
    invoiced = Lifecycle(app).auditing()  # its invoice is due in 30 days, and is never paid
    case_id, message_id = an_overdue_case_and_an_undelivered_message(app, clock)

    async def then(client: Client) -> None:
        first = (await outcomes(client, 1))[0]  # nobody triggers it: the schedule fires every 2 s
        assert (first.overdue, first.failed, first.unpaid) == (1, 1, 1) and first.message_id is not None

    run(scheduled(dev_server, app, models, "digest-fires", timedelta(seconds=2), then))

    digest = digests(app)[0]
    assert digest.recipient == "secretariat" and digest.case_id is None and digest.label_id is None
    assert f"case {case_id}" in digest.body and "screening was due" in digest.body
    assert f"message {message_id} (escalation) to secretariat" in digest.body
    invoice = app.load(invoice_id_for(invoiced), Invoice)
    assert f"invoice {invoice.number} (case {invoiced}): 2,250.00 EUR was due by" in digest.body
    assert digest.subject.endswith(", 1 undelivered, 1 unpaid")
    assert "@" not in digest.body  # the mail server's reply (which may quote an address) stays out
    models.close()


def test_a_period_has_one_digest_however_often_its_schedule_runs(dev_server: EmbeddedTemporal, tmp_path: Path) -> None:
    app, clock, models = office(tmp_path)
    an_overdue_case_and_an_undelivered_message(app, clock)

    async def then(client: Client) -> None:
        schedule = client.get_schedule_handle(SCHEDULE_ID)
        for times in range(1, 4):  # a day's schedule asked three times (an operator, a catch-up after an outage)
            await schedule.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)
            runs = await outcomes(client, times)
            await asyncio.sleep(1.1)  # each run's workflow id carries the second it started
        assert len({run.message_id for run in runs}) == 1 and runs[0].message_id is not None

    run(scheduled(dev_server, app, models, "digest-once", DAY, then))

    assert len(digests(app)) == 1
    models.close()


def test_nothing_to_report_sends_nothing(dev_server: EmbeddedTemporal, tmp_path: Path) -> None:
    app, _, models = office(tmp_path)
    Lifecycle(app).apply()  # a case well inside its deadline

    async def then(client: Client) -> None:
        await client.get_schedule_handle(SCHEDULE_ID).trigger()
        [nothing] = await outcomes(client, 1)
        assert nothing == DigestOutcome()

    run(scheduled(dev_server, app, models, "digest-quiet", DAY, then))

    assert digests(app) == []
    models.close()
