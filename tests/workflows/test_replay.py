"""Workflow code changes must stay deterministic: recorded histories replay against the current code.

The histories under tests/workflows/histories/ were recorded from the scenario below; each run also
records a fresh set. A change that would break running workflows (a new timer, an activity moved,
a wait given a timeout) fails here; guard such a change with workflow.patched(...).
Re-record the stored set with CLUSTERLABEL_RECORD_HISTORIES=1 after an intended, patched change.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import get_args

from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from clusterlabel.activities.models import CaseView, LabelView
from clusterlabel.domain.base import Level
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.commands import (
    AnswerProposal,
    DecideAppeal,
    LodgeAppeal,
    RecordDecision,
    RestoreLabel,
    Screen,
    StartRenewal,
    SuspendLabel,
    WithdrawCase,
)
from clusterlabel.domain.record_commands import DeclareAffiliation
from clusterlabel.interfaces.settings import WorkflowSandbox
from clusterlabel.interfaces.temporal_client import connect_client
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.interfaces.worker import WORKFLOWS, notify_experts_changed, workflow_runner
from clusterlabel.workflows.case import CaseWorkflow
from clusterlabel.workflows.common import NO_SILENT_WAITS, ONE_MARKER, TELL_SUPERSEDED
from clusterlabel.workflows.label import LabelWorkflow
from clusterlabel.workflows.payloads import DATA_CONVERTER
from clusterlabel.workflows.starter import label_handle, start_case_workflow
from tests.builders import send
from tests.workflows.harness import (
    BOARD,
    SECRETARY,
    Secretariat,
    compressed_policy,
    drive_to_award,
    memory_app,
    result_of,
    run,
    running_worker,
    step,
    view_when,
)

HISTORIES = Path(__file__).parent / "histories"
# One folder per generation of the workflow code that recorded them: v1 ran commands as server-side
# activities, v2 as local activities named per command, v3 as commands-as-data, v4 asks for every patch
# in its first workflow task (PATCHES_FIRST), v5 keeps a lower award open through its appeal window
# (AWARD_APPEALS), v6 records one patch marker for all of those (ONE_MARKER), v7 has a new label tell the
# label it supersedes (TELL_SUPERSEDED, a label run's second marker), v8 counts a case's alarm done only
# once acted on (NO_SILENT_WAITS, a case run's second marker). A fresh recording
# replaces only the newest generation. delivery-v1 holds DeliveryWorkflow's runs (recorded by
# tests/workflows/test_delivery.py), complaint-v1 ComplaintWorkflow's before ONE_MARKER, complaint-v2 since,
# and complaint-v3 since NO_SILENT_WAITS (tests/workflows/test_complaint_workflow.py).
CURRENT_GENERATION = HISTORIES / "v8-no-silent-waits"
RECORD = os.environ.get("CLUSTERLABEL_RECORD_HISTORIES") == "1"


async def every_run(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """The histories of all runs of a workflow id (a label's workflow continues as new)."""
    histories = []
    async for execution in client.list_workflows(f'WorkflowId="{workflow_id}"'):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        history = await handle.fetch_history()
        histories.append(WorkflowHistory(f"{workflow_id}-{execution.run_id}", history.events))
    return histories


async def record_scenario(server: EmbeddedTemporal) -> dict[str, list[WorkflowHistory]]:
    """A refused, appealed and awarded case whose label is suspended, restored, continues as new and
    lapses; a case waiting for an expert that is withdrawn; a case rejected at screening; a Gold case
    awarded Silver, appealed and awarded Gold; then the case alarms and a renewal (record_alarms_and_renewal)."""
    client = await connect_client(server.address, server.namespace)
    # A rejected case waits out its appeal window before it closes: five seconds here.
    policy = compressed_policy(
        label_validity="PT8S", expiry_reminders=["PT4S"], renewal_window="PT2S", appeal_window="PT5S"
    )
    office = Secretariat(memory_app(policy), client, task_queue=f"replay-{uuid.uuid4().hex[:8]}")
    recorded: dict[str, list[WorkflowHistory]] = {}
    async with running_worker(client, office.app, office.task_queue):
        # 1. Declined once, refused, appealed, upheld, awarded.
        cluster = office.cluster()
        office.expert(name="Aaron Declines")
        office.expert(name="Berta Accepts")
        case_id = office.submit(cluster)
        appealed = await start_case_workflow(client, case_id, office.task_queue, label_continue_after=2)
        await appealed.execute_update(CaseWorkflow.screen, step(Screen(accepted=True)))
        first: CaseView = await view_when(appealed, lambda v: v.proposed_expert_id is not None)
        assert first.proposed_expert_id is not None
        decline = AnswerProposal(expert_id=first.proposed_expert_id, accept=False, reason="busy")
        await appealed.execute_update(CaseWorkflow.respond_to_proposal, step(decline, actor="expert"))
        await view_when(appealed, lambda v: v.proposed_expert_id not in (None, first.proposed_expert_id))
        refused = step(RecordDecision(outcome=Outcome.REFUSE, level=Level.BRONZE, rationale="Weak."), BOARD)
        await drive_to_award(appealed, screened=True, decision=refused)
        await appealed.execute_update(
            CaseWorkflow.lodge_appeal, step(LodgeAppeal(grounds="Evidence ignored."), f"cluster:{cluster}")
        )
        appeals = "secretariat:appeals"
        upheld = await appealed.execute_update(
            CaseWorkflow.decide_appeal,
            step(DecideAppeal(upheld=True, rationale="Evidence valid."), appeals),
        )
        assert upheld.state == "deciding"
        board_2 = "secretariat:board-2"
        award = RecordDecision(outcome=Outcome.AWARD, rationale="On appeal.")
        awarded = await appealed.execute_update(CaseWorkflow.record_decision, step(award, board_2))
        assert awarded.state == "awarded"
        final: CaseView = await result_of(appealed)
        assert final.label_id is not None
        label = label_handle(client, final.label_id)
        await label.execute_update(LabelWorkflow.suspend, step(SuspendLabel(reason="complaint under review")))
        restored = await label.execute_update(LabelWorkflow.restore, step(RestoreLabel()))
        assert restored.state == "active"
        lapsed: LabelView = await result_of(label)
        assert lapsed.state == "lapsed"

        # 2. No expert left for the cluster: escalated, told, proposed, then withdrawn.
        lonely = office.cluster(name="Lonely Cluster")
        for n, expert_id in enumerate(office.app.expert_ids()[:2], 1):
            send(office.app, expert_id, DeclareAffiliation(cluster_id=lonely), actor=SECRETARY, command_key=f"aff-{n}")
        waiting = await office.open_case(lonely)
        await waiting.execute_update(CaseWorkflow.screen, step(Screen(accepted=True)))
        await view_when(waiting, lambda v: v.needs_attention)
        newcomer = office.expert(name="Carla Newcomer")
        for _ in range(100):
            if await notify_experts_changed(client, "registered"):
                break
        await view_when(waiting, lambda v: v.proposed_expert_id == newcomer)
        await waiting.execute_update(CaseWorkflow.withdraw, step(WithdrawCase(reason="merger"), f"cluster:{lonely}"))
        assert (await result_of(waiting)).state == "withdrawn"

        # 3. Rejected at screening.
        rejected = await office.open_case(office.cluster(name="Small Cluster"))
        await rejected.execute_update(CaseWorkflow.screen, step(Screen(accepted=False, reason="not listed")))
        assert (await result_of(rejected)).state == "rejected"

        # 4. A Gold case awarded Silver, its Silver label issued, appealed, upheld and awarded Gold.
        office.expert(name="Liepa National", country="LT")
        lower = await office.open_case(office.cluster(name="Amber Cluster"), Level.GOLD)
        silver = RecordDecision(outcome=Outcome.AWARD, level=Level.SILVER, rationale="Gaps in two areas.")
        await drive_to_award(lower, Level.GOLD, decision=step(silver, BOARD))
        await view_when(lower, lambda v: "appeal" in v.deadlines)
        grounds = LodgeAppeal(grounds="The assessment supports Gold.")
        await lower.execute_update(CaseWorkflow.lodge_appeal, step(grounds, "secretariat:officer"))
        await lower.execute_update(
            CaseWorkflow.decide_appeal, step(DecideAppeal(upheld=True, rationale="It does."), appeals)
        )
        gold = RecordDecision(outcome=Outcome.AWARD, level=Level.GOLD, rationale="On appeal.")
        await lower.execute_update(CaseWorkflow.record_decision, step(gold, board_2))
        assert (await result_of(lower)).state == "awarded"

        names = {"appealed-case": appealed.id, "appealed-label": label.id, "lower-award-case": lower.id}
        names.update({"withdrawn-case": waiting.id, "rejected-case": rejected.id})
        for name, workflow_id in names.items():
            recorded[name] = await every_run(client, workflow_id)
    assert len(recorded["appealed-label"]) >= 2, "the label's workflow continued as new"
    recorded.update(await record_alarms_and_renewal(client))
    return recorded


async def record_alarms_and_renewal(client: Client) -> dict[str, list[WorkflowHistory]]:
    """A case reminded and escalated while it waits for screening, whose first expert never answers,
    awarded; its label renewed by a second case that supersedes it."""
    policy = compressed_policy(
        screening_deadline="PT3S",
        reminded_deadlines=["screening"],
        deadline_reminders=["PT2S"],
        expert_response_timeout="PT4S",
        label_validity="PT1H",
    )
    office = Secretariat(memory_app(policy), client, task_queue=f"replay-alarms-{uuid.uuid4().hex[:8]}")
    async with running_worker(client, office.app, office.task_queue):
        cluster = office.cluster(name="Alarmed Cluster")
        silent = office.expert(name="Dora Silent")
        office.expert(name="Emil Answers")
        alarmed = await office.open_case(cluster)
        overdue = await view_when(alarmed, lambda v: v.needs_attention, timeout=15)
        assert "screening deadline" in overdue.attention[0]
        await alarmed.execute_update(CaseWorkflow.screen, step(Screen(accepted=True)))
        await view_when(alarmed, lambda v: v.proposed_expert_id == silent)
        await view_when(alarmed, lambda v: v.proposed_expert_id not in (None, silent), timeout=15)
        await drive_to_award(alarmed, screened=True)
        awarded: CaseView = await result_of(alarmed)
        assert awarded.label_id is not None
        label = label_handle(client, awarded.label_id)
        opened = await label.execute_update(LabelWorkflow.start_renewal, step(StartRenewal()))
        assert opened.renewal_case_id is not None
        renewal = client.get_workflow_handle_for(CaseWorkflow.run, f"case-{opened.renewal_case_id}")
        await drive_to_award(renewal)
        assert (await result_of(renewal)).state == "awarded"
        superseded: LabelView = await result_of(label)
        assert superseded.state == "superseded"
        names = {"alarmed-case": alarmed.id, "renewed-label": label.id, "renewal-case": renewal.id}
        return {name: await every_run(client, workflow_id) for name, workflow_id in names.items()}


def store(recorded: dict[str, list[WorkflowHistory]]) -> None:
    CURRENT_GENERATION.mkdir(parents=True, exist_ok=True)
    for name, histories in recorded.items():
        for number, history in enumerate(histories):
            (CURRENT_GENERATION / f"{name}-{number}.json").write_text(history.to_json())


def stored_histories() -> list[WorkflowHistory]:
    paths = sorted(HISTORIES.glob("*/*.json"))
    return [WorkflowHistory.from_json(f"{path.parent.name}/{path.stem}", path.read_text()) for path in paths]


async def replay(histories: list[WorkflowHistory]) -> None:
    """Replay under both workflow runners: the sandbox's checks, and no sandbox as workers run by default."""

    async def each() -> AsyncIterator[WorkflowHistory]:
        for history in histories:
            yield history

    for sandbox in get_args(WorkflowSandbox):
        replayer = Replayer(
            workflows=WORKFLOWS, data_converter=DATA_CONVERTER, workflow_runner=workflow_runner(sandbox)
        )
        results = await replayer.replay_workflows(each(), raise_on_replay_failure=False)
        failures = {run_id: str(error) for run_id, error in results.replay_failures.items()}
        assert not failures, f"non-deterministic ({sandbox}) against the current workflow code: " + json.dumps(
            failures, indent=2
        )


def test_a_fresh_recording_of_every_path_replays_deterministically(dev_server: EmbeddedTemporal) -> None:
    recorded = run(record_scenario(dev_server))
    if RECORD or not list(CURRENT_GENERATION.glob("*.json")):
        store(recorded)
    histories = [history for runs in recorded.values() for history in runs]
    assert len(histories) >= 5
    run(replay(histories))
    for name, runs in recorded.items():  # every run of a case or a label: its markers in its first task
        for history in runs:
            later = TELL_SUPERSEDED if history.workflow_id.startswith("label-") else NO_SILENT_WAITS
            assert patch_markers(history) == [(ONE_MARKER, True), (later, True)], name


def patch_markers(history: WorkflowHistory) -> list[tuple[str, bool]]:
    """Each patch marker of the run, and whether it sits in its first workflow task (see PATCHES_FIRST),
    where no local activity's result can arrive a task early or late on replay. Told by the completed tasks
    before it (a task's commands follow its completion): one, whatever attempts failed before it; not by
    the task's number, which the time-skipping server gives by its start, not its end."""
    markers = []
    completed = 0
    for event in history.events:
        if event.HasField("workflow_task_completed_event_attributes"):
            completed += 1
        elif event.HasField("marker_recorded_event_attributes"):
            attributes = event.marker_recorded_event_attributes
            if attributes.marker_name == "core_patch":
                patch_id = json.loads(attributes.details["patch-data"].payloads[0].data)["id"]
                markers.append((patch_id, completed == 1))
    return markers


def test_the_stored_histories_still_replay_against_the_current_workflow_code() -> None:
    histories = stored_histories()
    assert histories, f"no recorded histories in {HISTORIES}; run the suite once with CLUSTERLABEL_RECORD_HISTORIES=1"
    run(replay(histories))
