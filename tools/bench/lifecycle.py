"""Whole Bronze lifecycles through CaseWorkflow on the dev server, against their bare mirror.

The real run is `clusterlabel serve` in miniature: one process holds the application, the worker and
the projection runner (so saves wake the views at once), and a driver takes every human step through
the workflow's updates, as the HTTP API does. Each side gets a fresh dev server, so neither inherits
the other's database. Two baselines: the bare mirror (the same shape, no-op activities), and the limit
(the same shape, no-op local activities: the most the server allows our design).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

from temporalio.client import Client, WorkflowHandle

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.handlers import handle
from clusterlabel.activities.models import CaseView
from clusterlabel.domain.base import Level
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.catalogue import IndicatorScore
from clusterlabel.domain.catalogue_shelf import current_version_for, load_catalogue
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.commands import (
    AnswerProposal,
    RecordAgreement,
    RecordDecision,
    ScheduleAudit,
    Screen,
    SubmitApplication,
    SubmitAssessment,
)
from clusterlabel.domain.expert import ExpertProfile
from clusterlabel.domain.policy import Policy, default_policy, uniform_durations
from clusterlabel.domain.record_commands import RegisterCluster, RegisterExpert
from clusterlabel.interfaces.temporal_client import connect_client
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.interfaces.worker import (
    ACTIVITY_THREADS,
    build_worker,
    case_handle,
    execute_step,
    start_case_workflow,
)
from clusterlabel.projections.factory import open_read_models
from clusterlabel.tools.bench.baseline import MirrorWorkflow, Plan, mirror_worker
from clusterlabel.tools.bench.cost import Cost, CostMeter
from clusterlabel.tools.bench.lag import AgainstBaseline, Lag, LagSampler
from clusterlabel.tools.bench.procfs import group_cpu_seconds
from clusterlabel.tools.bench.shape import lifecycle_plan
from clusterlabel.tools.bench.store import BenchStores, cluster_profile, registered
from clusterlabel.workflows.case import CaseWorkflow, case_workflow_id

SECRETARY = "secretariat:bench"
BOARD = "secretariat:bench-board"
EXPERTS = 10
# How often the driver looks whether the workflow has proposed an expert (a user refreshing a page);
# the baseline's driver looks as often.
WATCH_SECONDS = 0.02
# Every deadline and reminder an hour away: timers are started and cancelled, never fired.
COMPRESSED = uniform_durations("PT1H", "PT30M")


def compressed_policy() -> Policy:
    return default_policy().with_overrides(COMPRESSED)


@dataclass
class LifecycleFigures(AgainstBaseline):
    lifecycles: int
    concurrency: int
    seconds: float
    baseline_seconds: float
    limit_seconds: float
    lag: Lag
    shape: dict[str, float] = field(default_factory=dict)
    # CPU seconds per lifecycle: the dev server's, and this process's (worker, views, driver).
    cpu: dict[str, float] = field(default_factory=dict)
    # CPU seconds and bytes stored per completed lifecycle of the real run, until its views caught up.
    cost: dict[str, Any] = field(default_factory=dict)
    # The same lifecycles run again on the history store, full (None: not measured).
    full_store_seconds: float | None = None

    @property
    def done(self) -> float:
        return self.lifecycles

    @property
    def ratio_full_vs_empty(self) -> float | None:
        """Lifecycles/s with the history store's cases stored against the same on an empty store."""
        return None if self.full_store_seconds is None else self.seconds / self.full_store_seconds


