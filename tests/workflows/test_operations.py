"""What an operator sees of one step on the real engine (embedded Temporal, worker, SQLite store): its trace,
from the HTTP request through the workflow update to the activity and the event store's append, read with
OpenTelemetry's in-memory exporter; and the Temporal SDK's own metrics on the worker's Prometheus port."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from clusterlabel.interfaces.engine import Engine
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.temporal_server import free_port
from clusterlabel.interfaces.web.app import create_app
from tests.e2e.driver import cluster_body, expert_body
from tests.workflows.harness import compressed_policy, run

TOKEN = "operations-admin-token"


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    """Every span this process ends, from here on (OpenTelemetry keeps the first provider a process sets)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


def named(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    found = [span for span in spans if span.name == name]
    assert found, f"no span {name!r} among {sorted({span.name for span in spans})}"
    return found[0]


def parent_of(span: ReadableSpan, spans: list[ReadableSpan]) -> ReadableSpan | None:
    return next((other for other in spans if span.parent and other.context.span_id == span.parent.span_id), None)


def ancestors(span: ReadableSpan, spans: list[ReadableSpan]) -> list[str]:
    chain, current = [], parent_of(span, spans)
    while current is not None:
        chain.append(current.name)
        current = parent_of(current, spans)
    return chain


def test_a_screening_is_one_trace_from_its_request_to_the_event_store_and_the_worker_serves_sdk_metrics(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    metrics_port = free_port()

    async def scenario() -> tuple[list[ReadableSpan], str, str]:
        settings = Settings(
            data_dir=tmp_path, admin_token=TOKEN, task_queue="operations", temporal_ui=False,
            worker_metrics_port=metrics_port,
        )  # fmt: skip
        engine = Engine(settings, policy=compressed_policy(), with_projections=False)
        await engine.start_temporal()
        transport = httpx.ASGITransport(app=create_app(engine.services, pages=False))
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://test", headers={"Authorization": f"Bearer {TOKEN}"}
            ) as api:
                cluster = (await api.post("/clusters", json=cluster_body())).json()["cluster_id"]
                await api.post("/experts", json=expert_body())
                applied = await api.post("/applications", json={"cluster_id": cluster, "level": "bronze"})
                case_id = applied.json()["case_id"]
                spans.clear()
                screened = await api.post(f"/cases/{case_id}/screening", json={"accepted": True, "reason": "ok"})
                assert screened.status_code == 200, screened.text
                ended = list(spans.get_finished_spans())
                api_metrics = (await api.get("/metrics")).text
            async with httpx.AsyncClient() as scraper:
                sdk_metrics = (await scraper.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
            return ended, api_metrics, sdk_metrics
        finally:
            await engine.stop()

    ended, api_metrics, sdk_metrics = run(scenario())

    request = named(ended, "POST /cases/{case_id}/screening")
    store = [span for span in ended if span.name == "event store append"]
    in_the_step = [span for span in store if span.context.trace_id == request.context.trace_id]
    assert in_the_step, "no event-store append in the request's trace"
    assert ancestors(in_the_step[0], ended) == [
        "RunActivity:run_case_command",
        "StartActivity:run_case_command",
        "StartWorkflowUpdate:screen",
        "fastapi.endpoint",
        "POST /cases/{case_id}/screening",
    ]
    assert named(ended, "HandleUpdate:screen").context.trace_id == request.context.trace_id
    assert in_the_step[0].attributes and in_the_step[0].attributes["clusterlabel.events_appended"] >= 1

    families = {family.name: family for family in text_string_to_metric_families(sdk_metrics)}
    slots = families["temporal_worker_task_slots_available"]
    assert {sample.labels["task_queue"] for sample in slots.samples} == {"operations"}
    assert "temporal_workflow_task_schedule_to_start_latency_seconds" in families
    assert "temporal_activity_execution_latency_seconds" in families or any(
        name.startswith("temporal_local_activity") for name in families
    )

    # The dashboard and the alert rules ask only for series these scrapes hold, so they cannot drift apart.
    exported = sample_names(api_metrics) | sample_names(sdk_metrics)
    for used_by, names in (("dashboard", dashboard_metrics()), ("alerts", alert_metrics())):
        assert names, f"the {used_by} names no metric"
        assert names <= exported, f"the {used_by} uses metrics nothing exports: {sorted(names - exported)}"


# ---- deploy/: the Grafana dashboard and the Prometheus alert rules ------------------------------------

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
OUR_METRIC = re.compile(r"\b(?:clusterlabel|temporal)_[a-z0-9_]+\b")


def sample_names(scraped: str) -> set[str]:
    return {sample.name for family in text_string_to_metric_families(scraped) for sample in family.samples}


def dashboard_metrics() -> set[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "clusterlabel.json").read_text(encoding="utf-8"))
    panels = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    assert all(panel["targets"] and all(target["expr"] for target in panel["targets"]) for panel in panels)
    return {name for panel in panels for target in panel["targets"] for name in OUR_METRIC.findall(target["expr"])}


def alert_metrics() -> set[str]:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yaml").read_text(encoding="utf-8"))
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    for alert in alerts:
        assert {"alert", "expr"} <= set(alert) and alert["labels"]["severity"] in ("warning", "critical"), alert
        assert alert["annotations"]["summary"], alert["alert"]
    return {name for alert in alerts for name in OUR_METRIC.findall(alert["expr"])}
