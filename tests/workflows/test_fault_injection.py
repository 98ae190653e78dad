"""The worker dies at every activity boundary: after a command is written to the event store and before
its result reaches Temporal, once for each command, and a supervisor starts it again each time.

Three clusters' cases run at once through the paths that together reach the case and label commands the
workflows run: a Bronze award whose label is suspended, restored and withdrawn; a Gold award (a team of
two, the second expert signing) whose label opens a renewal that is withdrawn, and then expires and
lapses; and a refusal appealed, upheld and awarded, whose label lapses. Afterwards:

- every listed command did kill the worker (its marker names the command's key, which the store holds);
- every case and label is in the state the scenario leads it to, in the store and in its workflow's result;
- no aggregate has a gap in its versions or a command recorded twice;
- every workflow of the scenario completed: none failed, was terminated or timed out, none is left
  running, and no workflow task failed on a non-determinism or an unhandled error;
- the views that followed the scenario equal a rebuild from zero.

`make test` kills after a handful of commands (human steps, automatic steps, label commands);
`CLUSTERLABEL_FAULTS=all` (`make soak`) after every command the scenario reaches, and
`CLUSTERLABEL_FAULTS=Screen,ExpireLabel` after the ones named.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.models import CaseView, LabelView
from clusterlabel.domain.base import Level
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.catalogue_shelf import current_version_for
from clusterlabel.domain.command_base import Command, Envelope
from clusterlabel.domain.commands import (
    AnswerProposal,
    DecideAppeal,
    LodgeAppeal,
    RecordAgreement,
    RecordDecision,
    RestoreLabel,
    ScheduleAudit,
    Screen,
    SignAssessment,
    StartRenewal,
    SubmitAssessment,
    SuspendLabel,
    WithdrawCase,
    WithdrawLabel,
)
from clusterlabel.interfaces.temporal_client import connect_client
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.projections.factory import open_read_models
from clusterlabel.projections.queries import ReadModels
from clusterlabel.workflows.case import CaseWorkflow
from clusterlabel.workflows.label import LabelWorkflow
from clusterlabel.workflows.starter import case_handle, execute_step, label_handle
from tests.builders import T0, full_scores, indicators
from tests.stores import sqlite_env
from tests.workflows.faults import KILLED, kill_env
from tests.workflows.harness import (
    BOARD,
    COMPRESSED,
    SECRETARY,
    Secretariat,
    all_events,
    broken_tasks,
    compressed_policy,
    run,
    sqlite_app,
)
from tests.workflows.processes import Supervisor, WorkerProcess, persist

# The commands the scenario reaches, each at least once.
REACHED = frozenset(
    {
        *("Screen", "ProposeExpert", "AnswerProposal", "RecordAgreement", "ScheduleAudit", "SubmitAssessment"),
        *("SignAssessment", "RecordDecision", "LodgeAppeal", "DecideAppeal", "WithdrawCase"),
        *("IssueLabel", "CloseCase", "StartRenewal", "SuspendLabel", "RestoreLabel", "WithdrawLabel"),
        *("RemindExpiry", "ExpireLabel", "CloseRenewalWindow"),
    }
)
# Human steps, automatic steps, a label's command: each kill costs a workflow task timeout (10 s).
SHORT = frozenset({"Screen", "RecordDecision", "IssueLabel", "SuspendLabel"})


def faults_asked(asked: str) -> frozenset[str]:
    if not asked:
        return SHORT
    if asked == "all":
        return REACHED
    return frozenset(asked.split(","))


FAULTS = faults_asked(os.environ.get("CLUSTERLABEL_FAULTS", ""))
# Steps wait an hour (no deadline fires while the worker is down); labels live a minute or so, so that they
# expire and lapse within the test, and are renewed, suspended and withdrawn before they expire: each
# kill may hold a label's steps up for 10 to 20 s.
VALIDITY = max(60, 8 * len(FAULTS))
LABELS = {"label_validity": f"PT{VALIDITY}S", "renewal_window": "PT10S", "expiry_reminders": ["PT15S"]}
APPEALS, SECOND_BOARD = "board:appeals", "secretariat:second-board"
SCENARIO_TIMEOUT = 240 + 20 * len(FAULTS)


@dataclass
class Outcomes:
    """The state each record should end in, by its id."""

    cases: dict[UUID, str] = field(default_factory=dict)
    labels: dict[UUID, str] = field(default_factory=dict)


@dataclass
class Driver:
    """The people: takes each step as its page would, retrying through a dead worker under the step's key."""

    client: Client
    app: CertificationApp
    expected: Outcomes = field(default_factory=Outcomes)

    async def step(
        self, handle: WorkflowHandle[Any, Any], name: str, update: Any, command: Command, actor: str = SECRETARY
    ) -> Any:
        envelope = Envelope(actor=actor, key=f"{handle.id}/{name}")
        return await persist(lambda: execute_step(handle, update, command, envelope))

    async def shown(self, handle: WorkflowHandle[Any, Any], ready: Callable[[Any], bool] = lambda _: True) -> Any:
        """The workflow's view once `ready` holds, as a page shows it (a query fails while no worker runs).

        A person acts on a record they have seen: a first step waits until its workflow has loaded the
        record. (One taken in the same workflow task as that first load, whose worker died after writing
        it, was refused on its retry by the view loaded again with the step in it; views now carry the
        record's latest command keys, and tests/unit/test_retried_step_validation.py pins the fix.)
        """
        while True:
            try:
                view_type = CaseView if handle.id.startswith("case-") else LabelView
                view = await asyncio.wait_for(handle.query("view", result_type=view_type | None), 5)
            except Exception:
                view = None
            if view is not None and ready(view):
                return view
            await asyncio.sleep(0.2)

    async def proposed_expert(self, handle: WorkflowHandle[Any, CaseView], answered: list[UUID]) -> UUID:
        """The expert proposed now, once it is one not answered yet."""
        view = await self.shown(handle, lambda view: view.proposed_expert_id not in (None, *answered))
        return UUID(str(view.proposed_expert_id))

    async def award(self, handle: WorkflowHandle[Any, CaseView], level: Level, appeal: bool = False) -> UUID:
        """Screen, staff, agree, audit, assess (the second expert of a team signs), decide; returns the label."""
        await self.shown(handle)
        await self.step(handle, "screen", CaseWorkflow.screen, Screen(accepted=True))
        team: list[UUID] = []
        for seat in range(2 if level is Level.GOLD else 1):
            expert = await self.proposed_expert(handle, team)
            answer = AnswerProposal(expert_id=expert, accept=True)
            await self.step(handle, f"answer-{seat}", CaseWorkflow.respond_to_proposal, answer, f"expert:{expert}")
            team.append(expert)
        await self.step(handle, "agree", CaseWorkflow.record_agreement, RecordAgreement(agreed=True))
        audit = ScheduleAudit(audit_date=datetime.now(UTC), place="the cluster office")  # held as scheduled
        await self.step(handle, "schedule", CaseWorkflow.schedule_audit, audit)
        scores = indicators(full_scores(current_version_for(level, T0)))
        assessment = SubmitAssessment(expert_id=team[0], indicators=scores, report="Sound.")
        await self.step(handle, "assess", CaseWorkflow.submit_assessment, assessment, f"expert:{team[0]}")
        for other in team[1:]:
            await self.step(
                handle, "sign", CaseWorkflow.sign_assessment, SignAssessment(expert_id=other), f"expert:{other}"
            )
        if appeal:
            await self.refused_then_appealed(handle)
        decision = RecordDecision(outcome=Outcome.AWARD, rationale="Met.")
        await self.step(handle, "decide", CaseWorkflow.record_decision, decision, SECOND_BOARD if appeal else BOARD)
        self.expected.cases[self.case_of(handle)] = "awarded"
        return await self.label_of(handle)

    async def refused_then_appealed(self, handle: WorkflowHandle[Any, CaseView]) -> None:
        refusal = RecordDecision(outcome=Outcome.REFUSE, rationale="Not met.")
        await self.step(handle, "refuse", CaseWorkflow.record_decision, refusal, BOARD)
        await self.step(handle, "appeal", CaseWorkflow.lodge_appeal, LodgeAppeal(grounds="The evidence was misread."))
        upheld = DecideAppeal(upheld=True, rationale="The evidence was misread.")
        await self.step(handle, "decide-appeal", CaseWorkflow.decide_appeal, upheld, APPEALS)

    async def label_of(self, handle: WorkflowHandle[Any, CaseView]) -> UUID:
        """The label, as soon as the store holds it (the case's workflow may be waiting for a worker)."""
        while (label_id := self.app.get_case(self.case_of(handle)).label_id) is None:
            await asyncio.sleep(0.2)
        return label_id

    def case_of(self, handle: WorkflowHandle[Any, Any]) -> UUID:
        return UUID(handle.id.removeprefix("case-"))

    # ---- the three clusters' stories ---------------------------------------------------------------

    async def suspended_then_withdrawn(self, handle: WorkflowHandle[Any, CaseView]) -> None:
        label = label_handle(self.client, await self.award(handle, Level.BRONZE))
        await self.shown(label)
        await self.step(label, "suspend", LabelWorkflow.suspend, SuspendLabel(reason="A complaint is investigated."))
        await self.step(label, "restore", LabelWorkflow.restore, RestoreLabel())
        await self.step(label, "withdraw", LabelWorkflow.withdraw, WithdrawLabel(reason="The conditions are not met."))
        self.expected.labels[UUID(label.id.removeprefix("label-"))] = "withdrawn"

    async def renewal_withdrawn_then_lapsed(self, handle: WorkflowHandle[Any, CaseView]) -> None:
        label_id = await self.award(handle, Level.GOLD)
        await persist(handle.result)  # a renewal opens once the awarding case has closed
        label = label_handle(self.client, label_id)
        view: LabelView = await self.step(label, "renew", LabelWorkflow.start_renewal, StartRenewal())
        assert view.renewal_case_id is not None
        renewal = case_handle(self.client, view.renewal_case_id)
        await self.shown(renewal)
        await self.step(renewal, "withdraw", CaseWorkflow.withdraw, WithdrawCase(reason="The cluster withdraws."))
        self.expected.cases[view.renewal_case_id] = "withdrawn"
        self.expected.labels[label_id] = "lapsed"

    async def appealed_then_lapsed(self, handle: WorkflowHandle[Any, CaseView]) -> None:
        self.expected.labels[await self.award(handle, Level.BRONZE, appeal=True)] = "lapsed"