async def bench_lifecycle(
    stores: BenchStores, lifecycles: int, concurrency: int, full_store: tuple[dict[str, str], Path] | None = None
) -> LifecycleFigures:
    """The figures; given the env and views of a full store, the real run once more on it, its own dev server."""
    directory = stores.directory
    real, lag, plans, tally, cost = await _real_run(
        stores.env("lifecycle"),
        directory / "views-lifecycle",
        directory / "temporal-lifecycle",
        lifecycles,
        concurrency,
    )
    full = None
    if full_store is not None:
        env, views_dir = full_store
        full = (await _real_run(env, views_dir, directory / "temporal-lifecycle-full", lifecycles, concurrency, False))[
            0
        ]
    baseline = await _baseline_run(stores.directory / "temporal-baseline", plans, concurrency)
    limit = await _baseline_run(stores.directory / "temporal-limit", [plan.as_limit() for plan in plans], concurrency)
    shape = {
        "activities": sum(plan.count("activity") for plan in plans) / len(plans),
        "updates": sum(plan.updates for plan in plans) / len(plans),
        "timers": sum(plan.count("timer") for plan in plans) / len(plans),
        "child_workflows": sum(plan.count("child") for plan in plans) / len(plans),
        **{name: count / len(plans) for name, count in sorted(tally.items())},
    }
    cpu = {
        "server": real.server_cpu / lifecycles,
        "bench_process": real.own_cpu / lifecycles,
        "baseline_server": baseline.server_cpu / lifecycles,
        "baseline_bench_process": baseline.own_cpu / lifecycles,
        "limit_server": limit.server_cpu / lifecycles,
        "limit_bench_process": limit.own_cpu / lifecycles,
    }
    return LifecycleFigures(
        lifecycles,
        concurrency,
        real.seconds,
        baseline.seconds,
        limit.seconds,
        lag,
        shape,
        cpu,
        cost.figures(),
        None if full is None else full.seconds,
    )


@dataclass
class Timed:
    """Wall time and CPU time of one timed run."""

    seconds: float = 0.0
    server_cpu: float = 0.0
    own_cpu: float = 0.0


@contextmanager
def timed(server_pid: int | None) -> Iterator[Timed]:
    figures = Timed()
    assert server_pid is not None
    wall, own, server = time.perf_counter(), time.process_time(), group_cpu_seconds(server_pid)
    yield figures
    figures.seconds = time.perf_counter() - wall
    figures.own_cpu = time.process_time() - own
    figures.server_cpu = group_cpu_seconds(server_pid) - server


async def _real_run(
    env: dict[str, str], views_dir: Path, server_dir: Path, lifecycles: int, concurrency: int, shape: bool = True
) -> tuple[Timed, Lag, list[Plan], Counter[str], Cost]:
    app = CertificationApp(env=env, policy=compressed_policy())
    experts = [_register_expert(app, n) for n in range(EXPERTS)]
    assert experts
    clusters = [
        registered(app, RegisterCluster(profile=cluster_profile(n)), SECRETARY, f"bench-life-cluster-{n}")
        for n in range(lifecycles + 1)
    ]
    scores = [
        IndicatorScore(code=item.code, score=item.max_score)
        for item in load_catalogue(current_version_for(Level.BRONZE, datetime.now(UTC))).indicators
    ]
    task_queue = f"bench-life-{uuid.uuid4().hex[:8]}"
    with (
        EmbeddedTemporal(server_dir) as server,
        open_read_models(env, app, views_dir=views_dir) as models,
    ):
        client = await connect_client(server.address, server.namespace)
        models.catch_up()
        models.start()
        sampler = LagSampler(models.runner)
        async with build_worker(client, app, task_queue):
            # One lifecycle first, untimed: imports and caches warm up.
            await _lifecycle(client, app, task_queue, clusters[-1], scores)
            meter = CostMeter(env, views_dir, server.db_path, server.pid, models.runner)
            await asyncio.to_thread(meter.settle)
            before = meter.snapshot()
            sampler.start()
            with timed(server.pid) as run:
                case_ids = await bounded(
                    [partial(_lifecycle, client, app, task_queue, cluster, scores) for cluster in clusters[:-1]],
                    concurrency,
                )
            sampler.stop()
            await asyncio.to_thread(meter.settle)
            cost = Cost(len(case_ids), before, meter.snapshot())
        tally: Counter[str] = Counter()
        workflow_ids = [case_workflow_id(case_id) for case_id in case_ids]
        plans = [await lifecycle_plan(client, workflow_id, tally) for workflow_id in workflow_ids if shape]
    return run, sampler.figures(), plans, tally, cost


