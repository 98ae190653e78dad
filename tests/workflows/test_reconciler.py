"""The reconciler on a real dev server: a record saved without its workflow gets one that takes its
steps; a workflow whose code is broken stays Running and is reported, as is one that was ended."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from temporalio.client import Client, WorkflowExecutionStatus

from clusterlabel.activities.handlers import handle
from clusterlabel.activities.models import CaseView, LabelView
from clusterlabel.domain.base import Level
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.commands import DecideAppeal, IssueLabel, LodgeAppeal, RecordDecision, Screen
from clusterlabel.domain.complaint import Complaint
from clusterlabel.domain.complaint_commands import AcknowledgeComplaint, LodgeComplaint
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.workflows.case import CaseWorkflow, case_workflow_id
from clusterlabel.workflows.complaint import ComplaintWorkflow, complaint_workflow_id
from clusterlabel.workflows.label import label_workflow_id
from clusterlabel.workflows.reconciler import (
    STUCK_AT_ATTEMPT,
    Reconciler,
    ReconcileStatus,
    ensure_reconcile_schedule,
    last_reconciliation,
    reconcile_now,
)
from clusterlabel.workflows.starter import case_handle, complaint_handle, label_handle, start_label_workflow
from tests.builders import send
from tests.lifecycle import Lifecycle
from tests.workflows.harness import (
    BOARD,
    checked_worker,
    drive_to_award,
    office_on,
    result_of,
    run,
    running_worker,
    step,
    view_when,
)
from tests.workflows.violator import SandboxViolator


def test_the_scheduled_reconciliation_starts_the_workflow_of_an_application_saved_without_one(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await office_on(dev_server, "reconcile")
        cluster_id = office.cluster()
        office.expert()
        case_id = office.submit(cluster_id)  # saved, and the process died before starting its workflow
        async with running_worker(client, office.app, office.task_queue):
            await ensure_reconcile_schedule(client, office.task_queue, timedelta(minutes=10))
            await ensure_reconcile_schedule(client, office.task_queue, timedelta(minutes=10))  # a second worker
            await reconcile_now(client)
            status = await _finished_reconciliation(client)
            assert status.report is not None and status.report.started == [case_workflow_id(case_id)]
            assert status.report.problems == [] and status.report.open_cases == 1

            handle = case_handle(client, case_id)
            screened = await handle.execute_update(CaseWorkflow.screen, step(Screen(accepted=True)))
            assert screened.state == "assigning"
            await view_when(handle, lambda view: view.proposed_expert_id is not None)

    run(scenario())


def test_a_label_in_force_without_its_workflow_gets_one_and_an_ended_one_is_reported_not_restarted(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await office_on(dev_server, "reconcile-label")
        _, label_id = Lifecycle(office.app).labelled()  # awarded and closed, its label's workflow never started
        reconciler = Reconciler(client, office.app, office.task_queue)
        async with running_worker(client, office.app, office.task_queue):
            report = await reconciler.reconcile()
            assert label_workflow_id(label_id) in report.started and report.labels_in_force == 1
            view = await view_when(label_handle(client, label_id), lambda v: v.state == "active", view_type=LabelView)
            assert view.label_id == label_id

            await label_handle(client, label_id).terminate("an operator's mistake")
            again = await reconciler.reconcile()
        assert again.started == []
        assert [(problem.workflow_id, problem.kind) for problem in again.problems] == [
            (label_workflow_id(label_id), "terminated")
        ]
        assert "temporal workflow reset" in again.problems[0].detail

    run(scenario())


def test_a_complaint_lodged_without_its_workflow_gets_one_that_takes_its_steps(dev_server: EmbeddedTemporal) -> None:
    async def scenario() -> None:
        office, client = await office_on(dev_server, "reconcile-complaint")
        key = "http:complaint:lost-start"
        lodge = LodgeComplaint(about="a cluster", text="Misleading claims.", cluster_id=office.cluster())
        complaint_id = handle(office.app, Complaint.create_id(key), lodge, Envelope(actor="public", key=key)).id
        async with running_worker(client, office.app, office.task_queue):
            report = await Reconciler(client, office.app, office.task_queue).reconcile()
            assert complaint_workflow_id(complaint_id) in report.started and report.open_complaints == 1
            acknowledged = await complaint_handle(client, complaint_id).execute_update(
                ComplaintWorkflow.acknowledge, step(AcknowledgeComplaint())
            )
            assert acknowledged.state == "acknowledged"
            again = await Reconciler(client, office.app, office.task_queue).reconcile()
        assert complaint_workflow_id(complaint_id) not in again.started and again.problems == []

    run(scenario())


def test_a_sandbox_violation_keeps_the_workflow_running_and_the_reconciler_reports_it_stuck(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await office_on(dev_server, "reconcile-stuck")
        case_id = office.submit(office.cluster())
        queue = office.task_queue
        async with checked_worker(client, office.app, queue, activity_threads=2, extra_workflows=[SandboxViolator]):
            # A case workflow whose code has the bug: the project's worker retries its task, never fails it.
            handle = await client.start_workflow(SandboxViolator.run, id=case_workflow_id(case_id), task_queue=queue)
            attempt = 0
            for _ in range(300):
                description = await handle.describe()
                assert description.status == WorkflowExecutionStatus.RUNNING
                attempt = description.raw_description.pending_workflow_task.attempt
                if attempt >= STUCK_AT_ATTEMPT:
                    break
                await asyncio.sleep(0.1)
            assert attempt >= STUCK_AT_ATTEMPT
            report = await Reconciler(client, office.app, queue).reconcile()
            assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        assert report.started == []
        assert [(problem.workflow_id, problem.kind) for problem in report.problems] == [
            (case_workflow_id(case_id), "stuck")
        ]

    run(scenario())


async def _finished_reconciliation(client: Client, timeout: float = 30.0) -> ReconcileStatus:
    """What the secretariat is shown, once the scheduled run has finished."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await last_reconciliation(client)
        if status.report is not None or asyncio.get_running_loop().time() > deadline:
            return status
        await asyncio.sleep(0.2)


