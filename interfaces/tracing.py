"""OpenTelemetry traces of one step, from the HTTP request through the workflow update to the activity and
the event store's append, exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set.

The spans are made everywhere (FastAPI's own request spans, Temporal's TracingInterceptor on every client and
worker, the application's save); without an exporter configured no provider is installed and they are
OpenTelemetry's no-op spans. The exporter reads the standard OTEL_EXPORTER_OTLP_* variables itself
(endpoint, headers, timeout), and OTEL_SERVICE_NAME overrides the service's name.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from clusterlabel.interfaces.logs import get_logger
from clusterlabel.interfaces.settings import Settings

log = get_logger(__name__)


def configure_tracing(settings: Settings, service: str) -> TracerProvider | None:
    """Install a provider exporting this process's spans as `service`, if an OTLP endpoint is configured.

    Once per process (OpenTelemetry keeps the first provider); the provider flushes at exit."""
    if settings.otlp_endpoint is None:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    log.info("traces exported", endpoint=settings.otlp_endpoint, service=service)
    return provider