async def _baseline_run(server_dir: Path, plans: list[Plan], concurrency: int) -> Timed:
    """The plans replayed by MirrorWorkflow on a fresh dev server of their own."""
    task_queue = f"bench-mirror-{uuid.uuid4().hex[:8]}"
    with EmbeddedTemporal(server_dir) as server:
        client = await connect_client(server.address, server.namespace)
        async with mirror_worker(client, task_queue, ACTIVITY_THREADS):
            await _mirror(client, task_queue, plans[0])
            with timed(server.pid) as run:
                await bounded([partial(_mirror, client, task_queue, plan) for plan in plans], concurrency)
            return run


async def bounded(jobs: list[Callable[[], Awaitable[Any]]], concurrency: int) -> list[Any]:
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


def _register_expert(app: CertificationApp, n: int) -> UUID:
    profile = ExpertProfile(
        name=f"Bench Expert {n:02d}", country="DE", languages=["en"], certified_until=datetime(2100, 1, 1, tzinfo=UTC)
    )
    return registered(app, RegisterExpert(profile=profile), SECRETARY, f"bench-life-expert-{n}")


def _by(actor: str) -> Envelope:
    """A human step's envelope: who takes it, under a fresh idempotency key (the update id)."""
    return Envelope(actor=actor, key=uuid.uuid4().hex)


async def _lifecycle(
    client: Client, app: CertificationApp, task_queue: str, cluster_id: UUID, scores: list[IndicatorScore]
) -> UUID:
    """Application → label issued: the secretariat, the expert and the board, each step an update."""
    application = SubmitApplication(cluster_id=cluster_id, level=Level.BRONZE)
    envelope = Envelope(actor=f"cluster:{cluster_id}", key=f"apply-{cluster_id}")
    case_id = (await asyncio.to_thread(handle, app, cluster_id, application, envelope)).id
    await start_case_workflow(client, case_id, task_queue)
    workflow = case_handle(client, case_id)
    await execute_step(workflow, CaseWorkflow.screen, Screen(accepted=True), _by(SECRETARY))
    expert_id = await _proposed_expert(workflow)
    await execute_step(
        workflow,
        CaseWorkflow.respond_to_proposal,
        AnswerProposal(expert_id=expert_id, accept=True),
        _by(f"expert:{expert_id}"),
    )
    await execute_step(workflow, CaseWorkflow.record_agreement, RecordAgreement(agreed=True), _by(SECRETARY))
    await execute_step(
        workflow,
        CaseWorkflow.schedule_audit,
        # Now: the day the cluster agreed, before the compressed audit deadline, held when the assessment comes.
        ScheduleAudit(audit_date=datetime.now(UTC), place="the cluster office"),
        _by(SECRETARY),
    )
    await execute_step(
        workflow,
        CaseWorkflow.submit_assessment,
        SubmitAssessment(expert_id=expert_id, indicators=scores, report="Bench interview."),
        _by(f"expert:{expert_id}"),
    )
    await execute_step(
        workflow,
        CaseWorkflow.record_decision,
        RecordDecision(
            outcome=Outcome.AWARD,
            level=Level.BRONZE,
            rationale="All criteria met.",
        ),
        _by(BOARD),
    )
    final: CaseView = await workflow.result()
    if final.label_id is None:
        raise RuntimeError(f"case {case_id} ended {final.state} without a label")
    return case_id


async def _proposed_expert(handle: WorkflowHandle[Any, CaseView]) -> UUID:
    while True:
        view = await handle.query(CaseWorkflow.view)
        if view is not None and view.proposed_expert_id is not None:
            return view.proposed_expert_id
        await asyncio.sleep(WATCH_SECONDS)


async def _mirror(client: Client, task_queue: str, plan: Plan) -> None:
    handle = await client.start_workflow(
        MirrorWorkflow.run, plan, id=f"mirror-{uuid.uuid4().hex}", task_queue=task_queue
    )
    for update in range(1, plan.updates + 1):
        await handle.execute_update(MirrorWorkflow.step)
        if plan.waits_after(update):
            while not await handle.query(MirrorWorkflow.settled):
                await asyncio.sleep(WATCH_SECONDS)
    await handle.result()