def test_a_case_workflow_behind_its_concluded_record_is_told_to_reload_and_closes_the_case(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await office_on(dev_server, "reconcile-behind", appeal_window="P30D")
        cluster_id = office.cluster()
        office.expert()
        async with running_worker(client, office.app, office.task_queue):
            case = await office.open_case(cluster_id)
            refusal = step(RecordDecision(outcome=Outcome.REFUSE, rationale="Short of the threshold."), BOARD)
            refused: CaseView = await drive_to_award(case, decision=refusal)
            assert refused.state == "refused" and not refused.concluded  # its window runs thirty days
            # The appeal lodged and dismissed reach the store, and the workflow never hears of them (their
            # updates lost, nobody asking again): it would wait out the thirty days.
            case_id = refused.case_id
            for command, actor in [
                (LodgeAppeal(grounds="The scores are wrong."), f"cluster:{cluster_id}"),
                (DecideAppeal(upheld=False, rationale="They are right."), "secretariat:appeals"),
            ]:
                handle(office.app, case_id, command, Envelope(actor=actor, key=uuid.uuid4().hex))
            report = await Reconciler(client, office.app, office.task_queue).reconcile()
            assert report.reloaded == [case_workflow_id(case_id)] and report.problems == []
            final: CaseView = await asyncio.wait_for(result_of(case), 30)
            assert final.state == "refused" and final.concluded
            assert office.app.get_cluster(cluster_id).open_cases == {}

    run(scenario())


def test_a_label_superseded_by_another_cases_award_has_its_workflow_told_to_reload_and_it_ends(
    dev_server: EmbeddedTemporal,
) -> None:
    """A Gold application awarded Bronze supersedes the Bronze label the cluster holds; the case tells only
    the label it renews, so that label's workflow would wait on its expiry timers for two years. The
    reconciler finds it running behind its ended label and tells it to reload: it ends."""

    async def scenario() -> None:
        office, client = await office_on(dev_server, "reconcile-superseded")
        life = Lifecycle(office.app)
        _, bronze_id = life.labelled()
        reconciler = Reconciler(client, office.app, office.task_queue)
        async with running_worker(client, office.app, office.task_queue):
            assert label_workflow_id(bronze_id) in (await reconciler.reconcile()).started
            await view_when(label_handle(client, bronze_id), lambda v: v.state == "active", view_type=LabelView)
            gold_case = life.deciding(Level.GOLD, fraction=1.0)
            life.decide(gold_case, level=Level.BRONZE)
            send(office.app, gold_case, IssueLabel(), actor="system")
            assert office.app.get_label(bronze_id).state is LabelState.SUPERSEDED

            report = await reconciler.reconcile()

            assert report.reloaded == [label_workflow_id(bronze_id)] and report.problems == []
            final: LabelView = await asyncio.wait_for(label_handle(client, bronze_id).result(), 30)
            assert final.state == "superseded" and final.final

    run(scenario())


def test_a_new_label_tells_the_label_it_supersedes_at_its_level_and_that_labels_workflow_ends(
    dev_server: EmbeddedTemporal,
) -> None:
    """The same supersession without the reconciler: the new label's first run tells the Bronze label it
    supersedes, whose workflow ends at once (the Gold case tells only a label it renews or the one appealed)."""

    async def scenario() -> None:
        office, client = await office_on(dev_server, "tell-superseded")
        life = Lifecycle(office.app)
        _, bronze_id = life.labelled()
        async with running_worker(client, office.app, office.task_queue):
            await start_label_workflow(client, bronze_id, office.task_queue)
            await view_when(label_handle(client, bronze_id), lambda v: v.state == "active", view_type=LabelView)
            gold_case = life.deciding(Level.GOLD, fraction=1.0)
            life.decide(gold_case, level=Level.BRONZE)
            new_label = send(office.app, gold_case, IssueLabel(), actor="system").label_id
            assert new_label is not None

            await start_label_workflow(client, new_label, office.task_queue)

            final: LabelView = await asyncio.wait_for(label_handle(client, bronze_id).result(), 30)
            assert final.state == "superseded" and final.superseded_by == new_label

    run(scenario())
