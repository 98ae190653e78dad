"""`GET /metrics` as Prometheus scrapes it from the API: the requests answered by route template, each view's
lag behind the log, the parked views and the outbox, read from a real SQLite store at each scrape."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.open_records import waiting_messages
from clusterlabel.interfaces.projection_runner import serve_runner_metrics
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.temporal_server import free_port
from clusterlabel.interfaces.web.app import create_app
from clusterlabel.interfaces.web.services import Services
from clusterlabel.projections.factory import open_read_models
from clusterlabel.projections.queries import ReadModels
from tests.lifecycle import Clock, Lifecycle
from tests.stores import sqlite_env, sqlite_services

METRICS_TOKEN = "scraper-token-0123456789"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@dataclass
class Engine:
    app: CertificationApp
    models: ReadModels
    svc: Services


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    app = CertificationApp(env=sqlite_env(tmp_path), clock=Clock())
    Lifecycle(app).labelled()  # a label issued: its message to the cluster is queued in the outbox
    models = open_read_models(sqlite_env(tmp_path), app)  # not caught up yet: every view is behind
    svc = sqlite_services(tmp_path, app, models, "metrics-tests")
    yield Engine(app, models, svc)
    svc.close_stores()
    models.close()
    app.close()


class Api:
    """The app as an HTTP client reaches it, over its ASGI interface."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        async def get() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await client.get(path, headers=headers)

        return asyncio.run(get())


def scrape(client: Api, **headers: str) -> Samples:
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    assert "# TYPE clusterlabel_http_requests_total counter" in answer.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def by_label(samples: Samples, name: str, label: str) -> dict[str, float]:
    return {dict(labels)[label]: value for (sample, labels), value in samples.items() if sample == name}


def test_each_view_lags_the_log_by_the_events_it_has_not_applied_until_it_catches_up(engine: Engine) -> None:
    client = Api(create_app(engine.svc, pages=False))
    head = engine.app.recorder.max_notification_id()

    behind = by_label(scrape(client), "clusterlabel_projection_lag_events", "view")
    engine.models.catch_up()
    caught_up = by_label(scrape(client), "clusterlabel_projection_lag_events", "view")

    assert head and set(behind) == set(engine.models.views)
    assert set(behind.values()) == {head}
    assert set(caught_up) == set(behind) and set(caught_up.values()) == {0}


def test_requests_are_counted_by_route_template_and_status_and_timed(engine: Engine) -> None:
    client = Api(create_app(engine.svc, pages=False))
    case = "/cases/00000000-0000-0000-0000-000000000001"
    for _ in range(3):
        assert client.get(case).status_code == 401
    assert client.get("/no/such/page").status_code == 404

    samples = scrape(client)

    counted = {
        (dict(labels)["route"], dict(labels)["status"]): value
        for (name, labels), value in samples.items()
        if name == "clusterlabel_http_requests_total" and dict(labels)["method"] == "GET"
    }
    assert counted[("/cases/{case_id}", "401")] == 3
    assert counted[("unmatched", "404")] == 1
    assert not any(case in route or "/no/such" in route for route, _ in counted)  # no id becomes a series
    timed = samples[
        (
            "clusterlabel_http_request_duration_seconds_count",
            frozenset({"method": "GET", "route": "/cases/{case_id}"}.items()),
        )
    ]
    assert timed == 3


def test_the_outbox_depth_counts_the_messages_still_queued_in_the_log(engine: Engine) -> None:
    engine.models.catch_up()
    client = Api(create_app(engine.svc, pages=False))

    samples = scrape(client)

    queued = by_label(samples, "clusterlabel_outbox_queued", "kind")
    failed = by_label(samples, "clusterlabel_deliveries_failed", "kind")
    assert queued == {"message": len(waiting_messages(engine.app)), "webhook": 0}
    assert queued["message"] > 0
    assert failed == {"message": 0, "webhook": 0}
    assert set(by_label(samples, "clusterlabel_projection_parked", "view").values()) == {0}
    assert samples[("clusterlabel_stores_up", frozenset())] == 1


def test_with_a_metrics_token_only_its_bearer_reads_the_metrics(engine: Engine) -> None:
    engine.svc.metrics_token = METRICS_TOKEN
    client = Api(create_app(engine.svc, pages=False))

    refused = [client.get("/metrics"), client.get("/metrics", headers={"Authorization": "Bearer wrong"})]

    assert [answer.status_code for answer in refused] == [401, 401]
    assert all("clusterlabel_" not in answer.text for answer in refused)
    assert scrape(client, Authorization=f"Bearer {METRICS_TOKEN}")


def test_a_projection_runner_of_its_own_serves_its_views_lag_on_its_metrics_port(
    engine: Engine, tmp_path: Path
) -> None:
    port = free_port()
    assert serve_runner_metrics(Settings(data_dir=tmp_path), engine.models) is None  # no port: nothing served
    server = serve_runner_metrics(Settings(data_dir=tmp_path, projections_metrics_port=port), engine.models)
    assert server is not None
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    finally:
        server.shutdown()
        server.server_close()

    families = {family.name: family for family in text_string_to_metric_families(answer.text)}
    lag = {sample.labels["view"]: sample.value for sample in families["clusterlabel_projection_lag_events"].samples}
    assert set(lag) == set(engine.models.views)
    assert set(lag.values()) == {engine.app.recorder.max_notification_id()}
