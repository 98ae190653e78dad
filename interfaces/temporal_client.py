"""Temporal clients as this project connects them: the pydantic data converter, TLS from the settings,
the search attributes the workflows use registered, and the embedded server started when no cluster
is configured."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from clusterlabel.interfaces.temporal_server import SEARCH_ATTRIBUTES, EmbeddedTemporal, TemporalServerError
from clusterlabel.workflows.payloads import DATA_CONVERTER
from clusterlabel.workflows.tracing import StepTracingInterceptor

if TYPE_CHECKING:
    from clusterlabel.interfaces.settings import Settings


async def connect_client(
    address: str, namespace: str, tls: TLSConfig | bool = False, runtime: Runtime | None = None
) -> Client:
    """A client using the pydantic data converter, as every client in this project must, and tracing:
    each call carries its span to the workflow and on to its activities (a worker built on this client
    takes the same interceptor). Without a tracer provider configured the spans cost next to nothing."""
    return await Client.connect(
        address,
        namespace=namespace,
        tls=tls,
        data_converter=DATA_CONVERTER,
        interceptors=[StepTracingInterceptor()],
        runtime=runtime,
    )


# One runtime per metrics port and process: the SDK's runtime binds the port when it is created.
_RUNTIMES: dict[int, Runtime] = {}


def sdk_runtime(metrics_port: int | None) -> Runtime | None:
    """A Temporal runtime whose own Prometheus endpoint serves the SDK's metrics (worker task slots, poll
    and schedule-to-start latency, workflow and activity outcomes) on every interface at `metrics_port`;
    None (the SDK's default runtime, no endpoint) without a port."""
    if metrics_port is None:
        return None
    if metrics_port not in _RUNTIMES:
        prometheus = PrometheusConfig(
            bind_address=f"0.0.0.0:{metrics_port}",
            counters_total_suffix=True,
            unit_suffix=True,
            durations_as_seconds=True,
        )
        _RUNTIMES[metrics_port] = Runtime(telemetry=TelemetryConfig(metrics=prometheus))
    return _RUNTIMES[metrics_port]


async def ensure_search_attributes(client: Client, namespace: str) -> None:
    """Register whichever of SEARCH_ATTRIBUTES the namespace lacks; safe to call any number of times."""
    missing = await _missing_search_attributes(client, namespace)
    if not missing:
        return
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    except RPCError as error:
        # Another process may have registered them between our list and add.
        if error.status != RPCStatusCode.ALREADY_EXISTS:
            raise
    still_missing = await _missing_search_attributes(client, namespace)
    if still_missing:
        raise TemporalServerError(
            f"search attributes {sorted(still_missing)} are missing on namespace {namespace!r} after registering them"
        )


async def _missing_search_attributes(client: Client, namespace: str) -> dict[str, IndexedValueType.ValueType]:
    listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    return {name: kind for name, kind in SEARCH_ATTRIBUTES.items() if name not in listed.custom_attributes}


def tls_config(settings: Settings) -> TLSConfig | bool:
    """TLS from the settings' files: mTLS with cert and key, server-only TLS with just a CA, else none."""
    if settings.temporal_tls_cert is None and settings.temporal_tls_ca is None:
        return False
    return TLSConfig(
        server_root_ca_cert=_read(settings.temporal_tls_ca),
        client_cert=_read(settings.temporal_tls_cert),
        client_private_key=_read(settings.temporal_tls_key),
    )


def _read(path: Path | None) -> bytes | None:
    return None if path is None else path.read_bytes()


async def temporal_client_for(settings: Settings) -> tuple[Client, EmbeddedTemporal | None]:
    """Connect as the settings say: the embedded server (started here) or the given cluster.

    The caller owns the returned server and must stop() it (atexit does so at a normal exit anyway).
    """
    server: EmbeddedTemporal | None = None
    runtime = sdk_runtime(settings.worker_metrics_port)
    if settings.temporal_address is None:
        server = EmbeddedTemporal(
            settings.ensure_data_dir(),
            namespace=settings.temporal_namespace,
            ui=settings.temporal_ui,
            ui_port=settings.temporal_ui_port,
        )
        # The blocking wait would stall this loop; run it on a worker thread instead.
        await asyncio.to_thread(server.start)
        client = await connect_client(server.address, settings.temporal_namespace, runtime=runtime)
    else:
        client = await connect_client(
            settings.temporal_address, settings.temporal_namespace, tls_config(settings), runtime=runtime
        )
    try:
        await ensure_search_attributes(client, settings.temporal_namespace)
    except BaseException:
        if server is not None:
            server.stop()
        raise
    return client, server