# ---- what must hold afterwards ------------------------------------------------------------------


def markers_of(directory: Path) -> dict[str, dict[str, str]]:
    return {marker.name: json.loads(marker.read_text()) for marker in directory.iterdir()}


def keys_in_order(app: CertificationApp, aggregate_id: UUID) -> tuple[list[int], list[str]]:
    """The aggregate's event versions and the command key of each event, from the store."""
    stored = list(app.recorder.select_events(aggregate_id))
    keys = [getattr(app.mapper.to_domain_event(item), "command_key", "") for item in stored]
    return [item.originator_version for item in stored], keys


def assert_recorded_once_each(app: CertificationApp, aggregate_id: UUID) -> None:
    """Versions 1..n with no gap, and each command's events one run: a key never comes back."""
    versions, keys = keys_in_order(app, aggregate_id)
    assert versions == list(range(1, len(versions) + 1)), f"{aggregate_id}: versions {versions}"
    runs = [key for position, key in enumerate(keys) if position == 0 or keys[position - 1] != key]
    twice = {key for key in runs if key and runs.count(key) > 1}
    assert not twice, f"{aggregate_id}: commands recorded twice: {twice}"


async def assert_every_workflow_completed_cleanly(client: Client, task_queue: str, count: int) -> None:
    """Every workflow on the queue completed (none failed, timed out, terminated or left running), and
    none had a workflow task fail on non-determinism or an unhandled error (a replay gone wrong)."""
    statuses: dict[str, Any] = {}
    for _ in range(50):  # visibility trails the histories by a moment
        statuses = {w.id: w.status async for w in client.list_workflows(f'TaskQueue="{task_queue}"')}
        if len(statuses) == count and set(statuses.values()) == {WorkflowExecutionStatus.COMPLETED}:
            break
        await asyncio.sleep(0.2)
    assert set(statuses.values()) == {WorkflowExecutionStatus.COMPLETED}, statuses
    assert len(statuses) == count, sorted(statuses)
    for workflow_id in statuses:
        broken = await broken_tasks(client.get_workflow_handle(workflow_id))
        assert not broken, f"{workflow_id}: workflow tasks failed: {broken}"


