"""Random interleavings of people's steps, timers and signals on the real workflows: nothing wedges,
nothing is recorded twice, the workflows and the store agree.

A seeded generator plays one cluster's certification rounds on the dev server under a policy of seconds,
so that deadlines, proposal time-outs, escalations, expiry, the renewal window's close and the suspension
limit fire between the people's steps. Each move is one of: the step a person would take next (with a
random outcome: rejections, declines, objections, refusals, appeals), a step that does not fit the case
now, a step repeated under its key (a retry), a withdrawal, a suspension or restoration, a renewal, an
expert registered and the waiting case told, or time passing. After each move:

- no workflow of the scenario has failed, been terminated or timed out;
- each running workflow's view and its aggregate in the store come to agree (timers may be mid-step);
- no aggregate records one command twice (a command key never reappears after another's events);
- a refused step recorded nothing under its key, and a repeated step answered as the first did;
- a case whose workflow completed is concluded in the store, and a label whose workflow ended is final;
- the views, caught up after every move while the workflows write, equal at the end a rebuild from zero.

`make test` plays a few short scenarios; `CLUSTERLABEL_INTERLEAVINGS=<seeds>` plays that many longer
ones (README, "What the engine guarantees under faults").
"""

from __future__ import annotations

import asyncio
import os
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.models import CaseView, LabelView
from clusterlabel.domain.base import DomainError, Level
from clusterlabel.domain.case_lifecycle import OPEN_STATES, Outcome
from clusterlabel.domain.catalogue_shelf import current_version_for
from clusterlabel.domain.command_base import Command
from clusterlabel.domain.commands import (
    AnswerProposal,
    DecideAppeal,
    LodgeAppeal,
    RecordAgreement,
    RecordDecision,
    RestoreLabel,
    ScheduleAudit,
    Screen,
    StartRenewal,
    SubmitAssessment,
    SuspendLabel,
    WithdrawCase,
    WithdrawLabel,
)
from clusterlabel.domain.label_lifecycle import FINAL
from clusterlabel.domain.policy import uniform_durations
from clusterlabel.interfaces.temporal_client import connect_client
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.projections.factory import open_read_models
from clusterlabel.projections.queries import ReadModels
from clusterlabel.workflows.case import CaseWorkflow
from clusterlabel.workflows.label import LabelWorkflow
from clusterlabel.workflows.messages import ExpertsChanged, Step
from clusterlabel.workflows.starter import case_handle, execute_step, label_handle
from tests.builders import T0, full_scores, indicators
from tests.stores import sqlite_env
from tests.workflows.harness import (
    BOARD,
    SECRETARY,
    Secretariat,
    compressed_policy,
    running_worker,
    sqlite_app,
    step,
)

SEEDS = int(os.environ.get("CLUSTERLABEL_INTERLEAVINGS", "0"))
SHORT_SEEDS, SHORT_MOVES, LONG_MOVES = (11, 12), 24, 60
APPEALS = "board:appeals"
# Two of each: after an upheld appeal, someone other than the first screener or decider takes the step.
OFFICERS = (SECRETARY, "secretariat:ben")
DECIDERS = (BOARD, "secretariat:second-board")
# Every period a few seconds: the timers fire between the moves, never all at once.
POLICY = {**uniform_durations("PT4S", "PT2S"), "rotate_experts": False}
# The states in which a workflow has ended for a reason the scenario did not ask for.
BROKEN = {
    WorkflowExecutionStatus.FAILED,
    WorkflowExecutionStatus.TERMINATED,
    WorkflowExecutionStatus.TIMED_OUT,
    WorkflowExecutionStatus.CANCELED,
}
AGREEMENT_WAIT = 15.0  # seconds for a workflow's view to catch up with a step a timer is taking


@dataclass
class Sent:
    """A step that was answered, to repeat under its key."""

    handle: WorkflowHandle[Any, Any]
    update: Any
    argument: Step[Any]
    answer: Any


