"""The Temporal worker: runs the certification workflows and their activities in one process.

`build_worker` assembles it for a client and an application (tests use it directly); `run_worker`
is what `clusterlabel worker` runs: settings → event store, Temporal connection → worker until stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from uuid import UUID

from temporalio.client import Client
from temporalio.worker import PollerBehaviorAutoscaling, UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.certification import CertificationActivities
from clusterlabel.activities.complaints import ComplaintActivities
from clusterlabel.activities.delivery import DeliveryActivities, Mailroom
from clusterlabel.activities.digest import DigestActivities, DigestSource
from clusterlabel.activities.webhook_delivery import WebhookActivities, WebhookPost
from clusterlabel.interfaces.bootstrap import (
    build_app,
    connect_temporal,
    open_complainants,
    open_people,
    open_views,
    open_webhook_secrets,
)
from clusterlabel.interfaces.digest import digest_source, start_digest
from clusterlabel.interfaces.logs import configure_logging, get_logger
from clusterlabel.interfaces.mail import open_mailroom
from clusterlabel.interfaces.settings import (
    DEFAULT_WORKER_CACHED_WORKFLOWS,
    DEFAULT_WORKFLOW_SANDBOX,
    Settings,
    WorkflowSandbox,
)
from clusterlabel.interfaces.tracing import configure_tracing
from clusterlabel.workflows.case import CaseWorkflow
from clusterlabel.workflows.common import ACTIVITY_TIMEOUT
from clusterlabel.workflows.complaint import ComplaintWorkflow
from clusterlabel.workflows.delivery import DeliveryWorkflow
from clusterlabel.workflows.digest import DigestWorkflow
from clusterlabel.workflows.label import LabelWorkflow
from clusterlabel.workflows.outbox_relay import OutboxRelay
from clusterlabel.workflows.reconcile import ReconcileWorkflow
from clusterlabel.workflows.reconciler import Reconciler, ensure_reconcile_schedule, reconcile_now
from clusterlabel.workflows.starter import (  # re-exported: the entry points other interfaces call
    case_handle,
    execute_step,
    label_handle,
    notify_experts_changed,
    start_case_workflow,
    start_label_workflow,
)
from clusterlabel.workflows.webhook_delivery import WebhookDeliveryWorkflow

__all__ = [
    "WORKFLOWS",
    "build_worker",
    "case_handle",
    "execute_step",
    "label_handle",
    "notify_experts_changed",
    "run_worker",
    "start_case_workflow",
    "start_delivering",
    "start_label_workflow",
    "start_reconciling",
]

WORKFLOWS: list[type[Any]] = [
    CaseWorkflow,
    LabelWorkflow,
    ReconcileWorkflow,
    DeliveryWorkflow,
    WebhookDeliveryWorkflow,
    DigestWorkflow,
    ComplaintWorkflow,
]
# eventsourcing commands block on the database: a thread each, a few at a time per process. The
# commands run as local activities, and as server-side ones when the local tries are spent; the
# worker takes this many of each at once and has a thread for every one, so that none waits in a
# queue while its start-to-close timeout runs.
ACTIVITY_THREADS = 8
# On SIGTERM the worker stops polling and gives the activities it is running this long to finish, so
# their results still reach Temporal; the platforms wait longer before they SIGKILL (deploy/: k8s
# terminationGracePeriodSeconds, compose stop_grace_period).
GRACEFUL_SHUTDOWN = ACTIVITY_TIMEOUT + timedelta(seconds=5)
# As many workflow-task polls as the server's backlog calls for (it says so in each answer), not the
# SDK's fixed five: with five, a worker opening 3,000 cases sat at half a core waiting on its polls
# while the queue held tasks, and the cases opened at ~45 a second; scaled, at 75-90, both processes busy.
# At most 100 (the SDK's default, measured so, and said here): the 8 workers the autoscaler allows hold
# up to 800 long polls on the Temporal frontend at the busiest.
WORKFLOW_TASK_POLLERS = PollerBehaviorAutoscaling(maximum=100)


def build_worker(
    client: Client,
    app: CertificationApp,
    task_queue: str,
    *,
    activity_threads: int = ACTIVITY_THREADS,
    cached_workflows: int = DEFAULT_WORKER_CACHED_WORKFLOWS,
    sandbox: WorkflowSandbox = DEFAULT_WORKFLOW_SANDBOX,
    workload: Callable[[], Mapping[UUID, int]] | None = None,
    locked_out: Callable[[], Collection[UUID]] | None = None,
    mailroom: Mailroom | None = None,
    webhooks: WebhookPost | None = None,
    digest: DigestSource | None = None,
    extra_workflows: Sequence[type[Any]] = (),
) -> Worker:
    """A worker for the certification workflows and activities on `task_queue`.

    `workload` (open assignments per expert, from the read models) balances expert proposals; nobody
    `locked_out` names (experts whose every account is deactivated, from the read models) is proposed.
    `mailroom` (addresses, the way out) lets it send the outbox's messages. `webhooks` (the secrets
    that sign) lets it deliver to partners' webhooks. `digest` (what the secretariat's digest reports,
    from the read models) lets it run the digest's activity. A worker given none of one takes none of
    those activities, which wait for a worker that has it.
    No exception fails a workflow from inside its code: a bug there (a non-deterministic change, or with
    `checked` a sandbox violation such as datetime.now()) fails the workflow *task*, which Temporal retries
    while the workflow stays Running with its timers and state intact, until a fixed worker is
    deployed. Failing the workflow instead would end a label's expiry timers for good. The
    reconciler reports such stuck workflows (workflows/reconciler.py).
    """
    activities = [
        *CertificationActivities(app, workload, locked_out).all(),
        *ComplaintActivities(app).all(),
        Reconciler(client, app, task_queue).activity,
    ]
    if mailroom is not None:
        activities += DeliveryActivities(app, mailroom).all()
    if webhooks is not None:
        activities += WebhookActivities(app, webhooks).all()
    if digest is not None:
        activities += DigestActivities(app, digest).all()
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[*WORKFLOWS, *extra_workflows],
        activities=activities,
        # A thread for each activity the worker may run at once, local or server-side.
        activity_executor=ThreadPoolExecutor(max_workers=2 * activity_threads, thread_name_prefix="activity"),
        max_concurrent_activities=activity_threads,
        max_concurrent_local_activities=activity_threads,
        max_cached_workflows=cached_workflows,
        workflow_task_poller_behavior=WORKFLOW_TASK_POLLERS,
        workflow_runner=workflow_runner(sandbox),
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )


def workflow_runner(sandbox: WorkflowSandbox) -> WorkflowRunner:
    """How the worker runs the workflow code (CLUSTERLABEL_WORKFLOW_SANDBOX): `off` or `checked`.

    `checked`, Temporal's default, imports the workflow modules afresh inside its sandbox for every
    workflow run (a new case, a label, a replay after eviction), so that the sandbox refuses a
    wall-clock read, randomness or I/O from workflow code the moment it runs. Here that costs ~40 ms
    of CPU a run for the import, and the sandbox's own step at every payload (a code string compiled
    and run to find its serialization context): the bench's process spent 0.24-0.25 CPU seconds a
    lifecycle `checked`, 0.10-0.14 `off` (full runs of `make bench`, README "Figures"). Passing our modules through would save the import but
    also switch off the checks (a passed-through module's code calls the real clock), so `off` runs
    no sandbox at all: the modules imported once, the workflow classes shared by their runs (which
    keep their state on the instance). What keeps the workflow code deterministic then is the
    workflow tests, which run `checked` (tests/workflows/harness.py; the crash tests' worker process
    runs the default), replays of recorded histories (the Replayer checks), and a static test of the
    workflow modules (tests/unit/test_workflow_determinism.py).
    """
    return SandboxedWorkflowRunner() if sandbox == "checked" else UnsandboxedWorkflowRunner()


async def start_reconciling(client: Client, task_queue: str, every: timedelta) -> None:
    """Create (or update) the reconciliation schedule and run it once now, as a worker starts.

    A failure is logged, not fatal: the worker still runs every workflow, and the next worker to
    start (or `clusterlabel reconcile`) tries again."""
    log = get_logger(__name__, task_queue=task_queue)
    try:
        await ensure_reconcile_schedule(client, task_queue, every)
        await reconcile_now(client)
    except Exception as error:
        log.error("reconciliation not scheduled", error=str(error) or type(error).__name__)
        return
    log.info("reconciliation scheduled", every=str(every))


def start_delivering(client: Client, app: CertificationApp, task_queue: str) -> asyncio.Task[None]:
    """Relay every message queued from now on to its delivery workflow, in the background (cancel the
    task to stop). Called before start_reconciling: the reconciler starts what was queued before."""
    relay = OutboxRelay(client, app, task_queue)
    return asyncio.create_task(relay.run(), name="clusterlabel-outbox-relay")


async def stop_delivering(relay: asyncio.Task[None] | None) -> None:
    if relay is not None:
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay


@contextlib.contextmanager
def _sigterm() -> Iterator[asyncio.Event]:
    """An event that SIGTERM sets (how Kubernetes and compose stop a container); Ctrl-C cancels instead.
    Installed before the worker starts anything, so a SIGTERM during start-up is a clean stop too."""
    terminated = asyncio.Event()
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGTERM, terminated.set)
    except (NotImplementedError, RuntimeError):  # not the main thread: only cancellation stops us
        pass
    try:
        yield terminated
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGTERM)


async def run_worker(settings: Settings) -> None:
    """Run the worker until cancelled (Ctrl-C, SIGTERM), then shut it and an embedded server down."""
    configure_logging(settings.log_format, settings.log_level)
    configure_tracing(settings, "clusterlabel-worker")
    log = get_logger(__name__, task_queue=settings.task_queue)
    app = build_app(settings)
    client, server = await connect_temporal(settings)
    # Read only, to balance proposals and address messages: whichever process runs the projections keeps
    # them current.
    models = open_views(settings, app)
    people = open_people(settings)
    webhook_secrets = open_webhook_secrets(settings)
    complainants = open_complainants(settings)
    relay = None
    try:
        mailroom = open_mailroom(settings, models, people, complainants)
        worker = build_worker(
            client,
            app,
            settings.task_queue,
            cached_workflows=settings.worker_cached_workflows,
            sandbox=settings.workflow_sandbox,
            workload=models.expert_workload,
            locked_out=models.experts_locked_out,
            mailroom=mailroom,
            webhooks=WebhookPost(webhook_secrets),
            digest=digest_source(models),
        )
        with _sigterm() as terminated:
            async with worker:
                log.info("worker running", temporal=server.address if server else settings.temporal_address)
                log.info("messages go out", to=mailroom.transport.where(), channel=mailroom.transport.channel)
                relay = start_delivering(client, app, settings.task_queue)
                await start_reconciling(client, settings.task_queue, settings.reconcile_every)
                await start_digest(client, settings)
                await terminated.wait()
                log.info("worker stopping")  # leaving the block shuts down: running activities get GRACEFUL_SHUTDOWN
    except asyncio.CancelledError:
        log.info("worker stopping")
    finally:
        await stop_delivering(relay)
        models.close()
        people.close()
        webhook_secrets.close()
        complainants.close()
        if server is not None:
            server.stop()
