"""The engine's state as Prometheus metrics: each view's lag and whether it is parked, the outbox's depth
and the deliveries that failed.

Computed at each scrape from the stores (the event log's head, each view's tracked position, two counts
in the outbox's views): a handful of indexed queries, always as fresh as the stores, and the same from
whichever process answers — the API, or `projections run` on its own port. The outbox's figures come
from its read models, so they are as current as those views (their lag is beside them).
"""

from __future__ import annotations

from collections.abc import Iterator
from wsgiref.simple_server import WSGIServer

import structlog
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from clusterlabel.projections.queries import ReadModels

log = structlog.stdlib.get_logger(__name__)

PREFIX = "clusterlabel"


class EngineState(Collector):
    """Reads the read models' stores when scraped; `clusterlabel_stores_up` 0 says they could not be read."""

    def __init__(self, models: ReadModels) -> None:
        self.models = models

    def collect(self) -> Iterator[Metric]:
        try:
            metrics = [self._lag(), self._parked(), *self._outbox()]
        except Exception:  # the store is away: say so in a metric an alert can watch, and answer the rest
            log.warning("metrics: cannot read the stores", exc_info=True)
            yield _gauge("stores_up", "1 when the event log and the views' stores answered this scrape", 0)
            return
        yield _gauge("stores_up", "1 when the event log and the views' stores answered this scrape", 1)
        yield from metrics

    def _lag(self) -> Metric:
        lag = GaugeMetricFamily(
            f"{PREFIX}_projection_lag_events", "Events each view is behind the event log's head", labels=["view"]
        )
        for view, behind in sorted(self.models.lag().items()):
            lag.add_metric([view], behind)
        return lag

    def _parked(self) -> Metric:
        parked = GaugeMetricFamily(
            f"{PREFIX}_projection_parked",
            "1 for a view stopped on an event it cannot apply (until rebuilt), else 0",
            labels=["view"],
        )
        stopped = {view.view for view in self.models.parked()}
        for view in sorted(self.models.views):
            parked.add_metric([view], 1 if view in stopped else 0)
        return parked

    def _outbox(self) -> list[Metric]:
        queued = GaugeMetricFamily(
            f"{PREFIX}_outbox_queued", "Messages and webhook deliveries waiting to be delivered", labels=["kind"]
        )
        failed = GaugeMetricFamily(
            f"{PREFIX}_deliveries_failed",
            "Messages and webhook deliveries whose every try failed (a message may be queued again)",
            labels=["kind"],
        )
        for family, counts in ((queued, self.models.outbox("queued")), (failed, self.models.outbox("failed"))):
            for kind, count in sorted(counts.items()):
                family.add_metric([kind], count)
        return [queued, failed]


def _gauge(name: str, documentation: str, value: float) -> Metric:
    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, value=value)


def engine_registry(models: ReadModels) -> CollectorRegistry:
    """A registry of the engine's state alone (each app and runner its own: tests build several per process)."""
    registry = CollectorRegistry()
    registry.register(EngineState(models))
    return registry


def serve_metrics(port: int, registry: CollectorRegistry, host: str = "0.0.0.0") -> WSGIServer:
    """/metrics on `port` from a thread of its own; shutdown() the server returned to stop it."""
    server, _ = start_http_server(port, addr=host, registry=registry)
    log.info("metrics served", url=f"http://{host}:{port}/metrics")
    return server