def assert_views_equal_a_rebuild(views: ReadModels) -> None:
    views.catch_up()
    followed = views.dump()
    views.rebuild()
    assert views.dump() == followed, "the views that followed the scenario differ from a rebuild"


async def follow(views: ReadModels) -> None:
    """Keep the views caught up while the workflows write, as a projection process would."""
    while True:
        views.catch_up()
        await asyncio.sleep(1)


# ---- the test --------------------------------------------------------------------------------------


def test_a_worker_killed_after_each_command_is_written_leaves_every_record_where_its_story_leads_recorded_once(
    dev_server: EmbeddedTemporal, tmp_path: Path
) -> None:
    async def scenario() -> None:
        database, markers = tmp_path / "events.sqlite", tmp_path / "killed-after"
        markers.mkdir()
        app = sqlite_app(database, compressed_policy(**LABELS))
        views = open_read_models(sqlite_env(tmp_path), app)
        client = await connect_client(dev_server.address, dev_server.namespace)
        office = Secretariat(app, client, task_queue=f"faults-{uuid.uuid4().hex[:8]}")
        office.expert(country="LT", name="Rasa National")
        office.expert(country="DE", name="Dieter Foreign")
        clusters = [office.cluster(name=f"Cluster {number}", country="LT") for number in range(3)]
        driver = Driver(client, app)

        def worker() -> WorkerProcess:
            overrides = {**COMPRESSED, **LABELS}
            log = tmp_path / "worker.log"
            return WorkerProcess(
                dev_server.address, office.task_queue, database, log, overrides, kill_env(FAULTS, markers)
            )

        following = asyncio.create_task(follow(views))
        try:
            async with Supervisor(worker) as supervisor:
                suspended = driver.suspended_then_withdrawn(await office.open_case(clusters[0], Level.BRONZE))
                renewed = driver.renewal_withdrawn_then_lapsed(await office.open_case(clusters[1], Level.GOLD))
                appealed = driver.appealed_then_lapsed(await office.open_case(clusters[2], Level.BRONZE))
                await asyncio.wait_for(asyncio.gather(suspended, renewed, appealed), SCENARIO_TIMEOUT)
                finals = await asyncio.wait_for(finals_of(client, driver.expected), SCENARIO_TIMEOUT)
            following.cancel()

            killed = markers_of(markers)
            assert set(killed) == FAULTS, f"no worker died after {sorted(FAULTS - set(killed))}"
            assert supervisor.exits and set(supervisor.exits) == {KILLED}, supervisor.exits
            recorded = {getattr(fact.event, "command_key", None) for fact in all_events(app)}
            assert not [marker for marker in killed.values() if marker["key"] not in recorded], killed

            expected = {**driver.expected.cases, **driver.expected.labels}
            assert finals == expected
            stored = {case_id: app.get_case(case_id).state.value for case_id in driver.expected.cases}
            stored |= {label_id: app.get_label(label_id).state.value for label_id in driver.expected.labels}
            assert stored == expected
            for aggregate_id in [*clusters, *expected]:
                assert_recorded_once_each(app, aggregate_id)
            await assert_every_workflow_completed_cleanly(client, office.task_queue, len(expected))
            assert_views_equal_a_rebuild(views)
        finally:
            following.cancel()
            views.close()
            app.close()

    run(scenario())


async def finals_of(client: Client, expected: Outcomes) -> dict[UUID, str]:
    """Each workflow's result: the state its record ended in."""
    cases = [persist(case_handle(client, case_id).result) for case_id in expected.cases]
    labels = [persist(label_handle(client, label_id).result) for label_id in expected.labels]
    views: list[CaseView | LabelView] = await asyncio.gather(*cases, *labels)
    return {(view.case_id if isinstance(view, CaseView) else view.label_id): view.state for view in views}
