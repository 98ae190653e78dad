"""`GET /metrics` in Prometheus' text format: the HTTP requests this API answered, how long they took, and
the engine's state read from the stores at the scrape (interfaces/engine_metrics.py).

Open when no token is configured (development, a scraper on a private network); with
CLUSTERLABEL_METRICS_TOKEN, only to `Authorization: Bearer <that token>` — anyone else gets the same
401 whatever they sent, and no figure.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.process_collector import ProcessCollector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clusterlabel.interfaces.engine_metrics import PREFIX, engine_registry
from clusterlabel.interfaces.web.http_middleware import HttpMiddleware
from clusterlabel.projections.queries import ReadModels

METRICS_PATH = "/metrics"
# A path no route matched is counted under one label: every mistyped URL must not become a series.
UNMATCHED = "unmatched"
# From a quick page read to a step that waits for its workflow's update and activity.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A `_created` timestamp beside every counter and histogram doubles the series and no dashboard reads it.
disable_created_metrics()


class HttpMetrics:
    """The counter and the latency histogram of the API's requests, labelled by route template."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            f"{PREFIX}_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            f"{PREFIX}_http_request_duration_seconds",
            "Time from a request's arrival to its answer's start, by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(method, route).observe(seconds)


def api_registry(models: ReadModels) -> tuple[CollectorRegistry, HttpMetrics]:
    """The API's own registry: the engine's state, this process's CPU and memory, and its requests."""
    registry = engine_registry(models)
    ProcessCollector(registry=registry)
    return registry, HttpMetrics(registry)


class CountRequests(HttpMiddleware):
    """ASGI middleware, outermost: counts every answer, a refusal by an inner middleware (413, 422) too."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        super().__init__(app)
        self.metrics = metrics

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500  # unless an answer starts: an exception that escapes is the server's 500

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            self.metrics.observe(scope["method"], route_of(scope), status, time.perf_counter() - started)


def route_of(scope: Scope) -> str:
    """The template of the route that answered (`/cases/{case_id}`), set on the scope by the router."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


def metrics_endpoint(registry: CollectorRegistry, token: str | None) -> Callable[[Request], Awaitable[Response]]:
    """The /metrics handler over `registry`, asking for `token` when one is set."""

    async def metrics(request: Request) -> Response:
        if token is not None and not _bearer_is(request, token):
            return JSONResponse(
                {"detail": "metrics need the metrics token: Authorization: Bearer <CLUSTERLABEL_METRICS_TOKEN>"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        body = await run_in_threadpool(generate_latest, registry)  # the stores are read: off the event loop
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return metrics


def _bearer_is(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
