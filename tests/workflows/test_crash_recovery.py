"""Fifty cases in flight survive a SIGKILLed worker and a restarted Temporal server, and the event store
ends with every event exactly once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from clusterlabel.activities.models import CaseView, LabelView
from clusterlabel.domain.base import Level
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.catalogue_shelf import current_version_for
from clusterlabel.domain.command_base import Command, Envelope
from clusterlabel.domain.commands import (
    AnswerProposal,
    RecordAgreement,
    RecordDecision,
    ScheduleAudit,
    Screen,
    SubmitAssessment,
)
from clusterlabel.interfaces.temporal_client import connect_client
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.workflows.case import CaseWorkflow
from clusterlabel.workflows.starter import execute_step, label_handle
from tests.builders import T0, full_scores, indicators
from tests.workflows.harness import (
    BOARD,
    COMPRESSED,
    SECRETARY,
    Secretariat,
    compressed_policy,
    run,
    sqlite_app,
)
from tests.workflows.processes import WorkerProcess, persist

CASES = 50
STEPS_PER_CASE = 6
# Labels live a few seconds, so their workflows (timers across the crash) finish within the test.
SHORT_LABELS = {"label_validity": "PT6S", "renewal_window": "PT4S", "expiry_reminders": ["PT3S"]}

CASE_EVENTS = [
    "Submitted",
    "Screened",
    "ExpertProposed",
    "ExpertAccepted",
    "AgreementRequested",
    "ClusterAgreedToExperts",
    "AuditScheduled",
    "AssessmentSubmitted",
    "ReportSubmitted",
    "DecisionRecorded",
    "LabelIssued",
]
LABEL_EVENTS = ["Issued", "ExpiryReminderSent", "Expired", "RenewalWindowClosed"]
# A reminder that fell due while the workers were down or busy, and found its six-second label expired,
# is stale and is not sent (domain/reminders.reminders_to_send): the label's events lack it.
LABEL_EVENTS_REMINDER_STALE = [name for name in LABEL_EVENTS if name != "ExpiryReminderSent"]


class Driver:
    """Takes every case through its human steps, counting the steps done."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.steps_done = 0
        self.progress = asyncio.Condition()

    async def reached(self, steps: int) -> None:
        async with self.progress:
            await self.progress.wait_for(lambda: self.steps_done >= steps)

    async def step(
        self, handle: WorkflowHandle[Any, CaseView], name: str, update: Any, command: Command, actor: str = SECRETARY
    ) -> CaseView:
        # One key per step of the case, so a retry is the same update (and the same command) again.
        envelope = Envelope(actor=actor, key=f"{handle.id}/{name}")
        view = await persist(lambda: execute_step(handle, update, command, envelope))
        async with self.progress:
            self.steps_done += 1
            self.progress.notify_all()
        return view

    async def proposed_expert(self, handle: WorkflowHandle[Any, CaseView]) -> uuid.UUID:
        while True:
            try:
                view = await asyncio.wait_for(handle.query(CaseWorkflow.view), 5)
            except (TimeoutError, RPCError, RuntimeError):
                view = None
            if view is not None and view.proposed_expert_id is not None:
                return view.proposed_expert_id
            await asyncio.sleep(0.2)

    async def award(self, handle: WorkflowHandle[Any, CaseView]) -> CaseView:
        await self.step(handle, "screen", CaseWorkflow.screen, Screen(accepted=True))
        expert = await self.proposed_expert(handle)
        respond = AnswerProposal(expert_id=expert, accept=True)
        await self.step(handle, "respond", CaseWorkflow.respond_to_proposal, respond, actor=f"expert:{expert}")
        await self.step(handle, "agree", CaseWorkflow.record_agreement, RecordAgreement(agreed=True))
        audit = ScheduleAudit(audit_date=datetime.now(UTC), place="the cluster office")  # held as scheduled
        await self.step(handle, "schedule", CaseWorkflow.schedule_audit, audit)
        assessment = SubmitAssessment(
            expert_id=expert,
            indicators=indicators(full_scores(current_version_for("bronze", T0))),
            report="Sound.",
        )
        await self.step(handle, "assess", CaseWorkflow.submit_assessment, assessment, actor=f"expert:{expert}")
        decision = RecordDecision(outcome=Outcome.AWARD, level=Level.BRONZE, rationale="Met.")
        await self.step(handle, "decide", CaseWorkflow.record_decision, decision, actor=BOARD)
        return await persist(handle.result)


def event_names(app: Any, aggregate_id: uuid.UUID) -> tuple[list[int], list[str], list[tuple[str, str]]]:
    """Versions, event class names and (event, command key) pairs of one aggregate, from the store."""
    stored = list(app.recorder.select_events(aggregate_id))
    events = [app.mapper.to_domain_event(item) for item in stored]
    names = [type(event).__name__ for event in events]
    keys = [(type(event).__name__, getattr(event, "command_key", "")) for event in events]
    return [item.originator_version for item in stored], names, keys


def test_fifty_cases_survive_a_killed_worker_and_a_restarted_server_with_every_event_recorded_once(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        server = EmbeddedTemporal(tmp_path / "temporal").start()
        database = tmp_path / "events.sqlite"
        app = sqlite_app(database, compressed_policy(**SHORT_LABELS))
        task_queue = f"crash-{uuid.uuid4().hex[:8]}"
        overrides = {**COMPRESSED, **SHORT_LABELS}
        workers = [WorkerProcess(server.address, task_queue, database, tmp_path / "worker.log", overrides)]
        try:
            client = await connect_client(server.address, server.namespace)
            office = Secretariat(app, client, task_queue)
            for number in range(5):
                office.expert(name=f"Expert {number:02d}")
            clusters = [office.cluster(name=f"Cluster {number:02d}") for number in range(CASES)]
            handles = [await office.open_case(cluster) for cluster in clusters]
            driver = Driver(client)
            outcomes = asyncio.gather(*(driver.award(handle) for handle in handles))

            await driver.reached(CASES * STEPS_PER_CASE // 4)
            workers[0].kill()  # mid-flight: activities and workflow tasks die with it
            workers.append(WorkerProcess(server.address, task_queue, database, tmp_path / "worker.log", overrides))

            await driver.reached(CASES * STEPS_PER_CASE // 2)
            server.stop()
            server.start()  # same SQLite file, same port

            finals: list[CaseView] = await asyncio.wait_for(outcomes, timeout=150)
            assert [final.state for final in finals] == ["awarded"] * CASES
            label_ids = [final.label_id for final in finals]
            assert None not in label_ids
            labels: list[LabelView] = await asyncio.wait_for(
                asyncio.gather(*(persist(label_handle(client, label_id).result) for label_id in label_ids)), timeout=60
            )
            assert [label.state for label in labels] == ["lapsed"] * CASES

            reminded = 0
            for final, label in zip(finals, labels, strict=True):
                versions, names, keys = event_names(app, final.case_id)
                assert versions == list(range(1, len(versions) + 1))
                assert names == CASE_EVENTS, f"case {final.case_id}: {names}"
                assert not [pair for pair, count in Counter(keys).items() if count > 1]
                versions, names, keys = event_names(app, label.label_id)
                assert versions == list(range(1, len(versions) + 1))
                assert names in (LABEL_EVENTS, LABEL_EVENTS_REMINDER_STALE), f"label {label.label_id}: {names}"
                reminded += names == LABEL_EVENTS
                assert not [pair for pair, count in Counter(keys).items() if count > 1]
            assert reminded > 0, "no label's reminder went out: every one stale is a reminder that never fires"
        finally:
            for worker in workers:
                worker.stop()
            server.stop()

    run(scenario())
