"""`clusterlabel projections run`: keep every view current, in a process of its own.

Scaled out, the API serves reads and the workers write events; this process follows the log
(woken by PostgreSQL's NOTIFY, polling on SQLite); with `--views` it keeps only some views, so
that several runners can share the work. A second runner on the same view is safe: each view's batch and
its tracking commit together under the view's lock, so two runners never apply an event twice.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from types import FrameType
from wsgiref.simple_server import WSGIServer

from clusterlabel.interfaces.bootstrap import build_app, open_views
from clusterlabel.interfaces.engine_metrics import engine_registry, serve_metrics
from clusterlabel.interfaces.logs import configure_logging, get_logger
from clusterlabel.interfaces.settings import Settings
from clusterlabel.projections.queries import ReadModels

LAG_REPORT_SECONDS = 10.0


def run_projections(settings: Settings, views: Sequence[str] | None = None) -> int:
    """Follow the log until SIGINT or SIGTERM, for every view or only `views`; report the lag now and then."""
    configure_logging(settings.log_format, settings.log_level)
    log = get_logger(__name__, store=settings.store())
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, request_stop)
    with open_views(settings, build_app(settings), only=views) as models:
        models.start()
        metrics = serve_runner_metrics(settings, models)
        log.info("projections running", lag=models.lag())
        while not stop.wait(LAG_REPORT_SECONDS):
            log.info("projections lag", lag=models.lag())
        if metrics is not None:
            metrics.shutdown()
            metrics.server_close()
        models.stop()
    log.info("projections stopped")
    return 0


def serve_runner_metrics(settings: Settings, models: ReadModels) -> WSGIServer | None:
    """This runner's views, their lag and parking, on its own /metrics: a runner split off the API may keep
    views the API's process does not open (`--views`), and a scraper can watch it apart."""
    if settings.projections_metrics_port is None:
        return None
    return serve_metrics(settings.projections_metrics_port, engine_registry(models))