@dataclass
class Scenario:
    rng: random.Random
    office: Secretariat
    client: Client
    cluster_id: UUID
    views: ReadModels
    cases: list[UUID] = field(default_factory=list)
    labels: list[UUID] = field(default_factory=list)
    refused_keys: dict[UUID, set[str]] = field(default_factory=dict)
    last: Sent | None = None
    moves: list[str] = field(default_factory=list)

    @property
    def app(self) -> CertificationApp:
        return self.office.app

    # ---- the moves -------------------------------------------------------------------------

    async def play(self, count: int) -> None:
        await self.apply()
        for _ in range(count):
            move = self.rng.choices(
                [self.next_step, self.odd_step, self.repeat, self.label_move, self.withdraw, self.wait],
                weights=[10, 1, 1, 3, 1, 4],
            )[0]
            self.moves.append(move.__name__)
            await move()
            await self.check()
            self.views.catch_up()

    async def apply(self) -> None:
        """The cluster applies (again) at Bronze when it has no open case; refusals are the domain's."""
        try:
            handle = await self.office.open_case(self.cluster_id, Level.BRONZE)
        except DomainError:
            return
        self.cases.append(UUID(handle.id.removeprefix("case-")))

    async def next_step(self) -> None:
        case_id = self.cases[-1] if self.cases else None
        if case_id is None:
            return await self.apply()
        view = await case_handle(self.client, case_id).query(CaseWorkflow.view)
        if view is None:
            return None
        if view.concluded or view.state not in {s.value for s in OPEN_STATES}:
            return await self.after_conclusion(view)
        await self.open_case_step(view)

    async def open_case_step(self, view: CaseView) -> None:
        handle = case_handle(self.client, view.case_id)
        chance = self.rng.random()
        if view.state == "screening":
            screening = Screen(accepted=chance > 0.2, reason="as read")
            await self.send(handle, CaseWorkflow.screen, screening, self.rng.choice(OFFICERS))
        elif view.state == "assigning" and view.proposed_expert_id is not None:
            answer = AnswerProposal(expert_id=view.proposed_expert_id, accept=chance > 0.25)
            await self.send(handle, CaseWorkflow.respond_to_proposal, answer, f"expert:{view.proposed_expert_id}")
        elif view.state == "assigning" and view.team_complete:
            await self.send(handle, CaseWorkflow.record_agreement, RecordAgreement(agreed=chance > 0.15))
        elif view.state == "assigning":
            self.office.expert(name=f"Expert {self.rng.randrange(10**6)}")
            await handle.signal(CaseWorkflow.experts_changed, ExpertsChanged(reason="an expert registered"))
        elif view.state == "auditing" and chance < 0.3:
            # Now: after the agreement, before the audit deadline (seconds away), and held when the assessment comes.
            audit_date = datetime.now(UTC)
            await self.send(
                handle, CaseWorkflow.schedule_audit, ScheduleAudit(audit_date=audit_date, place="the cluster office")
            )
        elif view.state == "auditing":
            await self.assess(handle, view)
        elif view.state == "deciding":
            outcome = Outcome.AWARD if chance > 0.3 else Outcome.REFUSE
            decision = RecordDecision(outcome=outcome, rationale="as the assessment shows")
            await self.send(handle, CaseWorkflow.record_decision, decision, self.rng.choice(DECIDERS))

    async def assess(self, handle: WorkflowHandle[Any, CaseView], view: CaseView) -> None:
        expert_id = view.team[0]
        scores = full_scores(current_version_for(Level.BRONZE, T0), self.rng.choice([0.4, 0.9]))
        command = SubmitAssessment(expert_id=expert_id, indicators=indicators(scores), report="Findings.")
        await self.send(handle, CaseWorkflow.submit_assessment, command, f"expert:{expert_id}")

    async def after_conclusion(self, view: CaseView) -> None:
        """An adverse decision is appealed (or the appeal decided); otherwise the cluster applies anew."""
        handle = case_handle(self.client, view.case_id)
        if view.state in {"refused", "rejected"} and not view.appeal_lodged and self.rng.random() < 0.5:
            await self.send(handle, CaseWorkflow.lodge_appeal, LodgeAppeal(grounds="the evidence was misread"))
        elif view.appeal_lodged and view.appeal_upheld is None:
            upheld = self.rng.random() < 0.5
            await self.send(handle, CaseWorkflow.decide_appeal, DecideAppeal(upheld=upheld, rationale="heard"), APPEALS)
        else:
            await self.apply()

    async def odd_step(self) -> None:
        """A step that rarely fits: a decision, an agreement or an audit date, whatever the case's state."""
        if not self.cases:
            return
        handle = case_handle(self.client, self.cases[-1])
        update, command, actor = self.rng.choice(
            [
                (CaseWorkflow.record_decision, RecordDecision(outcome=Outcome.AWARD, rationale="early"), BOARD),
                (CaseWorkflow.record_agreement, RecordAgreement(agreed=True), SECRETARY),
                (CaseWorkflow.screen, Screen(accepted=True, reason="again"), SECRETARY),
            ]
        )
        await self.send(handle, update, command, actor)

    async def repeat(self) -> None:
        """The last answered step again, under its key (the update's id, as the HTTP layer sends it): a
        client's retry answers as the first time."""
        if self.last is None:
            return
        sent = self.last
        try:
            again = await execute_step(sent.handle, sent.update, sent.argument.command, sent.argument.envelope)
        except RPCError:
            return  # its workflow has ended meanwhile: the HTTP layer answers from the store (tested elsewhere)
        except WorkflowUpdateFailedError as refusal:
            raise AssertionError(f"a repeated step was refused: {refusal.cause}") from refusal
        assert again.version >= sent.answer.version
        assert self.recorded_under(self.aggregate_of(sent.answer), sent.argument.envelope.key) > 0

    async def label_move(self) -> None:
        if not self.labels:
            return await self.next_step()
        label_id = self.rng.choice(self.labels)
        handle = label_handle(self.client, label_id)
        update, command = self.rng.choice(
            [
                (LabelWorkflow.suspend, SuspendLabel(reason="a complaint is investigated")),
                (LabelWorkflow.restore, RestoreLabel()),
                (LabelWorkflow.withdraw, WithdrawLabel(reason="the conditions are no longer met")),
                (LabelWorkflow.start_renewal, StartRenewal()),
            ]
        )
        answer = await self.send(handle, update, command)
        renewal = answer.renewal_case_id if isinstance(answer, LabelView) else None
        if renewal is not None and renewal not in self.cases:
            self.cases.append(renewal)

    async def withdraw(self) -> None:
        if self.cases:
            command = WithdrawCase(reason="the cluster withdraws")
            await self.send(case_handle(self.client, self.cases[-1]), CaseWorkflow.withdraw, command)

    async def wait(self) -> None:
        await asyncio.sleep(self.rng.uniform(0.2, 3.0))

    async def send(
        self, handle: WorkflowHandle[Any, Any], update: Any, command: Command, actor: str = SECRETARY
    ) -> Any:
        """Send a step; a refusal (the domain's, or an ended workflow) is an answer too, recording nothing."""
        argument = step(command, actor=actor, key=f"move-{self.rng.randrange(10**12)}")
        try:
            answer = await execute_step(handle, update, command, argument.envelope)
        except (WorkflowUpdateFailedError, RPCError):
            self.refused_keys.setdefault(self.subject_of(handle), set()).add(argument.envelope.key)
            return None
        self.last = Sent(handle, update, argument, answer)
        self.note_label(answer)
        return answer

    def note_label(self, answer: Any) -> None:
        if isinstance(answer, CaseView) and answer.label_id is not None and answer.label_id not in self.labels:
            self.labels.append(answer.label_id)

    # ---- what must hold after every move ---------------------------------------------------------

    async def check(self) -> None:
        for case_id in self.cases:
            await self.agree(case_handle(self.client, case_id), CaseView, case_id, self.case_state, self.case_done)
            label_id = self.app.get_case(case_id).label_id  # from the store: a closed workflow is not queried
            if label_id is not None and label_id not in self.labels:
                self.labels.append(label_id)
        for label_id in self.labels:
            await self.agree(
                label_handle(self.client, label_id), LabelView, label_id, self.label_state, self.label_done
            )
        for aggregate_id, keys in self.refused_keys.items():
            assert not [key for key in keys if self.recorded_under(aggregate_id, key)], "a refused step recorded"
        for aggregate_id in [self.cluster_id, *self.cases, *self.labels]:
            self.no_command_twice(aggregate_id)

    async def agree(
        self, handle: WorkflowHandle[Any, Any], view_type: type[Any], record_id: UUID, stored: Any, done: Any
    ) -> None:
        deadline = asyncio.get_running_loop().time() + AGREEMENT_WAIT
        while True:
            status = (await handle.describe()).status
            assert status not in BROKEN, f"workflow {handle.id} is {status}; moves: {self.moves}"
            if status == WorkflowExecutionStatus.COMPLETED:
                assert done(record_id), f"workflow {handle.id} completed while its record is open"
                return
            view = await handle.query("view", result_type=view_type)
            if view is not None and view.state == stored(record_id):
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{handle.id}: view {view and view.state} ≠ store {stored(record_id)}")
            await asyncio.sleep(0.1)

    def case_state(self, case_id: UUID) -> str:
        return self.app.get_case(case_id).state.value

    def case_done(self, case_id: UUID) -> bool:
        return self.app.get_case(case_id).state not in OPEN_STATES

    def label_state(self, label_id: UUID) -> str:
        return self.app.get_label(label_id).state.value

    def label_done(self, label_id: UUID) -> bool:
        return self.app.get_label(label_id).state in FINAL

    def no_command_twice(self, aggregate_id: UUID) -> None:
        """Each command's events are one run in the aggregate's history: a key never comes back."""
        seen: list[str] = []
        for stored in self.app.recorder.select_events(aggregate_id):
            key = getattr(self.app.mapper.to_domain_event(stored), "command_key", None)
            if key is None or (seen and seen[-1] == key):
                continue
            assert key not in seen, f"command {key} recorded twice on {aggregate_id}; moves: {self.moves}"
            seen.append(key)

    def recorded_under(self, aggregate_id: UUID, key: str) -> int:
        events = (self.app.mapper.to_domain_event(e) for e in self.app.recorder.select_events(aggregate_id))
        return sum(1 for event in events if getattr(event, "command_key", None) == key)

    def subject_of(self, handle: WorkflowHandle[Any, Any]) -> UUID:
        return UUID(handle.id.split("-", 1)[1])

    def aggregate_of(self, answer: Any) -> UUID:
        return answer.case_id if isinstance(answer, CaseView) else answer.label_id


async def play(server: EmbeddedTemporal, seed: int, moves: int, directory: Path) -> Scenario:
    """One scenario on an SQLite store whose views follow it as a projection runner would (caught up after
    every move, while the workflows write); at the end they equal the same views rebuilt from zero."""
    client = await connect_client(server.address, server.namespace)
    app = sqlite_app(directory / "events.sqlite", compressed_policy(**POLICY))
    office = Secretariat(app, client, task_queue=f"interleave-{seed}-{directory.name}")
    views = open_read_models(sqlite_env(directory), app)
    for n in range(3):
        office.expert(name=f"Expert {n}")
    scenario = Scenario(random.Random(seed), office, client, office.cluster(name=f"Cluster {seed}"), views)
    try:
        async with running_worker(client, app, office.task_queue):
            await scenario.play(moves)
            await scenario.check()
        views.catch_up()
        followed = views.dump()
        views.rebuild()
        assert views.dump() == followed, "the views that followed the moves differ from a rebuild"
    finally:
        views.close()
        app.close()
    return scenario


@pytest.mark.parametrize("seed", SHORT_SEEDS)
def test_random_interleavings_of_steps_timers_and_signals_leave_nothing_wedged_or_twice_recorded(
    dev_server: EmbeddedTemporal, seed: int, tmp_path: Path
) -> None:
    scenario = asyncio.run(play(dev_server, seed, SHORT_MOVES, tmp_path))
    assert scenario.cases  # the scenario got somewhere: at least one case was played


@pytest.mark.skipif(not SEEDS, reason="the long form: CLUSTERLABEL_INTERLEAVINGS=<seeds>")
def test_many_long_random_interleavings(dev_server: EmbeddedTemporal, tmp_path: Path) -> None:
    for seed in range(1000, 1000 + SEEDS):
        (tmp_path / str(seed)).mkdir()
        asyncio.run(play(dev_server, seed, LONG_MOVES, tmp_path / str(seed)))
